// Package compress is the third stage, run once per shard by the state
// machine's Map: it assembles each one-page PDF of a shard from its recipe
// and the job's shared-object table, and compresses it into a standalone
// zstd frame that shares the job's dictionary.
//
// Invariant: a compressed shard's record verifies only against the durable
// shard it describes (the two are written together); each of its pages
// passed pdfcheck.Page (it reads as a standalone one-page PDF) and its frame
// was restored and compared with that page, which has the size the split
// record describes and the checksum the compressed record lists; the same
// shard, table, dictionary and level always give the same bytes.
package compress
