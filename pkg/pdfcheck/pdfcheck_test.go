package pdfcheck

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
)

// replace returns b with the first old replaced by new, and panics when old
// is not there, so a mutation cannot silently stop mutating.
func replace(b []byte, old, new string) []byte {
	if !bytes.Contains(b, []byte(old)) {
		panic(fmt.Sprintf("no %q in the page", old))
	}
	return bytes.Replace(b, []byte(old), []byte(new), 1)
}

// replaceLast replaces the last old in b by new.
func replaceLast(b []byte, old, new string) []byte {
	i := bytes.LastIndex(b, []byte(old))
	if i < 0 {
		panic(fmt.Sprintf("no %q in the page", old))
	}
	return append(append(bytes.Clone(b[:i]), new...), b[i+len(old):]...)
}

// xrefEntry replaces the xref entry of object n with entry (20 bytes).
func xrefEntry(b []byte, n int, entry string) []byte {
	if len(entry) != entryLen {
		panic("an xref entry is 20 bytes")
	}
	at := xrefStart(b)
	at = bytes.IndexByte(b[at+5:], '\n') + at + 6 + n*entryLen
	out := bytes.Clone(b)
	copy(out[at:], entry)
	return out
}

// xrefStart is the offset of the xref keyword in b.
func xrefStart(b []byte) int { return bytes.LastIndex(b, []byte("\nxref")) + 1 }

// offsetOf is object n's offset as the xref table of b says.
func offsetOf(b []byte, n int) int {
	at := xrefStart(b)
	at = bytes.IndexByte(b[at+5:], '\n') + at + 6 + n*entryLen
	off, _ := strconv.Atoi(string(b[at : at+10]))
	return off
}

// trailerOf is the default trailer dictionary of f with extra entries
// appended and the keys in drop left out.
func trailerOf(f *file, extra string, drop ...string) string {
	id := "<00112233445566778899aabbccddeeff>"
	entries := map[string]string{
		"Size": fmt.Sprint(len(f.objs) + 1),
		"Root": fmt.Sprintf("%d 0 R", f.root),
		"ID":   "[" + id + " " + id + "]",
	}
	if f.info > 0 {
		entries["Info"] = fmt.Sprintf("%d 0 R", f.info)
	}
	for _, k := range drop {
		delete(entries, k)
	}
	s := "<<"
	for _, k := range []string{"Size", "Root", "Info", "ID"} {
		if v, ok := entries[k]; ok {
			s += "/" + k + " " + v + " "
		}
	}
	return s + extra + ">>"
}

// pageCase is one input for Page and what it must say.
type pageCase struct {
	name string
	pdf  []byte
	opts Options
	want Reason // "" when the page is valid
	obj  int    // the object the error names; -1: not checked
}

// validPages are pages Page must accept, in the shapes and layouts the
// writer's contract allows. qpdf must accept them too (TestQPDFAgrees).
func validPages() []pageCase {
	var cs []pageCase
	add := func(name string, f *file) { cs = append(cs, pageCase{name: name, pdf: f.bytes()}) }
	add("minimal", makePage(pageOpts{}))
	add("typical", typical())
	add("tree-last", makePage(pageOpts{TreeLast: true, Fonts: 3, Image: true, Annots: 5}))
	add("nested-101", makePage(pageOpts{Nest: 100}))
	add("many-objects", makePage(pageOpts{Fonts: 8, Annots: 400, Info: true}))
	crlf := typical()
	crlf.eol, crlf.xrefEOL, crlf.streamEOL = "\r\n", "\r\n", "\r\n"
	add("crlf", crlf)
	cr := typical()
	cr.eol, cr.xrefEOL, cr.streamEOL = "\r", " \r", "\r\n"
	add("cr", cr)
	odd := typical()
	odd.sep = "% a comment between objects\n\t\f \n"
	odd.edit(pageObj, "/Type /Page", "/Type%comment inside a dictionary\n/Page\t")
	odd.edit(pagesObj, "[3 0 R]", "[ 3\t0\n%comment inside a reference\nR ]")
	odd.edit(catalogObj, "/Pages", "\f/Pages")
	add("whitespace-and-comments", odd)
	v20 := typical()
	v20.version = "2.0"
	add("pdf-2.0", v20)
	box := makePage(pageOpts{})
	box.edit(pageObj, "/MediaBox [0 0 612 792]", fmt.Sprintf("/MediaBox %d 0 R", box.add(obj{value: "[0 0 595.28 841.89]"})))
	add("indirect-mediabox", box)
	empty := makePage(pageOpts{})
	empty.objs[contentObj-1].data = nil
	add("empty-flate-stream", empty)
	byRef := makePage(pageOpts{})
	byRef.objs[contentObj-1].value = fmt.Sprintf("<</Filter %d 0 R>>", byRef.add(obj{value: "[/FlateDecode]"}))
	add("filter-by-reference", byRef)
	strs := makePage(pageOpts{Info: true})
	strs.edit(strs.info, "/Producer", `/Subject (nested (balanced) parens, \) escaped, \\ backslash, \053 octal, \
continued line) /Keywords <4142 43
44> /Author () /Empty <> /Real -.5 /Real2 +3. /Neg -12 /Bool true /False false /Null null /N#41me 1 /Producer`)
	add("literal-strings-and-numbers", strs)
	add("pdftest-doc", docPage(pdftest.DocOptions{Image: true, HomeLink: true}))
	nested := makePage(pageOpts{})
	nested.edit(pageObj, "/Type /Page", "/Type /Page /Dicts [<</A 1>> <</B [<</C [2 0 R]>>] /D <<>>>> [] <<>>] /Arrays [[1] [[2] <</E [[]]>>]]")
	add("dicts-in-arrays", nested)
	// A page of the writer's whose table has free entries, for the
	// numbers it pins to objects this page does not use.
	pages, err := split(sharedFonts(3), "")
	if err != nil {
		panic(err)
	}
	add("writer-free-entries", fromPage(pages[4]))
	return cs
}

// pageCases are the valid pages and one or more mutations of a valid page
// per rule, each with the reason Page must give.
func pageCases() []pageCase {
	cases := validPages()
	bad := func(name string, want Reason, obj int, pdf []byte) {
		cases = append(cases, pageCase{name: name, pdf: pdf, want: want, obj: obj})
	}
	badOpts := func(name string, want Reason, obj int, opts Options, pdf []byte) {
		cases = append(cases, pageCase{name: name, pdf: pdf, opts: opts, want: want, obj: obj})
	}
	// mut builds typical() changed by fn.
	mut := func(fn func(f *file)) []byte {
		f := typical()
		fn(f)
		return f.bytes()
	}
	valid := typical().bytes()
	tf := typical()
	n := len(tf.objs) + 1
	font := 9 // the first font dictionary
	if !strings.Contains(tf.objs[font-1].value, "/Type /Font") {
		panic(fmt.Sprintf("object %d is not the first font: %s", font, tf.objs[font-1].value))
	}

	// 1. Header, startxref, %%EOF.
	bad("header-version", ReasonHeader, 0, replace(valid, "%PDF-1.7", "%PDF-1.8"))
	bad("header-not-at-0", ReasonHeader, 0, append([]byte(" "), valid...))
	bad("header-glued", ReasonHeader, 0, replace(valid, "%PDF-1.7\n", "%PDF-1.7%"))
	bad("no-eof", ReasonEOF, 0, bytes.TrimSuffix(valid, []byte("%%EOF\n")))
	bad("bytes-after-eof", ReasonEOF, 0, append(bytes.Clone(valid), "% an update\n"...))
	bad("eof-not-on-its-line", ReasonEOF, 0, replaceLast(valid, "\n%%EOF", " %%EOF"))
	xrefAt := xrefStart(valid)
	bad("startxref-off-by-one", ReasonStartxref, 0, replaceLast(valid, fmt.Sprintf("\n%d\n", xrefAt), fmt.Sprintf("\n%d\n", xrefAt+1)))
	bad("startxref-missing", ReasonStartxref, 0, replaceLast(valid, "startxref", "startxreF"))
	bad("startxref-garbage", ReasonStartxref, 0, replaceLast(valid, "\n%%EOF", " 0\n%%EOF"))

	// 2. The xref table and the layout it describes.
	two := bytes.Clone(valid)
	first := bytes.Index(two[xrefAt:], []byte("0000000000 65535 f \n")) + xrefAt
	two = append(append(bytes.Clone(two[:first+entryLen]), fmt.Sprintf("1 %d\n", n-1)...), two[first+entryLen:]...)
	two = replaceLast(two, fmt.Sprintf("xref\n0 %d\n", n), "xref\n0 1\n")
	bad("xref-two-subsections", ReasonXref, 0, two)
	bad("xref-starts-at-1", ReasonXref, 0, replaceLast(valid, fmt.Sprintf("xref\n0 %d", n), fmt.Sprintf("xref\n1 %d", n)))
	bad("xref-entry-0-in-use", ReasonXref, 0, replace(valid, "0000000000 65535 f", "0000000000 65535 n"))
	bad("xref-free-entry", ReasonXref, 5, xrefEntry(valid, 5, "0000000000 00000 f \n"))
	bad("xref-generation", ReasonXref, 5, xrefEntry(valid, 5, fmt.Sprintf("%010d 00001 n \n", offsetOf(valid, 5))))
	bad("xref-entry-eol", ReasonXref, 0, xrefEntry(valid, 5, fmt.Sprintf("%010d 00000 n\n\n", offsetOf(valid, 5))))
	bad("xref-short-table", ReasonXref, 0, replaceLast(valid, fmt.Sprintf("xref\n0 %d", n), fmt.Sprintf("xref\n0 %d", n+50)))
	bad("offset-off-by-one", ReasonOffset, 5, xrefEntry(valid, 5, fmt.Sprintf("%010d 00000 n \n", offsetOf(valid, 5)+1)))
	bad("offset-wrong-object", ReasonOffset, 5, xrefEntry(valid, 5, fmt.Sprintf("%010d 00000 n \n", offsetOf(valid, 6)-1)))
	inComment := typical()
	inComment.sep = "%6 0 obj\n"
	b := inComment.bytes()
	bad("offset-inside-comment", ReasonOffset, 6, xrefEntry(b, 6, fmt.Sprintf("%010d 00000 n \n", offsetOf(b, 6)-len("6 0 obj\n"))))
	bad("objects-out-of-order", ReasonOverlap, 5, mut(func(f *file) {
		for i := range f.objs {
			f.order = append(f.order, i+1)
		}
		f.order[3], f.order[4] = f.order[4], f.order[3]
	}))
	bad("two-entries-one-offset", ReasonOverlap, 6, xrefEntry(valid, 6, fmt.Sprintf("%010d 00000 n \n", offsetOf(valid, 5))))
	bad("garbage-between-objects", ReasonGarbage, 1, mut(func(f *file) { f.sep = "garbage\n" }))
	bad("garbage-before-xref", ReasonGarbage, 0, mut(func(f *file) { f.beforeXref = "0 " }))
	glued := replace(valid, "endobj\n5 0 obj\n", "endobj5 0 obj\n\n")
	bad("endobj-glued-to-next", ReasonSyntax, 4, xrefEntry(glued, 5, fmt.Sprintf("%010d 00000 n \n", offsetOf(valid, 5)-1)))
	badOpts("too-many-objects", ReasonTooManyObjects, 0, Options{MaxObjects: 10}, valid)
	bad("beyond-annex-c", ReasonTooManyObjects, 0, replaceLast(valid, fmt.Sprintf("xref\n0 %d", n), "xref\n0 8388609"))
	badOpts("annex-c-is-the-ceiling", ReasonTooManyObjects, 0, Options{MaxObjects: 1 << 30}, replaceLast(valid, fmt.Sprintf("xref\n0 %d", n), "xref\n0 8388609"))

	// 3. Object syntax.
	bad("unbalanced-string", ReasonSyntax, tf.info, mut(func(f *file) { f.edit(f.info, "test)", "test") }))
	bad("bad-hex-string", ReasonSyntax, tf.info, mut(func(f *file) { f.edit(f.info, "<FEFF00", "<FEFFG0") }))
	bad("bad-number", ReasonSyntax, -1, mut(func(f *file) { f.edit(pageObj, "612.0", "612.0.0") }))
	bad("exponent", ReasonSyntax, -1, mut(func(f *file) { f.edit(pageObj, "612.0", "6.1e2") }))
	bad("lone-sign", ReasonSyntax, -1, mut(func(f *file) { f.edit(pageObj, "[0 0 612.0", "[- 0 612.0") }))
	bad("key-not-a-name", ReasonSyntax, pageObj, mut(func(f *file) { f.edit(pageObj, "/Type /Page", "(Type) /Page") }))
	bad("unknown-keyword", ReasonSyntax, -1, mut(func(f *file) { f.edit(pageObj+0, "/ProcSet [/PDF", "/ProcSet [PDF") }))
	bad("bad-name-escape", ReasonSyntax, font, mut(func(f *file) { f.edit(font, "/Sans#20", "/Sans#2G") }))
	bad("name-nul", ReasonSyntax, font, mut(func(f *file) { f.edit(font, "/Sans#20", "/Sans#00") }))
	bad("array-not-closed", ReasonSyntax, pageObj, mut(func(f *file) { f.edit(pageObj, "612 792]", "612 792") }))
	bad("dict-not-closed", ReasonSyntax, catalogObj, mut(func(f *file) { f.edit(catalogObj, "0 R>>", "0 R") }))
	bad("key-without-value", ReasonSyntax, pagesObj, mut(func(f *file) { f.edit(pagesObj, "/Count 1>>", "/Count>>") }))
	bad("brace", ReasonSyntax, pageObj, mut(func(f *file) { f.edit(pageObj, "/Type /Page", "/Type /Page /F {1}") }))
	bad("stray-bracket", ReasonSyntax, pageObj, mut(func(f *file) { f.edit(pageObj, "/Type /Page", "/Type /Page /X ]") }))
	bad("no-value", ReasonSyntax, 5, mut(func(f *file) { f.objs[4].value = "" }))
	bad("two-values", ReasonSyntax, 5, mut(func(f *file) { f.objs[4].value += " 1" }))
	bad("no-endobj", ReasonSyntax, 5, replace(valid, "]\nendobj", "]\nendobx"))
	bad("depth-102", ReasonDepth, pageObj, makePage(pageOpts{Nest: 101}).bytes())
	badOpts("depth-option", ReasonDepth, -1, Options{MaxDepth: 1}, valid)
	bad("duplicate-key", ReasonDuplicateKey, pageObj, mut(func(f *file) { f.edit(pageObj, "/Type /Page", "/Type /Page /Type /Page") }))
	bad("duplicate-escaped-key", ReasonDuplicateKey, pageObj, mut(func(f *file) { f.edit(pageObj, "/Type /Page", "/Type /Page /T#79pe /Page") }))
	bad("duplicate-key-nested", ReasonDuplicateKey, pageObj, mut(func(f *file) { f.edit(pageObj, "/ProcSet", "/Font <<>> /ProcSet") }))
	var many strings.Builder
	for i := range 40 {
		fmt.Fprintf(&many, "/K%d %d ", i, i)
	}
	bad("duplicate-key-large-dict", ReasonDuplicateKey, tf.info, mut(func(f *file) { f.edit(f.info, "/Producer", many.String()+"/K17 0 /Producer") }))
	bad("large-dict-no-duplicate", "", -1, mut(func(f *file) { f.edit(f.info, "/Producer", many.String()+"/Producer") }))

	// 4. Streams.
	withLength := func(length string) []byte {
		return mut(func(f *file) { f.objs[contentObj-1].length = length })
	}
	contentLen := len(tf.objs[contentObj-1].data)
	bad("stream-no-length", ReasonStream, contentObj, withLength("-"))
	bad("stream-indirect-length", ReasonStream, contentObj, withLength("/Length 5 0 R"))
	bad("stream-length-real", ReasonStream, contentObj, withLength(fmt.Sprintf("/Length %d.0", contentLen)))
	bad("stream-negative-length", ReasonStream, contentObj, withLength("/Length -1"))
	bad("stream-length-past-object", ReasonStream, contentObj, withLength(fmt.Sprintf("/Length %d", contentLen+40)))
	bad("stream-length-short", ReasonStream, contentObj, withLength(fmt.Sprintf("/Length %d", contentLen-1)))
	bad("stream-length-long", ReasonStream, contentObj, withLength(fmt.Sprintf("/Length %d", contentLen+2)))
	bad("stream-cr-alone", ReasonStream, -1, mut(func(f *file) { f.streamEOL = "\r" }))
	bad("stream-after-array", ReasonStream, 5, mut(func(f *file) { f.objs[4].value += "\nstream\n\nendstream" }))
	bad("stream-no-endobj", ReasonSyntax, contentObj, replace(valid, "endstream\nendobj", "endstream\nendobJ"))

	// 5. References.
	bad("reference-out-of-range", ReasonReference, pageObj, mut(func(f *file) { f.edit(pageObj, "/Contents 4 0 R", fmt.Sprintf("/Contents %d 0 R", n)) }))
	bad("reference-generation", ReasonReference, pageObj, mut(func(f *file) { f.edit(pageObj, "/Contents 4 0 R", "/Contents 4 1 R") }))
	bad("reference-zero", ReasonReference, pageObj, mut(func(f *file) { f.edit(pageObj, "/Type /Page", "/Type /Page /Z 0 0 R") }))
	bad("reference-2^31", ReasonReference, pageObj, mut(func(f *file) { f.edit(pageObj, "/Contents 4 0 R", "/Contents 2147483648 0 R") }))
	bad("reference-in-array", ReasonReference, pagesObj, mut(func(f *file) { f.edit(pagesObj, "[3 0 R]", "[3 0 R 77 0 R]") }))
	bad("reference-signed", ReasonSyntax, pageObj, mut(func(f *file) { f.edit(pageObj, "/Contents 4 0 R", "/Contents +4 0 R") }))
	bad("reference-in-trailer", ReasonReference, 0, mut(func(f *file) {
		f.trailer = trailerOf(f, "", "Info") + ""
		f.trailer = strings.Replace(f.trailer, ">>", fmt.Sprintf("/Info %d 0 R>>", n+5), 1)
	}))

	// 6. Trailer.
	bad("trailer-size", ReasonTrailer, 0, mut(func(f *file) {
		f.trailer = strings.Replace(trailerOf(f, ""), fmt.Sprintf("/Size %d", n), fmt.Sprintf("/Size %d", n+1), 1)
	}))
	bad("trailer-no-root", ReasonTrailer, 0, mut(func(f *file) { f.trailer = trailerOf(f, "", "Root") }))
	bad("trailer-root-not-ref", ReasonTrailer, 0, mut(func(f *file) { f.trailer = trailerOf(f, "/Root 1", "Root") }))
	bad("trailer-no-id", ReasonTrailer, 0, mut(func(f *file) { f.trailer = trailerOf(f, "", "ID") }))
	bad("trailer-one-id", ReasonTrailer, 0, mut(func(f *file) { f.trailer = trailerOf(f, "/ID [<00>]", "ID") }))
	bad("trailer-info-not-ref", ReasonTrailer, 0, mut(func(f *file) { f.trailer = trailerOf(f, "/Info <<>>", "Info") }))
	bad("trailer-info-not-dict", ReasonTrailer, 5, mut(func(f *file) { f.trailer = trailerOf(f, "/Info 5 0 R", "Info"); f.info = 0 }))
	bad("trailer-encrypt", ReasonEncrypted, 0, mut(func(f *file) { f.trailer = trailerOf(f, "/Encrypt <</Filter /Standard /V 2>>") }))
	bad("trailer-prev", ReasonTrailer, 0, mut(func(f *file) { f.trailer = trailerOf(f, "/Prev 15") }))
	bad("trailer-xrefstm", ReasonTrailer, 0, mut(func(f *file) { f.trailer = trailerOf(f, "/XRefStm 15") }))
	bad("trailer-not-dict", ReasonTrailer, 0, mut(func(f *file) { f.trailer = "[1 0 R]" }))
	bad("trailer-garbage", ReasonTrailer, 0, mut(func(f *file) { f.trailer = trailerOf(f, "") + " junk" }))
	bad("object-stream", ReasonObjectStream, contentObj, mut(func(f *file) {
		f.objs[contentObj-1].value = "<</Type /ObjStm /N 0 /First 0 /Filter /FlateDecode>>"
	}))
	bad("xref-stream", ReasonObjectStream, contentObj, mut(func(f *file) {
		f.objs[contentObj-1].value = "<</Type /XRef /Size 3 /W [1 2 1] /Filter /FlateDecode>>"
	}))

	// 7. The page tree.
	bad("catalog-type", ReasonPageTree, catalogObj, mut(func(f *file) { f.edit(catalogObj, "/Catalog", "/Catalogue") }))
	bad("catalog-no-pages", ReasonPageTree, catalogObj, mut(func(f *file) { f.edit(catalogObj, "/Pages 2 0 R", "/Pagez 2 0 R") }))
	bad("catalog-is-array", ReasonPageTree, 5, mut(func(f *file) { f.root = 5 }))
	bad("root-is-the-page", ReasonPageTree, pageObj, mut(func(f *file) { f.root = pageObj }))
	bad("pages-type", ReasonPageTree, pagesObj, mut(func(f *file) { f.edit(pagesObj, "/Type /Pages", "/Type /Page") }))
	bad("pages-count-2", ReasonPageTree, pagesObj, mut(func(f *file) { f.edit(pagesObj, "/Count 1", "/Count 2") }))
	bad("pages-count-real", ReasonPageTree, pagesObj, mut(func(f *file) { f.edit(pagesObj, "/Count 1", "/Count 1.0") }))
	bad("pages-two-kids", ReasonPageTree, pagesObj, mut(func(f *file) { f.edit(pagesObj, "[3 0 R]", "[3 0 R 3 0 R]") }))
	bad("pages-kid-not-ref", ReasonPageTree, pagesObj, mut(func(f *file) { f.edit(pagesObj, "[3 0 R]", "[3]") }))
	bad("pages-has-parent", ReasonPageTree, pagesObj, mut(func(f *file) { f.edit(pagesObj, "/Count 1", "/Count 1 /Parent 1 0 R") }))
	bad("kid-not-a-page", ReasonPageTree, pageObj, mut(func(f *file) { f.edit(pageObj, "/Type /Page", "/Type /Pages") }))
	bad("kid-is-a-font", ReasonPageTree, font, mut(func(f *file) { f.edit(pagesObj, "[3 0 R]", fmt.Sprintf("[%d 0 R]", font)) }))
	bad("kid-is-a-stream", ReasonPageTree, contentObj, mut(func(f *file) { f.edit(pagesObj, "[3 0 R]", "[4 0 R]") }))
	bad("page-parent", ReasonPageTree, pageObj, mut(func(f *file) { f.edit(pageObj, "/Parent 2 0 R", "/Parent 1 0 R") }))
	bad("page-no-parent", ReasonPageTree, pageObj, mut(func(f *file) { f.edit(pageObj, "/Parent 2 0 R", "") }))
	bad("mediabox-3", ReasonPageTree, pageObj, mut(func(f *file) { f.edit(pageObj, "[0 0 612 792]", "[0 612 792]") }))
	bad("mediabox-name", ReasonPageTree, pageObj, mut(func(f *file) { f.edit(pageObj, "[0 0 612 792]", "[0 0 612 /A4]") }))
	bad("mediabox-missing", ReasonPageTree, pageObj, mut(func(f *file) { f.edit(pageObj, "/MediaBox [0 0 612 792]", "") }))
	bad("mediabox-indirect-dict", ReasonPageTree, pageObj, mut(func(f *file) { f.edit(pageObj, "/MediaBox [0 0 612 792]", fmt.Sprintf("/MediaBox %d 0 R", f.info)) }))

	// 8. Reachability.
	orphan := mut(func(f *file) { f.add(obj{value: "<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>"}) })
	badOpts("orphan", ReasonUnreachable, n, Options{Unused: true}, orphan)
	badOpts("orphan-cycle", ReasonUnreachable, n, Options{Unused: true}, mut(func(f *file) {
		f.add(obj{value: fmt.Sprintf("[%d 0 R %d 0 R]", n+1, pageObj)})
		f.add(obj{value: fmt.Sprintf("[%d 0 R]", n)})
	}))
	cases = append(cases, pageCase{name: "orphan-by-default", pdf: orphan})

	// 9. The Flate probe.
	encrypted := func(f *file) { f.objs[contentObj-1].data = randomBytes(7, 300) }
	bad("flate-encrypted", ReasonFlate, contentObj, mut(encrypted))
	cut := func(f *file) { d := f.objs[contentObj-1].data; f.objs[contentObj-1].data = d[:len(d)/3] }
	bad("flate-corrupt-block", ReasonFlate, contentObj, mut(func(f *file) {
		// A stored block whose length and its complement disagree.
		f.objs[contentObj-1].data = []byte{0x78, 0x9c, 0x01, 0x05, 0x00, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o'}
	}))
	bad("flate-abbreviated", ReasonFlate, contentObj, mut(func(f *file) { encrypted(f); f.objs[contentObj-1].value = "<</Filter /Fl>>" }))
	bad("flate-preset-dictionary", ReasonFlate, contentObj, mut(func(f *file) { f.objs[contentObj-1].data = []byte{0x78, 0xbb, 0, 0, 0, 1, 3, 0} }))
	bad("flate-filter-by-reference", ReasonFlate, contentObj, mut(func(f *file) {
		encrypted(f)
		f.objs[contentObj-1].value = fmt.Sprintf("<</Filter %d 0 R>>", f.add(obj{value: "/FlateDecode"}))
	}))
	bad("filter-not-a-name", ReasonStream, contentObj, mut(func(f *file) { f.objs[contentObj-1].value = "<</Filter (FlateDecode)>>" }))
	bad("crypt-filter", ReasonEncrypted, contentObj, mut(func(f *file) { f.objs[contentObj-1].value = "<</Filter [/Crypt /FlateDecode]>>" }))
	cases = append(cases,
		pageCase{name: "flate-encrypted-no-probe", pdf: mut(encrypted), opts: Options{NoProbe: true}},
		// Readers show what decodes of a stream cut short or with a wrong
		// checksum, and the writer copies stream data as the source has
		// it: such streams pass.
		pageCase{name: "flate-cut", pdf: mut(cut)},
		pageCase{name: "flate-cut-short-stream", pdf: mut(cut), opts: Options{ProbeBytes: 1}},
		pageCase{name: "flate-checksum", pdf: mut(func(f *file) {
			d := bytes.Clone(f.objs[contentObj-1].data)
			d[len(d)-1] ^= 1
			f.objs[contentObj-1].data = d
		})},
		// The probe reads the start only: a stream garbled after its first
		// ProbeBytes decoded bytes passes. A documented limit.
		pageCase{name: "flate-garbled-past-probe", pdf: mut(func(f *file) {
			d := deflate(randomBytes(8, 4096))
			copy(d[2048:], randomBytes(9, 64))
			f.objs[contentObj-1].data = d
		})},
		// An external file's data (/F) is not in the page: its /Filter
		// applies to it, not to the bytes here.
		pageCase{name: "stream-external", pdf: mut(func(f *file) {
			encrypted(f)
			f.objs[contentObj-1].value = "<</Filter /FlateDecode /F (data.bin)>>"
		})},
	)
	return cases
}

func TestPage(t *testing.T) {
	for _, tc := range pageCases() {
		t.Run(tc.name, func(t *testing.T) {
			err := Page(tc.pdf, tc.opts)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("valid page refused: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an *Error with reason %q", err, tc.want)
			}
			if e.Reason != tc.want || (tc.obj >= 0 && e.Object != tc.obj) {
				t.Fatalf("got %v\nwant reason %q, object %d", err, tc.want, tc.obj)
			}
			if e.Offset < 0 || e.Offset > len(tc.pdf) {
				t.Errorf("offset %d outside the page (%d bytes)", e.Offset, len(tc.pdf))
			}
		})
	}
}

// TestErrorMessage: the message names the object, the byte offset and what
// is wrong.
func TestErrorMessage(t *testing.T) {
	f := typical()
	f.edit(pageObj, "/Contents 4 0 R", "/Contents 4 1 R")
	pdf := f.bytes()
	err := Page(pdf, Options{})
	at := bytes.Index(pdf, []byte("4 1 R"))
	want := fmt.Sprintf("pdfcheck: object 3 at byte %d: reference: reference 4 1 R: the table holds objects 1..%d, generation 0", at, len(f.objs))
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	err = Page([]byte("%PDF-1.9\n"), Options{})
	if want := `pdfcheck: byte 5: header: unknown PDF version "1.9"`; err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

// TestPdftestDoc: a one-page pdftest.Doc, written by another hand, passes
// once reshaped to the contract (docPage); as Doc writes it, it fails on
// the rules it breaks, and a three-page Doc fails on its page tree.
func TestPdftestDoc(t *testing.T) {
	for _, opt := range []pdftest.DocOptions{{}, {Image: true}, {Image: true, FontBytes: 200 << 10}, {HomeLink: true}} {
		if err := Page(docPage(opt).bytes(), Options{}); err != nil {
			t.Errorf("Doc(1, %+v): %v", opt, err)
		}
	}
	for _, tc := range []struct {
		name string
		pdf  []byte
		want Reason
	}{
		{"no-id", pdftest.Doc(1, pdftest.DocOptions{}), ReasonTrailer},
		{"inherited-mediabox", fromPage(pdftest.Doc(1, pdftest.DocOptions{})).bytes(), ReasonPageTree},
		{"three-pages", fromPage(pdftest.Doc(3, pdftest.DocOptions{})).bytes(), ReasonPageTree},
	} {
		var e *Error
		if err := Page(tc.pdf, Options{}); !errors.As(err, &e) || e.Reason != tc.want {
			t.Errorf("%s: %v, want reason %q", tc.name, err, tc.want)
		}
	}
}

// TestQPDFAgrees: qpdf --check accepts every page Page accepts in
// validPages, and reads one page from it, so "valid" here is valid to an
// independent reader.
func TestQPDFAgrees(t *testing.T) {
	pdftest.NeedQPDF(t)
	for _, tc := range validPages() {
		t.Run(tc.name, func(t *testing.T) {
			if err := Page(tc.pdf, Options{}); err != nil {
				t.Fatal(err)
			}
			if n := pdftest.QPDFCheck(t, tc.name, tc.pdf); n != 1 {
				t.Fatalf("qpdf reads %d pages", n)
			}
		})
	}
}

// TestClaimedSizeAllocates: a table claiming millions of entries that are
// not there costs no allocation for them (memory follows the input, never a
// claimed size).
func TestClaimedSizeAllocates(t *testing.T) {
	valid := typical().bytes()
	n := len(typical().objs) + 1
	huge := replaceLast(valid, fmt.Sprintf("xref\n0 %d", n), "xref\n0 8000000")
	allocs := testing.AllocsPerRun(20, func() { _ = Page(huge, Options{}) })
	if allocs > 10 {
		t.Fatalf("%v allocations for a table claiming 8,000,000 entries that are not there", allocs)
	}
}

var idRE = regexp.MustCompile(`/ID \[<[0-9a-f]{32}> <[0-9a-f]{32}>\]`)

// TestHelperShape: the helper writes what the writer's contract says, so
// the tests above mutate the right thing.
func TestHelperShape(t *testing.T) {
	pdf := typical().bytes()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")) || !bytes.HasSuffix(pdf, []byte("\n%%EOF\n")) {
		t.Errorf("header or tail not as the contract says")
	}
	if n := len(typical().objs); n < 20 || n > 24 || !idRE.Match(pdf) {
		t.Errorf("typical() has %d objects (want about 20) or no /ID", n)
	}
}
