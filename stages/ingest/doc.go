// Package ingest is the first stage: it copies the source onto the mount
// and fixes the job's settings.
//
// Invariant: jobs/<job>/source.pdf is recorded only once it and job.json
// are durable and it matches the bytes that were read, and
// jobs/<job>/job.json, once written, is never changed by a later run of the
// same job.
package ingest
