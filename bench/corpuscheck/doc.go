// Command corpuscheck runs efspipe beside `qpdf --split-pages` over folders
// of real PDFs and reports, per class, what both split, what efspipe refuses
// that qpdf splits, and every silent fault: efspipe exiting 0 while a
// published page is wrong.
//
//	go build -o bin/efspipe ./cmd/efspipe
//	go run ./bench/corpuscheck [-j 2] [-pages 4] [-json runs.json] [-compare old.json] DIR...
//
// or `make corpus DIR="dir1 dir2"`. For each file it restores every
// published page from its frame, runs `qpdf --check` on up to -check of them
// and renders up to -pages with pdftoppm beside the source page and qpdf's
// page.
//
// Invariant: a fault is reported only where qpdf is the witness that the
// page can be right (qpdf's page of the same number passes the same check),
// and a file is reported ok only when every check that ran passed; a check
// that had no witness or could not run is counted in the summary, never
// passed silently. Every temporary directory is removed before it returns,
// and the output is ordered by path whatever the parallelism.
package main
