// Package compress is the third stage, run once per shard by the state
// machine's Map: it turns a shard's one-page PDFs into standalone zstd
// frames that share the job's dictionary.
//
// Invariant: a compressed shard is recorded only once durable, each of its
// frames restores to exactly the page the split record describes, and the
// same shard, dictionary and level always give the same bytes.
package compress
