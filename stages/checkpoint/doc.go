// Package checkpoint is the fourth stage: after the compress Map it verifies
// every shard's output and seals the job's manifest.
//
// Invariant: a sealed manifest exists only if every page it names was
// restored from its compressed frame with the job's dictionary and matched
// the checksum of the page split from the source; finalize publishes from
// the sealed manifest only.
package checkpoint
