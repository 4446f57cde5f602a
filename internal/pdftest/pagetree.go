package pdftest

import (
	"bytes"
	"fmt"
	"slices"
)

// Page trees and numbering that readers disagree on, or that a splitter
// gets wrong without noticing.

// pagesIsAnAction: the catalog's /Pages is an action dictionary with
// JavaScript, not a page tree node. qpdf counts no pages; a splitter that
// takes any dictionary for a page publishes the action as "page 1".
func pagesIsAnAction() []byte {
	return catalogWithPages("<</Type /Action /S /JavaScript /JS (app.alert\\(1\\))>>")
}

// pagesIsAnEmptyDictionary: the catalog's /Pages is "<< >>", as in an
// XFA form whose pages its XFA stream makes (pdfium's bug_709793.pdf).
func pagesIsAnEmptyDictionary() []byte {
	return catalogWithPages("<< >>")
}

// catalogWithPages is a file of a catalog whose /Pages is pages, a
// dictionary, and nothing more.
func catalogWithPages(pages string) []byte {
	b := newBuilder("1.7")
	catalog, node := b.alloc(), b.alloc()
	b.obj(catalog, fmt.Sprintf("<</Type /Catalog /Pages %d 0 R>>", node))
	b.obj(node, pages)
	return b.finish(catalog, "")
}

// leafIsAnAction: a page tree node lists a page and the action dictionary
// action (with or without /Type) among its kids.
func leafIsAnAction(action string) []byte {
	b := minimal("", "")
	nr := b.alloc()
	b.obj(nr, action)
	b.obj(2, fmt.Sprintf("<</Type /Pages /Kids [3 0 R %d 0 R] /Count 2>>", nr))
	return b.finish(1, "")
}

// leafIsATemplate: the page tree's second kid is typed /Template, as a
// template page object is (ISO 32000-1 12.7.6) (pdfium's
// bad_page_type.pdf); poppler and qpdf show it as page 2.
func leafIsATemplate() []byte {
	b := minimal("", "")
	tpl, content := b.alloc(), b.alloc()
	b.obj(tpl, fmt.Sprintf("<</Type /Template /Parent 2 0 R /MediaBox [0 0 200 100] /Contents %d 0 R>>", content))
	b.stream(content, "", []byte("1 0 0 rg 50 60 10 10 re f\n"))
	b.obj(2, fmt.Sprintf("<</Type /Pages /Kids [3 0 R %d 0 R] /Count 2>>", tpl))
	return b.finish(1, "")
}

// untypedActionAsPages: the catalog's /Pages is a JavaScript action with
// no /Type, in a file with a trailer and no cross-reference table (pdf.js's
// issue15590.pdf). The repair layer took the action for a page and
// published it, /JS and all, as page 1; qpdf finds no pages.
func untypedActionAsPages() []byte {
	return []byte("%PDF-1.7\ntrailer\n<</Root 1 0 R>>\n" +
		"1 0 obj\n<</Type /Catalog /Pages 2 0 R /OpenAction 2 0 R>>\nendobj\n" +
		"2 0 obj\n<</S /JavaScript /JS (app.alert\\(1\\))>>\nendobj\n%%EOF\n")
}

// countExceedsKids: the root's /Count claims 1,000 pages where /Kids holds
// two, and an intermediate node claims 500 for one page.
func countExceedsKids() []byte {
	b := newBuilder("1.7")
	catalog, root, mid, content := b.alloc(), b.alloc(), b.alloc(), b.alloc()
	p1, p2 := b.alloc(), b.alloc()
	b.obj(catalog, fmt.Sprintf("<</Type /Catalog /Pages %d 0 R>>", root))
	b.obj(root, fmt.Sprintf("<</Type /Pages /Kids [%d 0 R %d 0 R] /Count 1000 /MediaBox [0 0 200 200]>>", p1, mid))
	b.obj(mid, fmt.Sprintf("<</Type /Pages /Parent %d 0 R /Kids [%d 0 R] /Count 500>>", root, p2))
	b.stream(content, "", []byte("0 0 m 100 100 l S\n"))
	b.obj(p1, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Contents %d 0 R>>", root, content))
	b.obj(p2, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Contents %d 0 R>>", mid, content))
	return b.finish(catalog, "")
}

// directPages: page dictionaries stored directly in /Kids instead of by
// reference (qpdf converts them to indirect objects).
func directPages() []byte {
	b := newBuilder("1.7")
	catalog, root, content := b.alloc(), b.alloc(), b.alloc()
	b.obj(catalog, fmt.Sprintf("<</Type /Catalog /Pages %d 0 R>>", root))
	b.stream(content, "", []byte("0 0 m 100 100 l S\n"))
	b.obj(root, fmt.Sprintf("<</Type /Pages /Count 2 /MediaBox [0 0 200 200] /Kids [<</Type /Page /Contents %d 0 R>> <</Type /Page /Contents %d 0 R /Rotate 90>>]>>", content, content))
	return b.finish(catalog, "")
}

// pagesPointsAtPage: the catalog's /Pages points at the first page, not at
// the root of the tree (files like this exist; qpdf follows /Parent up).
func pagesPointsAtPage() []byte {
	b := newBuilder("1.7")
	catalog, root, content, p1, p2 := b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc()
	b.obj(catalog, fmt.Sprintf("<</Type /Catalog /Pages %d 0 R>>", p1))
	b.obj(root, fmt.Sprintf("<</Type /Pages /Kids [%d 0 R %d 0 R] /Count 2 /MediaBox [0 0 200 200]>>", p1, p2))
	b.stream(content, "", []byte("0 0 m 100 100 l S\n"))
	b.obj(p1, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Contents %d 0 R>>", root, content))
	b.obj(p2, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Contents %d 0 R>>", root, content))
	return b.finish(catalog, "")
}

// hugeObjectNumbers: a one-page file whose content stream and font are
// objects 2147483645 and 2147483646, the largest numbers a reader takes
// (2^31-1 is the limit): a writer that numbers new objects above the
// source's makes a page no reader opens.
func hugeObjectNumbers() []byte {
	const font, content = 2147483645, 2147483646
	objs := map[int][]byte{
		1:    []byte("<</Type /Catalog /Pages 2 0 R>>"),
		2:    []byte("<</Type /Pages /Kids [3 0 R] /Count 1>>"),
		3:    fmt.Appendf(nil, "<</Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources <</Font <</F1 %d 0 R>>>> /Contents %d 0 R>>", font, content),
		font: []byte("<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>"),
	}
	data := []byte("BT /F1 12 Tf 20 100 Td (big numbers) Tj ET")
	objs[content] = fmt.Appendf(nil, "<</Length %d>>\nstream\n%s\nendstream", len(data), data)
	return sparse(objs, 1)
}

// indirectLengthsUntypedLeaves: streams whose /Length is an indirect
// object (as qpdf's QDF mode writes them), and page tree leaves without
// /Type (qpdf's no-pages-types test file): the page's lengths are written
// direct, so the length objects must not be carried, and the page
// written must say /Type /Page.
func indirectLengthsUntypedLeaves() []byte {
	data := []byte("0 0 m 100 100 l S")
	objs := map[int][]byte{
		1: []byte("<</Type /Catalog /Pages 2 0 R>>"),
		2: []byte("<</Type /Pages /Kids [3 0 R 4 0 R] /Count 2 /MediaBox [0 0 200 200]>>"),
		3: []byte("<</Parent 2 0 R /Contents 5 0 R>>"),
		4: []byte("<</Parent 2 0 R /Contents 5 0 R /Rotate 90>>"),
		5: fmt.Appendf(nil, "<</Length 6 0 R>>\nstream\n%s\nendstream", data),
		6: fmt.Appendf(nil, "%d", len(data)),
	}
	return sparse(objs, 1)
}

// damagedFlateImage: an unencrypted page drawing an image whose
// FlateDecode data is not zlib data (qpdf's shared-images-errors and
// damaged-inline-image test files). The data is copied as stored, as qpdf
// copies it, so the page is published: the damage is the source's own.
func damagedFlateImage() []byte {
	b := newBuilder("1.5")
	catalog, root, img, pg, content := b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc()
	b.stream(img, " /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", randomBytes(33, 40))
	b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources <</XObject <</Im1 %d 0 R>>>> /Contents %d 0 R>>", root, img, content))
	b.stream(content, "", []byte("0 0 1 rg 10 10 80 80 re f q 50 0 0 50 100 100 cm /Im1 Do Q\n"))
	b.pageTree(catalog, root, []int{pg}, "")
	return b.finish(catalog, "")
}

// strayHashInFont: a font whose /Differences hold a name with a stray '#'
// (/A#x). pdfcpu parses the whole font object to null where qpdf reads
// the name as written, so the page would lose its text: refused as
// damaged rather than published so.
func strayHashInFont() []byte {
	b := newBuilder("1.4")
	catalog, root, font, pg, content := b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc()
	b.obj(font, "<</Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding <</Type /Encoding /Differences [65 /A#x]>>>>")
	b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources <</Font <</F1 %d 0 R>>>> /Contents %d 0 R>>", root, font, content))
	b.stream(content, "", []byte("BT /F1 24 Tf 20 150 Td (Hello) Tj ET\n"))
	b.pageTree(catalog, root, []int{pg}, "")
	return b.finish(catalog, "")
}

// sparse writes a file of the given objects with one xref subsection per
// run of consecutive numbers, for numbers a builder would never reach.
func sparse(objs map[int][]byte, root int) []byte {
	var buf bytes.Buffer
	buf.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	var nrs []int
	for n := range objs {
		nrs = append(nrs, n)
	}
	slices.Sort(nrs)
	offs := map[int]int{}
	for _, n := range nrs {
		offs[n] = buf.Len()
		fmt.Fprintf(&buf, "%d 0 obj\n%s\nendobj\n", n, objs[n])
	}
	xrefAt := buf.Len()
	buf.WriteString("xref\n0 1\n0000000000 65535 f \n")
	for i := 0; i < len(nrs); {
		j := i + 1
		for j < len(nrs) && nrs[j] == nrs[j-1]+1 {
			j++
		}
		fmt.Fprintf(&buf, "%d %d\n", nrs[i], j-i)
		for _, n := range nrs[i:j] {
			fmt.Fprintf(&buf, "%010d 00000 n \n", offs[n])
		}
		i = j
	}
	fmt.Fprintf(&buf, "trailer\n<</Size %d /Root %d 0 R>>\nstartxref\n%d\n%%%%EOF\n", nrs[len(nrs)-1]+1, root, xrefAt)
	return buf.Bytes()
}

// mediaBoxNotARectangle has pages whose own /MediaBox is not four numbers
// (iText's helloWorldMediaboxNotEnoughArguments and
// ...TooManyArguments): poppler ignores such a box and takes the page
// tree node's, 300 by 300, which the split pages must say. They were
// written with the box as the source held it, which the page check
// refuses, so the job failed as an internal error.
func mediaBoxNotARectangle() []byte {
	d := newTextDoc("1.7", 2, "")
	boxes := []string{"[0 0 200]", "[0 0 250 250 400 /Sigmar]"}
	for i, pg := range d.pages {
		d.b.obj(pg, fmt.Sprintf("<</Type /Page /Parent 2 0 R /MediaBox %s /Resources <</Font <</F1 3 0 R>>>> /Contents %d 0 R>>", boxes[i], d.content[i]))
	}
	return d.b.finish(1, "")
}

// contentsArrayMissing: the page's /Contents array names only an object
// the file does not hold, as pdfium's JavaScript test files do
// (/Contents [21 0 R]): the reference is null (ISO 32000-1 7.3.10), the
// page is blank, and a null in an array of streams is what qpdf --check
// refuses. (Where such an element sits beside a stream, poppler draws
// nothing of the page and qpdf draws the stream.)
func contentsArrayMissing() []byte {
	b := minimal("", "")
	b.obj(3, "<</Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents [99 0 R]>>")
	return b.finish(1, "")
}
