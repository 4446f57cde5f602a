// Package pipetest checks published output the way a user would: every page
// restored (by our decoder and, when installed, the zstd CLI), checked as a
// one-page PDF (qpdf, when installed), and compared byte for byte across runs.
//
// Invariant: a check here never trusts the manifest alone; it recomputes
// every size and checksum from the published files.
package pipetest
