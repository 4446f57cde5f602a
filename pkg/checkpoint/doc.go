// Package checkpoint is the journal of finished work in a job directory.
//
// Invariant: a record exists only for an output that was already durable
// when the record was written, and a record counts as done only while the
// file it names still has the recorded size and SHA-256. Anything else is
// redone, which makes every stage idempotent: retries, redrives, duplicate
// triggers and replays are all safe.
package checkpoint
