// Package trigger starts one execution per uploaded object.
//
// Invariant: an object (bucket, key, and version ID or else ETag) always
// maps to the same execution name, jobfs.ObjectJobID, and the same input, so
// S3's at-least-once deliveries start it at most once: a duplicate is
// ExecutionAlreadyExists, which counts as success.
package trigger
