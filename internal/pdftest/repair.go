package pdftest

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// The cases below are files pdfcpu refuses (or, for the encrypted one
// with junk before its header, misreads) and qpdf repairs: each has the
// one defect its name says, in a small document whose every page reads
// "Page i of n".

// repairCases are the repair layer's cases, appended to Corpus.
func repairCases() []Case {
	return []Case{
		{"xref-incomplete-subsection", xrefIncomplete(), ""},
		{"trailer-missing-size", trailerWithout("/Size"), ""},
		{"startxref-negative", startxrefNegative(), ""},
		{"header-version-1.8", withVersion("1.8"), ""},
		{"header-version-2.1", withVersion("2.1"), ""},
		{"header-version-2.0-extensions", withExtensions(), ""},
		{"object-header-damaged", objectHeaderDamaged(), ""},
		{"xref-wrong-offsets", xrefWrongOffsets(), ""},
		{"length-too-long", wrongLength(+40), ""},
		{"length-too-short", wrongLength(-7), ""},
		{"object-stream-n-too-large", objectStreamCount(), ""},
		// pdfcpu read the object stream as its /Length says, and failed on
		// its last object only when a page reached it: the file was never
		// repaired and every page failed (iText's CompressionWrongObjStm).
		{"object-stream-length-too-short", objectStreamLengthShort(), ""},
		{"header-after-1024", headerAfter(1500), ""},
		{"header-missing", headerMissing(), ""},
		{"indirect-filter", indirectFilter(), ""},
		{"indirect-decodeparms", indirectDecodeParms(), ""},
		{"decodeparms-longer-than-filter", longDecodeParms(), ""},
		{"filter-is-a-string", filterString(), ""},
		{"length-not-integer", lengthNotInteger(), ""},
		{"object-stream-wrong-type", objectStreamWrongType(), ""},
		{"thumbnail-in-object-stream", thumbnailInObjectStream(), ""},
		{"endobj-missing-before-xref", endobjMissing(), ""},
		{"catalog-missing", catalogMissing(), ""},
		{"catalog-damaged", catalogDamaged(), ""},
		{"page-tree-node-damaged", pageTreeNodeDamaged(), ""},
		// The repair scan read at most 11 digits before " 0 obj": it
		// missed the page tree node and the second page, synthesized a
		// catalog over the first page alone and published one page of
		// two (PDF-Writer's fuzzing corpus).
		{"object-numbers-zero-padded", zeroPaddedNumbers(), ""},
		{"encrypted-r6-empty-owner", encryptedDoc(encSpec{v: 5, r: 6, bytes: 32, method: "AESV3", user: UserPassword, seed: 11}), ""},
		{"encrypted-rc4-no-length", encryptedDoc(encSpec{v: 2, r: 3, bytes: 16, method: "RC4", seed: 12}), ""},
		{"encrypted-aesv2-length-in-bytes", encryptedDoc(encSpec{v: 4, r: 4, bytes: 16, method: "AESV2", cfLength: " /Length 16", seed: 13}), ""},
		{"encrypted-rc4-metadata-filter", encryptedDoc(encSpec{v: 4, r: 4, bytes: 16, method: "RC4", length: " /Length 128", clearMetadata: true, seed: 14}), ""},
		{"encrypted-rc4-user-password", encryptedDoc(encSpec{v: 2, r: 3, bytes: 16, method: "RC4", user: UserPassword, owner: OwnerPassword, seed: 15}), pipeerr.Encrypted},
		// pdfcpu ignores a direct encryption dictionary and read these
		// as unencrypted: their pages were published as ciphertext.
		{"encrypted-direct-dictionary", encryptedDoc(encSpec{v: 1, r: 2, bytes: 5, method: "RC4", direct: true, seed: 18}), ""},
		{"encrypted-direct-dictionary-xref-stream", encryptedDoc(encSpec{v: 1, r: 2, bytes: 5, method: "RC4", direct: true, xrefStream: true, seed: 20}), ""},
		// The crypt filter, as an object of its own, was not found by the
		// repair layer (pdfcpu refuses the file): streams and strings were
		// written as stored (pdf.js's issue7665.pdf).
		{"encrypted-aesv3-indirect-crypt-filter", encryptedDoc(encSpec{v: 5, r: 6, bytes: 32, method: "AESV3", indirectCF: true, seed: 21}), ""},
		{"encrypted-aesv2-indirect-crypt-filter", encryptedDoc(encSpec{v: 4, r: 4, bytes: 16, method: "AESV2", length: " /Length 128", indirectCF: true, seed: 22}), ""},
		// pdfcpu decrypts every stream and string with the crypt filter
		// whatever /StmF and /StrF say: streams and strings left in the
		// clear (Identity) were published as garbage, or the page failed
		// its check (fpdf2's no_encryption.pdf, which qpdf splits).
		{"encrypted-rc4-identity-crypt-filters", encryptedDoc(encSpec{v: 4, r: 4, bytes: 16, method: "RC4", length: " /Length 128", clearStreams: true, clearStrings: true, seed: 23}), ""},
		{"encrypted-direct-dictionary-user-password", encryptedDoc(encSpec{v: 1, r: 2, bytes: 5, method: "RC4", user: UserPassword, owner: OwnerPassword, direct: true, seed: 19}), pipeerr.Encrypted},
		{"encrypted-junk-before-header", encryptedUpdated(true, 0), ""},
		{"encrypted-prev-broken", encryptedUpdated(false, 7), ""},
		{"encrypted-linearized-junk-before-header", encryptedLinearized("From: scanner@example.com\r\nContent-Type: application/pdf\r\n\r\n"), ""},
	}
}

// unreadableRepairCases are the repair cases poppler cannot render: the
// document before the damage is their reference.
var unreadableRepairCases = []string{"catalog-missing", "catalog-damaged", "header-missing", "object-stream-n-too-large"}

// RepairCases returns the entries of Corpus the repair layer exists for:
// files pdfcpu refuses or misreads, each RepairPages pages whose text is
// "Page i of n". Callers must not modify it.
func RepairCases() []Case { return repairSubset() }

var repairSubset = sync.OnceValue(func() []Case {
	names := map[string]bool{}
	for _, c := range repairCases() {
		names[c.Name] = true
	}
	var out []Case
	for _, c := range Corpus() {
		if names[c.Name] {
			out = append(out, c)
		}
	}
	return out
})

// RepairPages is the page count of every repair case.
const RepairPages = 2

// textDoc is a builder holding a catalog (1), a page tree (2), a font
// (3) and its pages, each a page object followed by its content stream.
type textDoc struct {
	b       *builder
	pages   []int // page object numbers
	content []int // content stream numbers
}

func newTextDoc(version string, pages int, pageExtra string) *textDoc {
	d := &textDoc{b: newBuilder(version)}
	b := d.b
	catalog, root, font := b.alloc(), b.alloc(), b.alloc()
	b.obj(catalog, fmt.Sprintf("<</Type /Catalog /Pages %d 0 R>>", root))
	b.obj(font, "<</Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding>>")
	var kids []string
	for i := 1; i <= pages; i++ {
		pg, content := b.alloc(), b.alloc()
		d.pages, d.content = append(d.pages, pg), append(d.content, content)
		b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources <</Font <</F1 %d 0 R>>>> /Contents %d 0 R%s>>", root, font, content, pageExtra))
		b.stream(content, "", pageText(i, pages))
		kids = append(kids, fmt.Sprintf("%d 0 R", pg))
	}
	b.obj(root, fmt.Sprintf("<</Type /Pages /MediaBox [0 0 300 300] /Count %d /Kids [%s]>>", pages, strings.Join(kids, " ")))
	return d
}

func pageText(i, n int) []byte {
	return fmt.Appendf(nil, "BT /F1 24 Tf 30 150 Td (Page %d of %d) Tj ET\n", i, n)
}

// deflate compresses data with stored blocks: the bytes do not depend on
// the Go version's compressor.
func deflate(data []byte) []byte {
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.NoCompression)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func xrefIncomplete() []byte {
	doc := newTextDoc("1.7", RepairPages, "").b.finish(1, "")
	// The subsection announces three more entries than it lists.
	i := bytes.Index(doc, []byte("\nxref\n0 ")) + len("\nxref\n0 ")
	j := i + bytes.IndexByte(doc[i:], '\n')
	var n int
	fmt.Sscan(string(doc[i:j]), &n)
	return bytes.Join([][]byte{doc[:i], fmt.Appendf(nil, "%d", n+3), doc[j:]}, nil)
}

// trailerWithout drops key's entry from the trailer, with spaces in its
// place so that startxref still points at the xref.
func trailerWithout(key string) []byte {
	doc := newTextDoc("1.7", RepairPages, "").b.finish(1, "")
	t := bytes.LastIndex(doc, []byte("trailer"))
	k := t + bytes.Index(doc[t:], []byte(key))
	e := k + len(key) + 1
	for e < len(doc) && doc[e] >= '0' && doc[e] <= '9' {
		e++
	}
	out := bytes.Clone(doc)
	copy(out[k:e], bytes.Repeat([]byte(" "), e-k))
	return out
}

// startxrefNegative points startxref at -1 and makes one xref entry
// negative.
func startxrefNegative() []byte {
	doc := newTextDoc("1.7", RepairPages, "").b.finish(1, "")
	i := bytes.LastIndex(doc, []byte("startxref\n"))
	out := append(bytes.Clone(doc[:i]), "startxref\n-1\n%%EOF\n"...)
	x := bytes.Index(out, []byte(" 00000 n \n"))
	copy(out[x-10:x], "-000000001")
	return out
}

func withVersion(v string) []byte {
	return newTextDoc(v, RepairPages, "").b.finish(1, "")
}

// headerAfter puts n bytes of text before the header: offsets count from
// the header, as Acrobat reads them.
func headerAfter(n int) []byte {
	junk := bytes.Repeat([]byte("junk line before the header\n"), n/28+1)[:n]
	return append(junk, withVersion("1.7")...)
}

// headerMissing is a file that starts at its first object.
func headerMissing() []byte {
	doc := withVersion("1.7")
	return doc[bytes.Index(doc, []byte("1 0 obj")):]
}

func indirectFilter() []byte {
	d := newTextDoc("1.7", RepairPages, "")
	f := d.b.alloc()
	d.b.obj(f, "/FlateDecode")
	for i, c := range d.content {
		d.b.stream(c, fmt.Sprintf(" /Filter [%d 0 R]", f), deflate(pageText(i+1, RepairPages)))
	}
	return d.b.finish(1, "")
}

// indirectDecodeParms refers to its /DecodeParms, a stream's dictionary
// (qpdf's indirect-decode-parms).
func indirectDecodeParms() []byte {
	d := newTextDoc("1.7", RepairPages, "")
	p := d.b.alloc()
	d.b.stream(p, " /Predictor 1", nil)
	for i, c := range d.content {
		d.b.stream(c, fmt.Sprintf(" /Filter /FlateDecode /DecodeParms %d 0 R", p), deflate(pageText(i+1, RepairPages)))
	}
	return d.b.finish(1, "")
}

func longDecodeParms() []byte {
	d := newTextDoc("1.7", RepairPages, "")
	for i, c := range d.content {
		d.b.stream(c, " /Filter [/FlateDecode] /DecodeParms [null <</Predictor 1>> null]", deflate(pageText(i+1, RepairPages)))
	}
	return d.b.finish(1, "")
}

// filterString names its filter with a string (qpdf's bad30).
func filterString() []byte {
	d := newTextDoc("1.7", RepairPages, "")
	for i, c := range d.content {
		d.b.stream(c, " /Filter (FlateDecode)", deflate(pageText(i+1, RepairPages)))
	}
	return d.b.finish(1, "")
}

// lengthNotInteger gives the first content stream a /Length that refers
// to a string.
func lengthNotInteger() []byte {
	d := newTextDoc("1.7", RepairPages, "")
	n := d.b.alloc()
	d.b.obj(n, "(forty)")
	data := pageText(1, RepairPages)
	d.b.objs[d.content[0]] = fmt.Appendf(nil, "%d 0 obj\n<</Length %d 0 R>>\nstream\n%s\nendstream\nendobj\n", d.content[0], n, data)
	return d.b.finish(1, "")
}

// objectStream holds objs (number → body) as an object stream of type
// typ, numbered nr, uncompressed.
func objectStream(b *builder, nr int, typ string, objs map[int]string, order []int) {
	data, first := objectStreamData(objs, order)
	b.stream(nr, fmt.Sprintf(" /Type /%s /N %d /First %d", typ, len(order), first), data)
}

// objectStreamData is the decoded data of an object stream holding objs in
// order, and its /First.
func objectStreamData(objs map[int]string, order []int) ([]byte, int) {
	var head, body bytes.Buffer
	for _, n := range order {
		fmt.Fprintf(&head, "%d %d ", n, body.Len())
		body.WriteString(objs[n])
		body.WriteString("\n")
	}
	return append(head.Bytes(), body.Bytes()...), head.Len()
}

// compressedXref writes the file with a cross-reference stream that
// places inStream's objects in object stream os; extra is appended to the
// stream's dictionary.
func compressedXref(b *builder, root, os int, inStream []int, extra string) []byte {
	xs := b.alloc()
	body, offs := b.layout()
	index := map[int]int{}
	for i, n := range inStream {
		index[n] = i
	}
	var rows []byte
	for n := range xs + 1 {
		switch i, compressed := index[n]; {
		case n == 0:
			rows = append(rows, 0, 0, 0, 0, 0, 0xff)
		case compressed:
			rows = append(rows, 2, 0, 0, byte(os>>8), byte(os), byte(i))
		case n == xs:
			at := len(body)
			rows = append(rows, 1, byte(at>>24), byte(at>>16), byte(at>>8), byte(at), 0)
		default:
			at, ok := offs[n]
			if !ok {
				rows = append(rows, 0, 0, 0, 0, 0, 0)
				continue
			}
			rows = append(rows, 1, byte(at>>24), byte(at>>16), byte(at>>8), byte(at), 0)
		}
	}
	start := len(body)
	out := fmt.Appendf(body, "%d 0 obj\n<</Type /XRef /Size %d /W [1 4 1] /Root %d 0 R%s /Length %d>>\nstream\n", xs, xs+1, root, extra, len(rows))
	out = append(out, rows...)
	return fmt.Appendf(out, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", start)
}

// objectStreamWrongType keeps catalog, page tree and pages in an object
// stream whose /Type is wrong (qpdf's bad35).
func objectStreamWrongType() []byte {
	d := newTextDoc("1.5", RepairPages, "")
	b := d.b
	inStream := []int{1, 2, 3}
	inStream = append(inStream, d.pages...)
	os := packObjects(b, "Potato", inStream)
	return compressedXref(b, 1, os, inStream, "")
}

// objBody is the body of object n as the builder wrote it.
func objBody(b *builder, n int) string {
	s := string(b.objs[n])
	s = s[strings.Index(s, "obj\n")+4:]
	return strings.TrimSuffix(s, "\nendobj\n")
}

// thumbnailInObjectStream stores the first page's thumbnail image, a
// whole stream, inside an object stream, as pdfTeX 1.40.13-15 did.
func thumbnailInObjectStream() []byte {
	d := newTextDoc("1.5", RepairPages, "")
	b := d.b
	thumb, os := b.alloc(), b.alloc()
	pixels := randomBytes(21, 8*8*3)
	b.obj(d.pages[0], strings.Replace(objBody(b, d.pages[0]), ">>>>", fmt.Sprintf(">>>> /Thumb %d 0 R", thumb), 1))
	inStream := []int{2, 3, thumb}
	objs := map[int]string{
		2:     objBody(b, 2),
		3:     objBody(b, 3),
		thumb: fmt.Sprintf("<</Width 8 /Height 8 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length %d>>\nstream\n%s\nendstream", len(pixels), pixels),
	}
	delete(b.objs, 2)
	delete(b.objs, 3)
	objectStream(b, os, "ObjStm", objs, inStream)
	return compressedXref(b, 1, os, inStream, "")
}

// endobjMissing: the last object, the font the pages draw with, has no
// "endobj" before the cross-reference table (pdf.js's
// operator-in-TJ-array.pdf). pdfcpu parses it to null; qpdf reads it with
// a warning.
func endobjMissing() []byte {
	d := newTextDoc("1.4", RepairPages, "")
	b := d.b
	font := b.alloc()
	b.obj(font, objBody(b, 3))
	delete(b.objs, 3)
	for _, pg := range d.pages {
		b.obj(pg, strings.Replace(objBody(b, pg), "/F1 3 0 R", fmt.Sprintf("/F1 %d 0 R", font), 1))
	}
	doc := b.finish(1, "")
	at := bytes.LastIndex(doc, []byte("\nendobj\nxref\n"))
	return append(doc[:at+1:at+1], doc[at+len("\nendobj\n"):]...)
}

// catalogMissing names a catalog that does not exist; the real one is
// object 1.
func catalogMissing() []byte {
	d := newTextDoc("1.7", RepairPages, "")
	return d.b.finish(99, "")
}

// catalogDamaged has a catalog no parser reads (its dictionary is not
// closed) and no other: a catalog is synthesized over the pages, which
// inherit their page tree's /MediaBox.
func catalogDamaged() []byte {
	d := newTextDoc("1.7", RepairPages, "")
	d.b.obj(1, "<</Type /Catalog /Pages 2 0 R")
	return d.b.finish(1, "")
}

// pageHeaderUnreadable is catalogDamaged with the last page's header
// run into the "endobj" before it ("endobj6 0 obj", one token, not a
// header: ISO 32000-1 7.2.2): no reader finds that page, but the page
// tree node that lists it is intact, so the file is known to have lost
// it.
func pageHeaderUnreadable() []byte {
	d := newTextDoc("1.7", RepairPages, "")
	d.b.obj(1, "<</Type /Catalog /Pages 2 0 R")
	last := d.pages[len(d.pages)-1]
	prev := d.b.objs[last-1]
	d.b.objs[last-1] = prev[:len(prev)-1]
	return d.b.finish(1, "")
}

// pageTreeNodeDamaged has a page tree node whose "endobj" is missing and
// whose cross-reference offset is wrong.
func pageTreeNodeDamaged() []byte {
	d := newTextDoc("1.7", RepairPages, "")
	d.b.objs[2] = bytes.Replace(d.b.objs[2], []byte("\nendobj\n"), []byte("\n"), 1)
	doc := d.b.finish(1, "")
	x := bytes.Index(doc, []byte("\nxref\n")) + len("\nxref\n")
	x += bytes.IndexByte(doc[x:], '\n') + 1 + 2*20 // the entry of object 2
	copy(doc[x:x+10], "0000000003")
	return doc
}

// encryptedDoc is a text document encrypted as spec says, with a string
// on its first page (an annotation's /Contents) and a /Metadata stream.
func encryptedDoc(spec encSpec) []byte {
	c := newCrypter(spec)
	d := newTextDoc("1.7", RepairPages, "")
	b := d.b
	note, meta, enc := b.alloc(), b.alloc(), b.alloc()
	b.obj(note, fmt.Sprintf("<</Type /Annot /Subtype /Text /Rect [10 10 30 30] /Contents %s>>", c.str(note, AnnotationText)))
	b.obj(d.pages[0], strings.Replace(objBody(b, d.pages[0]), ">>>>", fmt.Sprintf(">>>> /Annots [%d 0 R]", note), 1))
	xmp := []byte(`<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta><?xpacket end="w"?>`)
	if !spec.clearMetadata {
		xmp = c.stream(meta, xmp)
	}
	b.stream(meta, " /Type /Metadata /Subtype /XML", xmp)
	b.obj(1, fmt.Sprintf("<</Type /Catalog /Pages 2 0 R /Metadata %d 0 R>>", meta))
	for i, n := range d.content {
		b.stream(n, "", c.stream(n, pageText(i+1, RepairPages)))
	}
	if spec.indirectCF {
		cf, filter := b.alloc(), b.alloc()
		m := cryptFilters.FindStringSubmatch(c.dict)
		b.obj(filter, m[2])
		b.obj(cf, fmt.Sprintf("<</%s %d 0 R>>", m[1], filter))
		c.dict = strings.Replace(c.dict, m[0], fmt.Sprintf("/CF %d 0 R", cf), 1)
	}
	if !spec.direct {
		b.obj(enc, c.dict)
	}
	if spec.xrefStream {
		return compressedXref(b, 1, 0, nil, c.trailer(enc))
	}
	return b.finish(1, c.trailer(enc))
}

// cryptFilters is the /CF entry of an encryption dictionary crypter
// writes: one crypt filter, its name and its dictionary.
var cryptFilters = regexp.MustCompile(`/CF <</(\w+) (<<[^<>]*>>)>>`)

// AnnotationText is the clear text of the string on the first page of
// the encrypted repair cases.
const AnnotationText = "a note in the clear"

// encryptedUpdated is an encrypted file with an incremental update, junk
// before its header or not, its update's /Prev shift bytes off. With junk,
// pdfcpu reads the first section from the header but the /Prev one from
// the start of the file; with a wrong /Prev it finds no section there.
// Either way it rebuilds the table, loading every object before it knows
// the key, and would publish ciphertext.
func encryptedUpdated(junk bool, shift int) []byte {
	c := newCrypter(encSpec{v: 2, r: 3, bytes: 16, method: "RC4", length: " /Length 128", seed: 16})
	d := newTextDoc("1.7", RepairPages, "")
	b := d.b
	enc := b.alloc()
	for i, n := range d.content {
		b.stream(n, "", c.encrypt(n, pageText(i+1, RepairPages)))
	}
	b.obj(enc, c.dict)
	doc := b.finish(1, c.trailer(enc))
	prev := bytes.LastIndex(doc, []byte("startxref\n"))
	var prevAt int
	fmt.Sscan(string(doc[prev+len("startxref\n"):]), &prevAt)
	// The update rewrites the font.
	at := len(doc)
	doc = append(doc, "3 0 obj\n<</Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding>>\nendobj\n"...)
	x := len(doc)
	doc = fmt.Appendf(doc, "xref\n3 1\n%010d 00000 n \ntrailer\n<</Size %d /Root 1 0 R /Prev %d%s>>\nstartxref\n%d\n%%%%EOF\n", at, b.next, prevAt+shift, c.trailer(enc), x)
	if junk {
		doc = append([]byte("JUNKJUNK\n"), doc...)
	}
	return doc
}

// encryptedLinearized is an AES-encrypted, linearized file (ISO 32000-1,
// Annex F: a linearization dictionary first, a first-page cross-reference
// section whose trailer carries /Encrypt and a /Prev to the main section at
// the end) with junk before its header: offsets count from the header, as
// Acrobat reads such files. pdfcpu, reading offsets from the start of the
// file, found no object where the table said and rebuilt the table
// before it knew the key: every page's content was published still
// encrypted. It has no hint stream (/H names an empty one), which readers
// do not need.
func encryptedLinearized(junk string) []byte {
	c := newCrypter(encSpec{v: 4, r: 4, bytes: 16, method: "AESV2", length: " /Length 128", cfLength: " /Length 128", seed: 17})
	const pages = RepairPages
	// The main section holds the page tree and the pages after the first
	// (1..first-1); the first-page section the linearization dictionary,
	// the catalog, the first page, its content, the font and the
	// encryption dictionary.
	tree := 1
	rest := map[int]string{}
	var kids []string
	next := 2
	lin := 2 + 2*(pages-1)
	catalog, page1, content1, font, enc := lin+1, lin+2, lin+3, lin+4, lin+5
	size := enc + 1
	kids = append(kids, fmt.Sprintf("%d 0 R", page1))
	page := func(nr, content, i int) string {
		return fmt.Sprintf("%d 0 obj\n<</Type /Page /Parent %d 0 R /Resources <</Font <</F1 %d 0 R>>>> /Contents %d 0 R>>\nendobj\n", nr, tree, font, content)
	}
	stream := func(nr int, data []byte) string {
		return fmt.Sprintf("%d 0 obj\n<</Length %d>>\nstream\n%s\nendstream\nendobj\n", nr, len(data), data)
	}
	for i := 2; i <= pages; i++ {
		pg, ct := next, next+1
		next += 2
		rest[pg] = page(pg, ct, i)
		rest[ct] = stream(ct, c.encrypt(ct, pageText(i, pages)))
		kids = append(kids, fmt.Sprintf("%d 0 R", pg))
	}
	rest[tree] = fmt.Sprintf("%d 0 obj\n<</Type /Pages /MediaBox [0 0 300 300] /Count %d /Kids [%s]>>\nendobj\n", tree, pages, strings.Join(kids, " "))
	first := map[int]string{
		catalog:  fmt.Sprintf("%d 0 obj\n<</Type /Catalog /Pages %d 0 R>>\nendobj\n", catalog, tree),
		page1:    page(page1, content1, 1),
		content1: stream(content1, c.encrypt(content1, pageText(1, pages))),
		font:     fmt.Sprintf("%d 0 obj\n<</Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding>>\nendobj\n", font),
		enc:      fmt.Sprintf("%d 0 obj\n%s\nendobj\n", enc, c.dict),
	}
	// Two passes: the linearization dictionary and the first-page section
	// hold offsets and lengths of what follows them, written at a fixed
	// width so the second pass lays the file out as the first did.
	var out []byte
	var fileLen, mainXref, firstEntry, firstPageEnd int
	for range 2 {
		out = fmt.Appendf(nil, "%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n")
		offs := map[int]int{lin: len(out)}
		out = fmt.Appendf(out, "%d 0 obj\n<</Linearized 1 /L %010d /H [%010d 0] /O %d /E %010d /N %d /T %010d>>\nendobj\n",
			lin, fileLen, 0, page1, firstPageEnd, pages, firstEntry)
		firstXref := len(out)
		section := fmt.Appendf(nil, "xref\n%d %d\n", lin, size-lin)
		out = append(out, section...)
		entriesAt := len(out)
		out = append(out, bytes.Repeat([]byte("0000000000 00000 n \n"), size-lin)...)
		out = fmt.Appendf(out, "trailer\n<</Size %d /Root %d 0 R /Prev %010d%s>>\nstartxref\n0\n%%%%EOF\n", size, catalog, mainXref, c.trailer(enc))
		for _, nr := range []int{catalog, page1, content1, font, enc} {
			offs[nr] = len(out)
			out = append(out, first[nr]...)
		}
		firstPageEnd = len(out)
		for nr := 1; nr < lin; nr++ {
			offs[nr] = len(out)
			out = append(out, rest[nr]...)
		}
		mainXref = len(out)
		table := xref(offs, lin)
		// /T is the offset of the end of line before the table's first
		// entry (Annex F.3.3).
		firstEntry = mainXref + bytes.Index(table, []byte("\n0000000000 65535 f"))
		out = append(out, table...)
		out = fmt.Appendf(out, "trailer\n<</Size %d>>\nstartxref\n%d\n%%%%EOF\n", lin, firstXref)
		fileLen = len(out)
		for i, nr := 0, lin; nr < size; i, nr = i+1, nr+1 {
			copy(out[entriesAt+20*i:], fmt.Sprintf("%010d", offs[nr]))
		}
	}
	return append([]byte(junk), out...)
}

// withExtensions is a PDF 2.0 file whose catalog names developer
// extensions (ISO 32000-2, 7.12), with an extension level in the header's
// place as some writers put it ("%PDF-2.0" followed by the level).
func withExtensions() []byte {
	d := newTextDoc("2.0 ext 3", RepairPages, "")
	d.b.obj(1, "<</Type /Catalog /Pages 2 0 R /Extensions <</ADBE <</BaseVersion /2.0 /ExtensionLevel 3>>>>>>")
	return d.b.finish(1, "")
}

// zeroPaddedNumbers writes the headers of the page tree node and of the
// last page with their object numbers led by 300 zeros, as a writer that
// fills its buffer with "0" leaves them, and a header version no reader
// knows, which sends the file to the repair layer. Such a number is the
// integer its digits make (ISO 32000-1 7.3.3), as poppler reads it.
func zeroPaddedNumbers() []byte {
	d := newTextDoc("1.7", RepairPages, "")
	for _, n := range []int{2, d.pages[len(d.pages)-1]} {
		d.b.objs[n] = append([]byte(strings.Repeat("0", 300)), d.b.objs[n]...)
	}
	d.b.version = "000"
	return d.b.finish(1, "")
}

// xrefWrongOffsets shifts every in-use entry of the table by 5 bytes:
// each names a plausible offset where no object starts.
func xrefWrongOffsets() []byte {
	doc := newTextDoc("1.7", RepairPages, "").b.finish(1, "")
	x := bytes.LastIndex(doc, []byte("\nxref\n"))
	out := bytes.Clone(doc[:x])
	for _, line := range bytes.SplitAfter(doc[x:], []byte("\n")) {
		if len(line) == 20 && bytes.HasSuffix(line, []byte(" 00000 n \n")) {
			var off int
			fmt.Sscan(string(line[:10]), &off)
			line = fmt.Appendf(nil, "%010d 00000 n \n", off+5)
		}
		out = append(out, line...)
	}
	return out
}

// objectHeaderDamaged writes the first page's content stream under the
// header "x 0 obj" at the offset its cross-reference entry gives (qpdf's
// bad25-style files): readers that check the header rebuild the table and
// find no such object, so page 1 is blank in the source, and must be in
// the split.
func objectHeaderDamaged() []byte {
	d := newTextDoc("1.7", RepairPages, "")
	n := d.content[0]
	obj := d.b.objs[n]
	head := fmt.Appendf(nil, "%d 0 obj", n)
	d.b.objs[n] = append(bytes.Repeat([]byte("x"), len(head)-len(" 0 obj")), obj[len(head)-len(" 0 obj"):]...)
	return d.b.finish(1, "")
}

// wrongLength gives the first content stream a /Length delta bytes off:
// past its "endstream" or short of it.
func wrongLength(delta int) []byte {
	d := newTextDoc("1.7", RepairPages, "")
	data := pageText(1, RepairPages)
	d.b.objs[d.content[0]] = fmt.Appendf(nil, "%d 0 obj\n<</Length %d>>\nstream\n%s\nendstream\nendobj\n", d.content[0], len(data)+delta, data)
	return d.b.finish(1, "")
}

// objectStreamCount keeps the page tree and the pages in an object stream
// whose /N claims more objects than its prolog lists. qpdf 11 and poppler
// find no page in it; the repair layer reads the pairs the prolog has.
func objectStreamCount() []byte {
	d := newTextDoc("1.5", RepairPages, "")
	b := d.b
	inStream := append([]int{2}, d.pages...)
	os := packObjects(b, "ObjStm", inStream)
	b.objs[os] = bytes.Replace(b.objs[os], fmt.Appendf(nil, "/N %d ", len(inStream)), fmt.Appendf(nil, "/N %d ", len(inStream)+4), 1)
	return compressedXref(b, 1, os, inStream, "")
}

// objectStreamLengthShort keeps the page tree, the pages and, last, the
// font in an object stream whose /Length is 30 bytes short, which cuts
// the font's dictionary; qpdf and poppler find "endstream" and read it
// whole.
func objectStreamLengthShort() []byte {
	d := newTextDoc("1.5", RepairPages, "")
	b := d.b
	inStream := append(append([]int{2}, d.pages...), 3)
	os := packObjects(b, "ObjStm", inStream)
	i := bytes.Index(b.objs[os], []byte("/Length ")) + len("/Length ")
	j := i + bytes.IndexByte(b.objs[os][i:], '>')
	var n int
	fmt.Sscan(string(b.objs[os][i:j]), &n)
	b.objs[os] = bytes.Join([][]byte{b.objs[os][:i], fmt.Appendf(nil, "%d", n-30), b.objs[os][j:]}, nil)
	return compressedXref(b, 1, os, inStream, "")
}

// packObjects moves the objects nrs into a new object stream of the given
// /Type and returns its number.
func packObjects(b *builder, typ string, nrs []int) int {
	objs := map[int]string{}
	for _, n := range nrs {
		objs[n] = objBody(b, n)
		delete(b.objs, n)
	}
	os := b.alloc()
	objectStream(b, os, typ, objs, nrs)
	return os
}

// fontInUnreadableObjectStream keeps the font both pages draw with in an
// object stream that cannot be read: its FlateDecode data cannot be
// inflated (the stored block's length check fails), or its dictionary
// cannot be parsed. The cross-reference stream still places the font
// there, so pdfcpu refuses the file; the repair layer's scan finds no
// other definition of it (pikepdf's fuzz_378014596.pdf, whose page lost
// its annotations so).
func fontInUnreadableObjectStream(dictDamaged bool) []byte {
	d := newTextDoc("1.5", RepairPages, "")
	b := d.b
	data, first := objectStreamData(map[int]string{3: objBody(b, 3)}, []int{3})
	delete(b.objs, 3)
	os := b.alloc()
	z := deflate(data)
	dict := fmt.Sprintf("<</Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d>>", first, len(z))
	if dictDamaged {
		// An inner dictionary left open: the whole dictionary is unparsable.
		dict = fmt.Sprintf("<</Type /ObjStm /N 1 /First %d /Filter /FlateDecode /DecodeParms <</Columns 1 /Length %d>>", first, len(z))
	} else {
		// A stored block's NLEN must be the complement of its LEN (RFC
		// 1951 3.2.4): no reader inflates it.
		z[5] ^= 0xff
	}
	b.objs[os] = fmt.Appendf(nil, "%d 0 obj\n%s\nstream\n%s\nendstream\nendobj\n", os, dict, z)
	return compressedXref(b, 1, os, []int{3}, "")
}

// contentDictionaryUnparsable gives page 1's content stream a dictionary
// that cannot be parsed (an array left open). pdfcpu reads the object as
// null; the repair layer's scan skipped it, so the page was published with
// no content at all.
func contentDictionaryUnparsable() []byte {
	d := newTextDoc("1.7", RepairPages, "")
	data := pageText(1, RepairPages)
	d.b.objs[d.content[0]] = fmt.Appendf(nil, "%d 0 obj\n<</Length %d /Foo [1 2>>\nstream\n%s\nendstream\nendobj\n", d.content[0], len(data), data)
	return d.b.finish(1, "")
}

// encryptedR6UEDamagedXrefBroken is encrypted-r6-ue-damaged with a broken
// cross-reference table, so the repair layer opens its encryption.
func encryptedR6UEDamagedXrefBroken() []byte {
	doc := encryptedDoc(encSpec{v: 5, r: 6, bytes: 32, method: "AESV3", owner: OwnerPassword, damagedUE: true, seed: 25})
	return corruptXref(doc, bytes.LastIndex(doc, []byte("\nxref\n"))+1)
}

// contentDictionaryIndirect gives page 1's content stream a reference
// where its dictionary belongs ("5 0 obj 9 0 R stream", pdfium's
// stream_with_indirect_dict.pdf), in a file the repair layer rebuilds: no
// stream to poppler or qpdf, so page 1 is blank to them, and must be in
// the split.
func contentDictionaryIndirect() []byte {
	d := newTextDoc("1.7", RepairPages, "")
	data := pageText(1, RepairPages)
	n := d.b.alloc()
	d.b.obj(n, fmt.Sprintf("<</Length %d>>", len(data)))
	d.b.objs[d.content[0]] = fmt.Appendf(nil, "%d 0 obj %d 0 R\nstream\n%s\nendstream\nendobj\n", d.content[0], n, data)
	doc := d.b.finish(1, "")
	return corruptXref(doc, bytes.LastIndex(doc, []byte("\nxref\n"))+1)
}
