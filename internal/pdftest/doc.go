// Package pdftest builds PDFs for tests from code: valid multi-page documents
// that share their resources the way real ones do, and a corpus of hostile
// inputs, each with the error kind a reader must end in.
//
// Invariant: every function is deterministic (same arguments, same bytes, in
// any process), and every byte is written by hand with an exact xref table, so
// the files are small and each defect is the only one in its file. The one
// exception is the encrypted corpus entries, which pdfcpu's encryptor writes.
package pdftest
