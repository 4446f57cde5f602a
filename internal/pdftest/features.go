package pdftest

import (
	"bytes"
	"fmt"
	"strings"
)

// Feature is a valid document built to exercise one thing a page needs
// from the rest of its document when it is split off: resources it must
// carry (and those it must not), optional content, form fields, page
// labels, named destinations, catalog entries. Every page of a split must
// render as the source page does.
type Feature struct {
	Name  string
	Data  []byte
	Pages int
}

// Features returns the feature documents, in a fixed order.
func Features() []Feature {
	return []Feature{
		{"shared-resource-dict", SharedResourceDict(6), 6},
		{"forms-share-resources", formsShareResources(), 4},
		{"resourceless-form", formDrawingPageResources(false), 2},
		{"form-lacks-some-resources", formDrawingPageResources(true), 2},
		{"type3-font", type3Font(), 2},
		{"patterns-and-shadings", patternsAndShadings(), 2},
		{"inline-image-colorspace", inlineImageColorSpace(), 2},
		{"optional-content-off", OptionalContent(), 2},
		{"form-fields", FormFields(), 3},
		{"widget-without-parent", WidgetWithoutParent(), 2},
		{"page-labels", PageLabels(), 5},
		{"named-destinations", NamedDests(), 3},
		{"catalog-entries", CatalogEntries(), 2},
		{"annotation-appearance", annotationAppearance(), 2},
		{"indirect-box-numbers", indirectBoxNumbers(), 2},
	}
}

// imageBytes is the size of each image's samples: 48×48 RGB, incompressible.
const imageBytes = 48 * 48 * 3

// image adds an incompressible 48×48 RGB image XObject as object n.
func (b *builder) image(n int, seed uint64) {
	b.stream(n, " /Type /XObject /Subtype /Image /Width 48 /Height 48 /ColorSpace /DeviceRGB /BitsPerComponent 8", randomBytes(seed, imageBytes))
}

// helvetica adds a standard Type 1 font (no embedded program) as object n.
func (b *builder) helvetica(n int) {
	b.obj(n, "<</Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding>>")
}

// pageTree writes the catalog (object catalog, with extra entries) and a
// flat page tree (object root) over pages, with a 300×300 MediaBox.
func (b *builder) pageTree(catalog, root int, pages []int, catalogExtra string) {
	kids := make([]string, len(pages))
	for i, p := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", p)
	}
	b.obj(catalog, fmt.Sprintf("<</Type /Catalog /Pages %d 0 R%s>>", root, catalogExtra))
	b.obj(root, fmt.Sprintf("<</Type /Pages /MediaBox [0 0 300 300] /Count %d /Kids [%s]>>", len(pages), strings.Join(kids, " ")))
}

// SharedResourceDict is a document of n pages that all name one resource
// dictionary holding n images and a font, as some producers write books;
// page k draws image k only. A page that carries the whole dictionary is
// n times the size it needs.
func SharedResourceDict(n int) []byte {
	b := newBuilder("1.7")
	catalog, root, res, font := b.alloc(), b.alloc(), b.alloc(), b.alloc()
	b.helvetica(font)
	imgs := make([]string, n)
	for k := range n {
		img := b.alloc()
		b.image(img, uint64(100+k))
		imgs[k] = fmt.Sprintf("/Im%d %d 0 R", k+1, img)
	}
	b.obj(res, fmt.Sprintf("<</Font <</F1 %d 0 R>> /XObject <<%s>> /ProcSet [/PDF /Text /ImageC]>>", font, strings.Join(imgs, " ")))
	var pages []int
	for k := range n {
		pg, content := b.alloc(), b.alloc()
		b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources %d 0 R /Contents %d 0 R>>", root, res, content))
		b.stream(content, "", fmt.Appendf(nil, "BT /F1 18 Tf 20 260 Td (Image %d) Tj ET\nq 200 0 0 200 50 40 cm /Im%d Do Q\n", k+1, k+1))
		pages = append(pages, pg)
	}
	b.pageTree(catalog, root, pages, "")
	return b.finish(catalog, "")
}

// formsShareResources: four form XObjects whose /Resources is the one
// dictionary of the document (four forms, four images); form k draws
// image k, page k draws form k. The forms must be pruned too.
func formsShareResources() []byte {
	b := newBuilder("1.7")
	catalog, root, res := b.alloc(), b.alloc(), b.alloc()
	var entries []string
	for k := 1; k <= 4; k++ {
		img, form := b.alloc(), b.alloc()
		b.image(img, uint64(200+k))
		b.stream(form, fmt.Sprintf(" /Type /XObject /Subtype /Form /BBox [0 0 1 1] /Resources %d 0 R", res), fmt.Appendf(nil, "/Im%d Do\n", k))
		entries = append(entries, fmt.Sprintf("/Im%d %d 0 R /Fm%d %d 0 R", k, img, k, form))
	}
	b.obj(res, fmt.Sprintf("<</XObject <<%s>>>>", strings.Join(entries, " ")))
	var pages []int
	for k := 1; k <= 4; k++ {
		pg, content := b.alloc(), b.alloc()
		b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources %d 0 R /Contents %d 0 R>>", root, res, content))
		b.stream(content, "", fmt.Appendf(nil, "q 200 0 0 200 50 50 cm /Fm%d Do Q\n", k))
		pages = append(pages, pg)
	}
	b.pageTree(catalog, root, pages, "")
	return b.finish(catalog, "")
}

// formDrawingPageResources: a form XObject draws an image and text named
// in the page's resources, not its own. Without own /Resources (allowed
// before PDF 2.0) the form uses the page's; with own /Resources that lack
// those names (and hold an image it does draw), readers look them up in
// the page's too (qpdf's form-xobjects-some-resources test files). Either
// way each page must keep what the form names.
func formDrawingPageResources(ownResources bool) []byte {
	b := newBuilder("1.4")
	catalog, root, font, img, form := b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc()
	b.helvetica(font)
	b.image(img, 300)
	dict, content := " /Type /XObject /Subtype /Form /BBox [0 0 300 300]", "q 100 0 0 100 20 20 cm /ImX Do Q BT /FX 14 Tf 20 200 Td (drawn by the form) Tj ET\n"
	if ownResources {
		own := b.alloc()
		b.image(own, 311)
		dict += fmt.Sprintf(" /Resources <</XObject <</Own %d 0 R>>>>", own)
		content += "q 80 0 0 80 150 20 cm /Own Do Q\n"
	}
	b.stream(form, dict, []byte(content))
	res := fmt.Sprintf("<</Font <</FX %d 0 R>> /XObject <</ImX %d 0 R /Fm0 %d 0 R>>>>", font, img, form)
	var pages []int
	for k := 1; k <= 2; k++ {
		pg, content := b.alloc(), b.alloc()
		b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources %s /Contents %d 0 R>>", root, res, content))
		b.stream(content, "", fmt.Appendf(nil, "/Fm0 Do 1 0 0 rg %d 250 30 30 re f\n", 20*k))
		pages = append(pages, pg)
	}
	b.pageTree(catalog, root, pages, "")
	return b.finish(catalog, "")
}

// type3Font: a Type 3 font whose glyphs draw an image from the font's own
// resources; its resource dictionary is also the document's, holding an
// unused image the glyphs do not draw.
func type3Font() []byte {
	b := newBuilder("1.7")
	catalog, root, res, t3, glyphA, glyphB, img, unused := b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc()
	b.image(img, 400)
	b.image(unused, 401)
	b.stream(glyphA, "", []byte("1000 0 0 0 1000 1000 d1 q 1000 0 0 1000 0 0 cm /GImg Do Q\n"))
	b.stream(glyphB, "", []byte("1000 0 0 0 1000 1000 d1 0 0 1000 1000 re f\n"))
	b.obj(t3, fmt.Sprintf("<</Type /Font /Subtype /Type3 /FontBBox [0 0 1000 1000] /FontMatrix [0.001 0 0 0.001 0 0] /CharProcs <</a %d 0 R /b %d 0 R>> /Encoding <</Type /Encoding /Differences [97 /a /b]>> /FirstChar 97 /LastChar 98 /Widths [1000 1000] /Resources %d 0 R>>", glyphA, glyphB, res))
	b.obj(res, fmt.Sprintf("<</Font <</T3 %d 0 R>> /XObject <</GImg %d 0 R /Unused %d 0 R>>>>", t3, img, unused))
	var pages []int
	for k := 1; k <= 2; k++ {
		pg, content := b.alloc(), b.alloc()
		b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources %d 0 R /Contents %d 0 R>>", root, res, content))
		b.stream(content, "", fmt.Appendf(nil, "BT /T3 40 Tf 30 %d Td (abab) Tj ET\n", 100+50*k))
		pages = append(pages, pg)
	}
	b.pageTree(catalog, root, pages, "")
	return b.finish(catalog, "")
}

// patternsAndShadings: a tiling pattern with resources of its own, an axial
// shading used by `sh`, a shading pattern, a separation colour space and an
// ExtGState, all in one shared resource dictionary with unused entries
// of each kind beside them, one of them an ExtGState with transparency.
func patternsAndShadings() []byte {
	b := newBuilder("1.7")
	catalog, root, res, tile, tileImg, sh, fn, gs := b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc()
	b.image(tileImg, 500)
	b.stream(tile, fmt.Sprintf(" /Type /Pattern /PatternType 1 /PaintType 1 /TilingType 1 /BBox [0 0 20 20] /XStep 20 /YStep 20 /Resources <</XObject <</TI %d 0 R>>>>", tileImg), []byte("q 20 0 0 20 0 0 cm /TI Do Q\n"))
	b.obj(fn, "<</FunctionType 2 /Domain [0 1] /C0 [1 0 0] /C1 [0 0 1] /N 1>>")
	b.obj(sh, fmt.Sprintf("<</ShadingType 2 /ColorSpace /DeviceRGB /Coords [0 0 300 0] /Function %d 0 R /Extend [true true]>>", fn))
	b.obj(gs, "<</Type /ExtGState /ca 0.5 /CA 0.5>>")
	b.obj(res, fmt.Sprintf("<</Pattern <</P1 %d 0 R /P2 <</PatternType 2 /Shading %d 0 R>> /Punused %d 0 R>> /Shading <</Sh1 %d 0 R /ShUnused %d 0 R>> /ExtGState <</GS1 %d 0 R /GSunused <</LW 2>> /GSsee <</CA 0.1>>>> /ColorSpace <</CSsep [/Separation /Spot /DeviceCMYK %d 0 R] /CSunused /DeviceRGB>>>>",
		tile, sh, tile, sh, sh, gs, fn))
	var pages []int
	for k := 1; k <= 2; k++ {
		pg, content := b.alloc(), b.alloc()
		b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources %d 0 R /Contents %d 0 R>>", root, res, content))
		var c string
		if k == 1 {
			c = "/Pattern cs /P1 scn 10 10 280 130 re f q 10 150 280 140 re W n /Sh1 sh Q\n"
		} else {
			c = "/GS1 gs /Pattern cs /P2 scn 10 10 280 130 re f /CSsep cs 0.8 sc 10 150 280 140 re f\n"
		}
		b.stream(content, "", []byte(c))
		pages = append(pages, pg)
	}
	b.pageTree(catalog, root, pages, "")
	return b.finish(catalog, "")
}

// inlineImageColorSpace: an inline image whose colour space is a name in
// the page's resources, and a /DefaultRGB the device operators use
// without naming it.
func inlineImageColorSpace() []byte {
	b := newBuilder("1.7")
	catalog, root := b.alloc(), b.alloc()
	res := "<</ColorSpace <</CSI [/Indexed /DeviceRGB 1 <ff000000ff00>] /DefaultRGB [/CalRGB <</WhitePoint [0.9505 1 1.089] /Gamma [1.8 1.8 1.8]>>] /CSunused /DeviceGray>>>>"
	var pages []int
	for k := 1; k <= 2; k++ {
		pg, content := b.alloc(), b.alloc()
		b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources %s /Contents %d 0 R>>", root, res, content))
		var c bytes.Buffer
		fmt.Fprintf(&c, "0.2 0.6 0.9 rg 0 0 300 100 re f\nq 200 0 0 100 50 150 cm BI /W 4 /H 2 /CS /CSI /BPC 1 ID ")
		c.Write([]byte{0x50 | byte(k), 0xa0})
		c.WriteString(" EI Q\n")
		b.stream(content, "", c.Bytes())
		pages = append(pages, pg)
	}
	b.pageTree(catalog, root, pages, "")
	return b.finish(catalog, "")
}

// OptionalContent is a two-page document whose content sits in two
// optional content groups, one of them OFF by default: a reader hides it.
// A page that loses /OCProperties shows it.
func OptionalContent() []byte {
	b := newBuilder("1.7")
	catalog, root, on, off, unused := b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc()
	b.obj(on, "<</Type /OCG /Name (Shown)>>")
	b.obj(off, "<</Type /OCG /Name (Hidden)>>")
	b.obj(unused, "<</Type /OCG /Name (Elsewhere)>>")
	res := fmt.Sprintf("<</Properties <</oc1 %d 0 R /oc2 %d 0 R>>>>", on, off)
	var pages []int
	for k := 1; k <= 2; k++ {
		pg, content := b.alloc(), b.alloc()
		b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources %s /Contents %d 0 R>>", root, res, content))
		b.stream(content, "", fmt.Appendf(nil, "/OC /oc1 BDC 0 0 1 rg 20 20 120 %d re f EMC\n/OC /oc2 BDC 1 0 0 rg 160 20 120 250 re f EMC\n", 100*k))
		pages = append(pages, pg)
	}
	b.pageTree(catalog, root, pages, fmt.Sprintf(" /OCProperties <</OCGs [%d 0 R %d 0 R %d 0 R] /D <</Order [%d 0 R %d 0 R %d 0 R] /ON [%d 0 R] /OFF [%d 0 R %d 0 R]>>>>",
		on, off, unused, on, off, unused, on, off, unused))
	return b.finish(catalog, "")
}

// FormFields is a three-page form: a text field on each of pages 1 and 3,
// and a radio group ("choice") whose two buttons sit on pages 1 and 2. The
// form has default resources and appearance, and each widget an
// appearance stream.
func FormFields() []byte {
	b := newBuilder("1.7")
	catalog, root, font, radio := b.alloc(), b.alloc(), b.alloc(), b.alloc()
	b.helvetica(font)
	pageNrs := []int{b.alloc(), b.alloc(), b.alloc()}
	appearance := func(text string) int {
		n := b.alloc()
		b.stream(n, fmt.Sprintf(" /Type /XObject /Subtype /Form /BBox [0 0 150 20] /Resources <</Font <</Helv %d 0 R>>>>", font),
			fmt.Appendf(nil, "/Tx BMC BT /Helv 12 Tf 2 5 Td %s Tj ET EMC\n", pdfString(text)))
		return n
	}
	var fields []string
	annots := make([][]string, 3)
	text := func(page int, name, value string) {
		f := b.alloc()
		ap := appearance(value)
		b.obj(f, fmt.Sprintf("<</Type /Annot /Subtype /Widget /FT /Tx /T %s /V %s /DA (/Helv 12 Tf 0 g) /Rect [50 200 200 220] /P %d 0 R /AP <</N %d 0 R>> /F 4>>",
			pdfString(name), pdfString(value), pageNrs[page], ap))
		fields = append(fields, fmt.Sprintf("%d 0 R", f))
		annots[page] = append(annots[page], fmt.Sprintf("%d 0 R", f))
	}
	text(0, "name", "Ada Lovelace")
	text(2, "city", "London")
	var kids []string
	for k, page := range []int{0, 1} {
		w, on, off := b.alloc(), b.alloc(), b.alloc()
		b.stream(on, " /Type /XObject /Subtype /Form /BBox [0 0 20 20]", []byte("0 g 4 4 12 12 re f\n"))
		b.stream(off, " /Type /XObject /Subtype /Form /BBox [0 0 20 20]", []byte("0 G 1 1 18 18 re S\n"))
		state := "/Off"
		if k == 0 {
			state = "/opt1"
		}
		b.obj(w, fmt.Sprintf("<</Type /Annot /Subtype /Widget /Parent %d 0 R /Rect [50 100 70 120] /P %d 0 R /AS %s /AP <</N <</opt%d %d 0 R /Off %d 0 R>>>> /F 4>>",
			radio, pageNrs[page], state, k+1, on, off))
		kids = append(kids, fmt.Sprintf("%d 0 R", w))
		annots[page] = append(annots[page], fmt.Sprintf("%d 0 R", w))
	}
	b.obj(radio, fmt.Sprintf("<</FT /Btn /Ff 49152 /T (choice) /V /opt1 /Kids [%s]>>", strings.Join(kids, " ")))
	fields = append(fields, fmt.Sprintf("%d 0 R", radio))
	for i, pg := range pageNrs {
		content := b.alloc()
		b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources <</Font <</F1 %d 0 R>>>> /Contents %d 0 R /Annots [%s]>>", root, font, content, strings.Join(annots[i], " ")))
		b.stream(content, "", fmt.Appendf(nil, "BT /F1 14 Tf 50 260 Td (Form page %d) Tj ET\n", i+1))
	}
	b.pageTree(catalog, root, pageNrs, fmt.Sprintf(" /AcroForm <</Fields [%s] /DR <</Font <</Helv %d 0 R>>>> /DA (/Helv 0 Tf 0 g) /NeedAppearances false>>", strings.Join(fields, " "), font))
	return b.finish(catalog, "")
}

// PageLabels is a five-page document labelled i, ii, iii, A-1, A-2.
func PageLabels() []byte {
	b := newBuilder("1.7")
	catalog, root := b.alloc(), b.alloc()
	var pages []int
	for k := 1; k <= 5; k++ {
		pg, content := b.alloc(), b.alloc()
		b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Contents %d 0 R>>", root, content))
		b.stream(content, "", fmt.Appendf(nil, "0 0 1 rg 10 10 %d 20 re f\n", 40*k))
		pages = append(pages, pg)
	}
	b.pageTree(catalog, root, pages, " /PageLabels <</Nums [0 <</S /r>> 3 <</S /D /P (A-)>>]>>")
	return b.finish(catalog, "")
}

// NamedDests is a three-page document with a name tree of destinations:
// "intro" on page 1, "results" and "table" on page 2, "end" on page 3.
// Page 2 links to "table" (on itself) and to "intro".
func NamedDests() []byte {
	b := newBuilder("1.7")
	catalog, root, names, tableDest := b.alloc(), b.alloc(), b.alloc(), b.alloc()
	pg := []int{b.alloc(), b.alloc(), b.alloc()}
	b.obj(tableDest, fmt.Sprintf("[%d 0 R /XYZ 0 150 0]", pg[1]))
	b.obj(names, fmt.Sprintf("<</Names [(end) [%d 0 R /Fit] (intro) [%d 0 R /Fit] (results) <</D [%d 0 R /XYZ 0 300 0]>> (table) %d 0 R]>>", pg[2], pg[0], pg[1], tableDest))
	for i, p := range pg {
		content := b.alloc()
		annots := ""
		if i == 1 {
			self, other := b.alloc(), b.alloc()
			b.obj(self, "<</Type /Annot /Subtype /Link /Rect [10 10 100 40] /Border [0 0 0] /Dest (table)>>")
			b.obj(other, "<</Type /Annot /Subtype /Link /Rect [10 50 100 80] /Border [0 0 0] /A <</S /GoTo /D (intro)>>>>")
			annots = fmt.Sprintf(" /Annots [%d 0 R %d 0 R]", self, other)
		}
		b.obj(p, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Contents %d 0 R%s>>", root, content, annots))
		b.stream(content, "", fmt.Appendf(nil, "0 1 0 rg 10 %d 50 50 re f\n", 60*i+10))
	}
	b.pageTree(catalog, root, pg, fmt.Sprintf(" /Names <</Dests %d 0 R>>", names))
	return b.finish(catalog, "")
}

// CatalogEntries is a two-page document with a language, marked content
// info, a PDF/X output intent with its ICC profile, and an information
// dictionary.
func CatalogEntries() []byte {
	b := newBuilder("1.6")
	catalog, root, icc, info := b.alloc(), b.alloc(), b.alloc(), b.alloc()
	b.stream(icc, " /N 4", randomBytes(600, 2048))
	b.obj(info, "<</Title (Catalog entries) /Author (efspipe tests)>>")
	var pages []int
	for k := 1; k <= 2; k++ {
		pg, content := b.alloc(), b.alloc()
		b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Contents %d 0 R>>", root, content))
		b.stream(content, "", fmt.Appendf(nil, "0 0 0 1 k 10 10 %d 50 re f\n", 100*k))
		pages = append(pages, pg)
	}
	b.pageTree(catalog, root, pages, fmt.Sprintf(" /Lang (en-GB) /MarkInfo <</Marked true>> /OutputIntents [<</Type /OutputIntent /S /GTS_PDFX /OutputConditionIdentifier (FOGRA39) /DestOutputProfile %d 0 R>>]", icc))
	return b.finish(catalog, fmt.Sprintf(" /Info %d 0 R", info))
}

// annotationAppearance: a stamp annotation whose appearance stream has
// resources of its own (a font and an image), named in a resource
// dictionary that also holds what the page does not use.
func annotationAppearance() []byte {
	b := newBuilder("1.7")
	catalog, root, font, img, extra, ap, shared := b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc()
	b.helvetica(font)
	b.image(img, 700)
	b.image(extra, 701)
	b.obj(shared, fmt.Sprintf("<</Font <</Helv %d 0 R>> /XObject <</Stamp %d 0 R /Extra %d 0 R>>>>", font, img, extra))
	b.stream(ap, fmt.Sprintf(" /Type /XObject /Subtype /Form /BBox [0 0 120 60] /Resources %d 0 R", shared),
		[]byte("q 40 0 0 40 5 10 cm /Stamp Do Q BT /Helv 12 Tf 50 25 Td (Approved) Tj ET\n"))
	var pages []int
	for k := 1; k <= 2; k++ {
		pg, content, annot := b.alloc(), b.alloc(), b.alloc()
		b.obj(annot, fmt.Sprintf("<</Type /Annot /Subtype /Stamp /Rect [%d 100 %d 160] /AP <</N %d 0 R>> /F 4>>", 20*k, 20*k+120, ap))
		b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources %d 0 R /Contents %d 0 R /Annots [%d 0 R]>>", root, shared, content, annot))
		b.stream(content, "", fmt.Appendf(nil, "BT /Helv 16 Tf 20 260 Td (Page %d) Tj ET\n", k))
		pages = append(pages, pg)
	}
	b.pageTree(catalog, root, pages, "")
	return b.finish(catalog, "")
}

// indirectBoxNumbers: the page tree's /MediaBox and the second page's
// /CropBox hold their numbers as indirect objects (pdf.js's issue7872.pdf),
// which ISO 32000-1 7.3.10 allows of any array element.
func indirectBoxNumbers() []byte {
	b := newBuilder("1.7")
	catalog, root, font := b.alloc(), b.alloc(), b.alloc()
	b.helvetica(font)
	nums := map[int]int{}
	for _, v := range []int{0, 10, 200, 280} {
		nums[v] = b.alloc()
		b.obj(nums[v], fmt.Sprint(v))
	}
	box := func(vs ...int) string {
		refs := make([]string, len(vs))
		for i, v := range vs {
			refs[i] = fmt.Sprintf("%d 0 R", nums[v])
		}
		return "[" + strings.Join(refs, " ") + "]"
	}
	var pages []int
	for k := 1; k <= 2; k++ {
		pg, content := b.alloc(), b.alloc()
		crop := ""
		if k == 2 {
			crop = " /CropBox " + box(10, 10, 200, 200)
		}
		b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources <</Font <</F1 %d 0 R>>>> /Contents %d 0 R%s>>", root, font, content, crop))
		b.stream(content, "", fmt.Appendf(nil, "BT /F1 16 Tf 20 100 Td (Page %d) Tj ET 0 0 1 rg 150 150 100 100 re f\n", k))
		pages = append(pages, pg)
	}
	kids := make([]string, len(pages))
	for i, p := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", p)
	}
	b.obj(catalog, fmt.Sprintf("<</Type /Catalog /Pages %d 0 R>>", root))
	b.obj(root, fmt.Sprintf("<</Type /Pages /MediaBox %s /Count %d /Kids [%s]>>", box(0, 0, 280, 280), len(pages), strings.Join(kids, " ")))
	return b.finish(catalog, "")
}

// WidgetWithoutParent: a radio button field whose /Kids hold a widget on
// page 1 and a non-terminal field whose own widget, also on page 1, lost
// its /Parent (as in qpdf's button-set test files); page 2 has a text field.
// Page 1 must carry the radio field's tree as the source has it, and no
// page the other page's field.
func WidgetWithoutParent() []byte {
	b := newBuilder("1.7")
	catalog, root, font, radio, middle, w1, w2, text := b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc()
	pg1, pg2 := b.alloc(), b.alloc()
	b.helvetica(font)
	box := func(fill bool) int {
		n := b.alloc()
		op := "0 G 1 1 18 18 re S\n"
		if fill {
			op = "0 g 4 4 12 12 re f\n"
		}
		b.stream(n, " /Type /XObject /Subtype /Form /BBox [0 0 20 20]", []byte(op))
		return n
	}
	b.obj(w1, fmt.Sprintf("<</Type /Annot /Subtype /Widget /Parent %d 0 R /Rect [50 100 70 120] /P %d 0 R /AS /Off /AP <</N <</a %d 0 R /Off %d 0 R>>>> /F 4>>", radio, pg1, box(true), box(false)))
	b.obj(w2, fmt.Sprintf("<</Type /Annot /Subtype /Widget /Rect [50 140 70 160] /P %d 0 R /AS /b /AP <</N <</b %d 0 R /Off %d 0 R>>>> /F 4>>", pg1, box(true), box(false)))
	b.obj(middle, fmt.Sprintf("<</Parent %d 0 R /Kids [%d 0 R]>>", radio, w2))
	b.obj(radio, fmt.Sprintf("<</FT /Btn /Ff 49152 /T (choice) /V /b /Kids [%d 0 R %d 0 R]>>", w1, middle))
	ap := b.alloc()
	b.stream(ap, fmt.Sprintf(" /Type /XObject /Subtype /Form /BBox [0 0 150 20] /Resources <</Font <</Helv %d 0 R>>>>", font), []byte("/Tx BMC BT /Helv 12 Tf 2 5 Td (Page two) Tj ET EMC\n"))
	b.obj(text, fmt.Sprintf("<</Type /Annot /Subtype /Widget /FT /Tx /T (city) /V (Page two) /DA (/Helv 12 Tf 0 g) /Rect [50 200 200 220] /P %d 0 R /AP <</N %d 0 R>> /F 4>>", pg2, ap))
	for i, pg := range []int{pg1, pg2} {
		content := b.alloc()
		annots := fmt.Sprintf("%d 0 R %d 0 R", w1, w2)
		if i == 1 {
			annots = fmt.Sprintf("%d 0 R", text)
		}
		b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources <</Font <</F1 %d 0 R>>>> /Contents %d 0 R /Annots [%s]>>", root, font, content, annots))
		b.stream(content, "", fmt.Appendf(nil, "BT /F1 14 Tf 50 260 Td (Field page %d) Tj ET\n", i+1))
	}
	b.pageTree(catalog, root, []int{pg1, pg2}, fmt.Sprintf(" /AcroForm <</Fields [%d 0 R %d 0 R] /DR <</Font <</Helv %d 0 R>>>> /DA (/Helv 0 Tf 0 g) /NeedAppearances true>>", radio, text, font))
	return b.finish(catalog, "")
}

// StrayHashName is a one-page document whose resource dictionary names an
// image /Im#1, a '#' that begins no hex escape (invalid since PDF 1.2, ISO
// 32000-1 7.3.5; qpdf reads it as written, with a warning). When drawn,
// the content draws it with Do; otherwise the name only appears in a
// string the page shows, as a URL fragment does in many manuals.
func StrayHashName(drawn bool) []byte {
	b := newBuilder("1.4")
	catalog, root, img, font, pg, content := b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc(), b.alloc()
	b.image(img, 320)
	b.helvetica(font)
	b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources <</Font <</F1 %d 0 R>> /XObject <</Im#1 %d 0 R>>>> /Contents %d 0 R>>", root, font, img, content))
	text := "BT /F1 10 Tf 20 250 Td (see /guide.html#Im#1 and /Im#1) Tj ET\n"
	if drawn {
		text += "q 100 0 0 100 20 20 cm /Im#1 Do Q\n"
	}
	b.stream(content, "", []byte(text))
	b.pageTree(catalog, root, []int{pg}, "")
	return b.finish(catalog, "")
}
