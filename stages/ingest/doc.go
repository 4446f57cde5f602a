// Package ingest is the first stage: it copies the source onto the mount
// and fixes the job's settings.
//
// Invariant: jobs/<job>/source.pdf is recorded only once it is durable and
// matches the bytes that were read (its record and job.json are then
// written together, and the record is trusted only where job.json exists), and jobs/<job>/job.json, once written,
// is never changed by a later run of the same job.
package ingest
