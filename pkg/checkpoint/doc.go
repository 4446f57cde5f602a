// Package checkpoint is the journal of finished work in a job directory.
//
// Invariant: a record counts as done only while the file it names has the
// recorded size and SHA-256, and every use of a record checks that first
// (Verify, ReadVerified, Read). Anything else is redone, which makes every
// stage idempotent: retries, redrives, duplicate triggers and replays are
// all safe. It also lets a record be written beside its file instead of
// after it (WriteFile): after a crash, a record whose file did not become
// durable names a file that is missing or differs, and its unit is redone.
package checkpoint
