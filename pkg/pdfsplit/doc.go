// Package pdfsplit splits a PDF into standalone one-page PDFs.
//
// Invariant: Page(n) is a function of the input bytes, the options and n alone
// (no clock, no randomness, no dependence on call order or process); every
// failure is a *pipeerr.Error of one kind, and a panic inside the PDF parser
// never escapes.
//
// pdfcpu parses the document once (its reader only: no validation, no
// optimisation, no writer). Each page is then serialized directly from the
// parsed objects: the page dictionary with its inherited attributes, every
// object it reaches, and a catalog carrying what the page needs from the
// document (its form fields, page label, named destinations, optional
// content configuration, language, output intents, information dictionary).
// Stream data is copied as stored. The parse does not keep it: the data
// of every stream the file holds as it is (not decrypted) is read from
// the file again when a page is written (stored.go), so an image-heavy
// document is held once, as its input, not twice.
//
// A file pdfcpu refuses in a repairable way (a broken cross-reference
// table or trailer, a damaged object stream, catalog or page tree node, a
// header version it does not know, an encryption it cannot open) is
// rebuilt by the repair layer (repair.go) from the objects a linear scan
// of its bytes finds, and the rebuilt file is parsed instead; that is a
// function of the input bytes and the password alone. Before a parse is
// used, every stream's data is checked against the file: data that does
// not end at "endstream" (a wrong /Length) or that an encrypted file
// holds as stored (ciphertext) sends the file to the repair layer too, so
// neither is ever published. A file that opens with the empty password
// is split without one, and published decrypted.
//
// A page carries only the resources its content uses: content streams (the
// page's, form XObjects', tiling patterns', Type 3 glyphs', appearance
// streams') are decoded, within a bound per stream, for the names they use,
// and each resource dictionary is pruned to those names, except graphics
// states with transparency, which poppler reads, used or not, to decide
// whether a form is a transparency group. A stream that cannot be decoded
// keeps its whole dictionary. Fonts and images are never decoded.
//
// Each page numbers its objects 1..n, so its cross-reference table is one
// subsection from 0 (ISO 32000-1 7.5.4); the most widely shared objects have
// the same number in every page. Shared objects are the same bytes in every
// page that reaches them: Objects holds each such sequence once, with holes
// where it refers to other objects; a page's recipe (AppendRecipe) is the
// page with them left out, a few kilobytes where the page is often a
// megabyte, and Objects.Assemble puts them back. Objects.Dictionary picks
// from them the content of a zstd dictionary.
package pdfsplit
