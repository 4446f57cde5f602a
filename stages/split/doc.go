// Package split is the second stage: it parses the source once per worker,
// writes the objects two or more pages share once (the shared-object table,
// and from it the compression dictionary), and cuts the document into
// one-page PDFs grouped in shards, each page kept as a recipe: its own
// bytes, with references into the table where the shared objects go.
//
// Invariant: the plan, the table, the dictionary and every shard file are recorded in
// the job's checkpoint journal only once durable, and are byte-for-byte
// determined by the source and the job's settings; a shard whose record
// verifies is never redone.
package split
