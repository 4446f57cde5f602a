// Package reader reads the pages of a published efspipe job back, from a
// local folder or a bucket: <out>/<job>/manifest.json, the optional
// dictionary.zdict and pages/NNNNNN.pdf.zst, one zstd frame per page
// compressed against the raw dictionary.
//
// Invariant: no byte of a page is handed out before the whole page has
// been restored and found to be exactly what the manifest says (its
// pdf_bytes and sha256, which describe the restored one-page PDF, not the
// .zst file), and nothing is allocated beyond what the manifest declares;
// a local folder is read through an os.Root, so no symlink leads a read
// outside the job's folder.
//
// Errors carry pipeerr kinds: Damaged for a publication that does not
// match its manifest (a missing file also wraps fs.ErrNotExist),
// BadRequest for a request that cannot be served (no such job, no such
// page), TooLarge for a manifest beyond the configured bounds, IO and
// Storage.* for storage failures.
package reader
