package pdftest

import (
	"bytes"
	"fmt"
	"strings"
)

// DocOptions shapes a generated document. The zero value is a document with a
// 16 KiB font and no image.
type DocOptions struct {
	// FontBytes is the size of the embedded TrueType font program (FontFile2)
	// every page shares: deterministic pseudo-random bytes, incompressible like
	// a real font program. Default 16 KiB.
	FontBytes int
	// Image adds a shared 64×64 RGB image XObject (12 KiB of incompressible
	// samples) drawn on every page. Default false.
	Image bool
	// HomeLink gives every page one shared link annotation to page 1: an
	// object every page reaches that refers to a page. Default false.
	HomeLink bool
}

const defaultFontBytes = 16 << 10

// pagesPerNode is the fan-out of the page tree: documents with more pages get
// an intermediate level, so readers must walk and inherit (MediaBox is set on
// the root only).
const pagesPerNode = 64

// Doc writes a valid PDF with pages pages. Each page has its own text content
// stream; all share one embedded TrueType font and, with opt.Image, one image.
// It panics if pages < 1 (a zero-page document is in Corpus, as a hostile case).
func Doc(pages int, opt DocOptions) []byte {
	if pages < 1 {
		panic("pdftest.Doc: pages must be ≥ 1")
	}
	fontBytes := opt.FontBytes
	if fontBytes <= 0 {
		fontBytes = defaultFontBytes
	}
	b := newBuilder("1.7")
	catalog, root := b.alloc(), b.alloc()
	font, desc, prog := b.alloc(), b.alloc(), b.alloc()
	b.obj(catalog, fmt.Sprintf("<</Type /Catalog /Pages %d 0 R>>", root))
	b.obj(font, fmt.Sprintf("<</Type /Font /Subtype /TrueType /BaseFont /EfspipeTestSans /FirstChar 32 /LastChar 126 /Widths [%s] /Encoding /WinAnsiEncoding /FontDescriptor %d 0 R>>",
		strings.TrimSpace(strings.Repeat("500 ", 126-32+1)), desc))
	b.obj(desc, fmt.Sprintf("<</Type /FontDescriptor /FontName /EfspipeTestSans /Flags 32 /FontBBox [-100 -200 1000 900] /ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 /FontFile2 %d 0 R>>", prog))
	b.stream(prog, fmt.Sprintf(" /Length1 %d", fontBytes), randomBytes(1, fontBytes))
	resources := fmt.Sprintf("<</Font <</F1 %d 0 R>> /ProcSet [/PDF /Text]>>", font)
	img := 0
	if opt.Image {
		img = b.alloc()
		b.stream(img, " /Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceRGB /BitsPerComponent 8", randomBytes(2, 64*64*3))
		resources = fmt.Sprintf("<</Font <</F1 %d 0 R>> /XObject <</Im1 %d 0 R>> /ProcSet [/PDF /Text /ImageC]>>", font, img)
	}

	// Page tree: the root holds the pages directly, or intermediate nodes of
	// pagesPerNode pages each.
	parents := []int{root}
	if pages > pagesPerNode {
		parents = parents[:0]
		for range (pages + pagesPerNode - 1) / pagesPerNode {
			parents = append(parents, b.alloc())
		}
	}
	kids := make(map[int][]string)
	annots, firstPage := "", 0
	if opt.HomeLink {
		link := b.alloc()
		firstPage = b.next // page 1 is the loop's first allocation
		b.obj(link, fmt.Sprintf("<</Type /Annot /Subtype /Link /Rect [0 0 72 72] /Border [0 0 0] /Dest [%d 0 R /Fit]>>", firstPage))
		annots = fmt.Sprintf(" /Annots [%d 0 R]", link)
	}
	for i := 1; i <= pages; i++ {
		parent := parents[(i-1)/pagesPerNode%len(parents)]
		if len(parents) == 1 {
			parent = root
		}
		page, content := b.alloc(), b.alloc()
		if i == 1 && firstPage != 0 && page != firstPage {
			panic("pdftest.Doc: page 1 is not the object the link points at")
		}
		b.obj(page, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources %s /Contents %d 0 R%s>>", parent, resources, content, annots))
		b.stream(content, "", pageContent(i, pages, img != 0))
		kids[parent] = append(kids[parent], fmt.Sprintf("%d 0 R", page))
	}
	if len(parents) == 1 {
		b.obj(root, fmt.Sprintf("<</Type /Pages /MediaBox [0 0 612 792] /Count %d /Kids [%s]>>", pages, strings.Join(kids[root], " ")))
	} else {
		var refs []string
		for _, p := range parents {
			refs = append(refs, fmt.Sprintf("%d 0 R", p))
			b.obj(p, fmt.Sprintf("<</Type /Pages /Parent %d 0 R /Count %d /Kids [%s]>>", root, len(kids[p]), strings.Join(kids[p], " ")))
		}
		b.obj(root, fmt.Sprintf("<</Type /Pages /MediaBox [0 0 612 792] /Count %d /Kids [%s]>>", pages, strings.Join(refs, " ")))
	}
	return b.finish(catalog, "")
}

var words = strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu")

// pageContent is page i's text: a heading and a few lines of words that differ
// from page to page.
func pageContent(i, pages int, image bool) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "BT /F1 24 Tf 72 720 Td %s Tj ET\n", pdfString(fmt.Sprintf("Page %d of %d", i, pages)))
	buf.WriteString("BT /F1 11 Tf 72 690 Td 14 TL\n")
	r := rng(uint64(i) + 1000)
	for range 12 {
		var line []string
		for range 8 {
			line = append(line, words[r.next()%uint64(len(words))])
		}
		fmt.Fprintf(&buf, "%s '\n", pdfString(strings.Join(line, " ")))
	}
	buf.WriteString("ET\n")
	if image {
		buf.WriteString("q 128 0 0 128 72 420 cm /Im1 Do Q\n")
	}
	return buf.Bytes()
}
