// Package pdfsplit splits a PDF into standalone one-page PDFs.
//
// Invariant: Page(n) is a function of the input bytes, the options and n alone
// (no clock, no randomness, no dependence on call order or process), it never
// decodes a content stream, and every failure is a *pipeerr.Error of one kind;
// a panic inside the PDF parser never escapes.
//
// pdfcpu parses the document once (its reader only: no validation, no
// optimisation, no writer). Each page is then serialized directly from the
// parsed objects: the page dictionary with its inherited attributes, and every
// object it reaches, under its original object number, stream data copied as
// stored. Because shared objects keep their numbers, a font or image shared by
// many pages is the same byte sequence in every one-page PDF. Objects holds
// each such sequence once; a page's recipe (AppendRecipe) is the page with
// them left out, a few kilobytes where the page is often a megabyte, and
// Objects.Assemble puts them back. Objects.Dictionary
// picks from them the content of a zstd dictionary.
package pdfsplit
