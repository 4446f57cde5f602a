package pdftest

import (
	"fmt"
	"strings"
)

// ImageDoc writes a valid PDF of pages pages, each drawing an image of its
// own (imageBytes of incompressible RGB samples, stored unfiltered) and a
// line of text in a font every page shares: a scanned or figure-heavy
// document, where the images are nearly all of the file and no two pages
// share them. It panics if pages < 1 or imageBytes < 3.
func ImageDoc(pages, imageBytes int) []byte {
	if pages < 1 || imageBytes < 3 {
		panic("pdftest.ImageDoc: pages must be ≥ 1 and imageBytes ≥ 3")
	}
	// A 3:4 RGB image of about imageBytes samples.
	w := max(1, sqrtInt(imageBytes/3*3/4))
	h := max(1, imageBytes/3/w)
	b := newBuilder("1.7")
	catalog, root, font := b.alloc(), b.alloc(), b.alloc()
	b.helvetica(font)
	kids := make([]int, pages)
	for i := range pages {
		page, content, img := b.alloc(), b.alloc(), b.alloc()
		kids[i] = page
		b.obj(page, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Contents %d 0 R /Resources <</XObject <</Im0 %d 0 R>> /Font <</F1 %d 0 R>>>>>>", root, content, img, font))
		b.stream(content, "", fmt.Appendf(nil, "q 400 0 0 546 100 100 cm /Im0 Do Q BT /F1 12 Tf 72 720 Td (Page %d) Tj ET", i+1))
		b.stream(img, fmt.Sprintf(" /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8", w, h), randomBytes(uint64(10000+i), w*h*3))
	}
	refs := make([]string, pages)
	for i, p := range kids {
		refs[i] = fmt.Sprintf("%d 0 R", p)
	}
	b.obj(catalog, fmt.Sprintf("<</Type /Catalog /Pages %d 0 R>>", root))
	b.obj(root, fmt.Sprintf("<</Type /Pages /MediaBox [0 0 612 792] /Count %d /Kids [%s]>>", pages, strings.Join(refs, " ")))
	return b.finish(catalog, "")
}

// sqrtInt is the integer square root of n ≥ 0.
func sqrtInt(n int) int {
	r := 0
	for (r+1)*(r+1) <= n {
		r++
	}
	return r
}
