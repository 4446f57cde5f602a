// Package pdfcheck checks a one-page PDF the way a reader would before it is
// published: it parses on its own, every reference resolves, every object is
// reachable, and its one page is where the catalog says.
//
// Invariant: Page accepts a file only if it has exactly the shape efspipe's
// page writer (pkg/pdfsplit) promises, and every object in it parses
// strictly. The shape: a %PDF-1.0…1.7 or 2.0 header; the objects in use in
// ascending number order, generation 0, with nothing but white-space and
// comments between them; one classic xref subsection "0 N" whose other
// entries are free (a number pinned to a shared object the page does not
// use) and linked as ISO 32000-1 7.5.4 describes, entry 0 the head, each
// the next free number above it, the last 0; a trailer with /Size N, /Root,
// /ID and optionally /Info; startxref and %%EOF. No reference names a free
// entry, a number of /Size or more, or a generation other than 0; /Size is
// at most 8,388,608 (Annex C.2), so every number is below 2^31-1. The
// catalog's /Pages is a page tree node of /Count 1 whose one kid is a /Page
// whose /Parent is that node. Anything else is an *Error naming the reason,
// the object number and the byte offset.
//
// Page never panics, never recurses on the input's nesting, and does work
// linear in the input: stream data is skipped by its /Length, never
// scanned; only a bounded prefix of each Flate stream is inflated.
//
// It shares no code with pdfcpu, which the splitter parses with: a checker
// sharing the writer's parser would share its bugs.
package pdfcheck
