// Package checkpoint is the fourth stage: after the compress Map it verifies
// every shard's output and seals the job's manifest.
//
// Invariant: a sealed manifest exists only if every compressed shard still
// matches its record (whose frames compress restored and compared with
// their pages before recording) and the records cover the plan's pages in
// order; finalize publishes from the sealed manifest only.
package checkpoint
