// Package source resolves the "source" of an execution input into something
// ingest can copy onto the mount.
//
// Invariant: an Object's JobID depends only on the source's identity (a
// local file's content; a bucket object's bucket, key and version), and a
// source name is never used as a path on the mount.
package source
