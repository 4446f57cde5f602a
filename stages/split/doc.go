// Package split is the second stage: it parses the source once per worker,
// cuts it into one-page PDFs grouped in shards, and extracts the resources
// the pages share into a compression dictionary.
//
// Invariant: the plan, the dictionary and every shard file are recorded in
// the job's checkpoint journal only once durable, and are byte-for-byte
// determined by the source and the job's settings; a shard whose record
// verifies is never redone.
package split
