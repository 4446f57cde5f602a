package pdfcheck

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/efspipe/efspipe/internal/pdftest"
)

// This file writes one-page PDFs of the page writer's contract from code,
// independently of pdfsplit: the header, objects 1..N-1 in ascending order,
// one xref subsection, the trailer with /ID. Tests mutate the object list
// (and let the offsets follow) or the finished bytes.

// obj is one indirect object: its value, and for a stream its data (the
// dictionary gets its /Length from the data).
type obj struct {
	value  string
	data   []byte
	stream bool
	// length replaces the "/Length n" entry the writer appends to a
	// stream's dictionary; "-" leaves it out.
	length string
	// raw, when set, is written verbatim between "n 0 obj" EOL and EOL
	// "endobj" (an object copied from another writer).
	raw []byte
	// free leaves the number unused: no object, a free xref entry (as the
	// page writer does for a pinned number the page does not use).
	free bool
}

// file is a PDF being built; objs[i] is object i+1.
type file struct {
	version string
	objs    []obj
	root    int
	info    int
	// id is the trailer's /ID string ("<…>"); one is made up when empty.
	id string
	// trailer replaces the trailer dictionary when set.
	trailer string
	// eol separates the lines the writer puts tokens on ("\n" when empty);
	// xrefEOL is the last two bytes of every xref entry (" \n" when empty).
	eol, xrefEOL string
	// beforeXref is written between the last object and the xref table.
	beforeXref string
	// streamEOL follows "stream" and precedes "endstream" ("\n" when empty).
	streamEOL string
	// sep is written before each object (nothing when empty).
	sep string
	// order lists the object numbers in the order they are written
	// (ascending when nil).
	order []int
}

func (f *file) add(o obj) int {
	f.objs = append(f.objs, o)
	return len(f.objs)
}

// set replaces object n.
func (f *file) set(n int, o obj) { f.objs[n-1] = o }

// edit replaces old by new in object n's value, and panics when old is not
// there, so a mutation cannot silently stop mutating.
func (f *file) edit(n int, old, new string) {
	o := &f.objs[n-1]
	if !strings.Contains(o.value, old) {
		panic(fmt.Sprintf("object %d has no %q: %s", n, old, o.value))
	}
	o.value = strings.Replace(o.value, old, new, 1)
}

// bytes writes the file with exact offsets.
func (f *file) bytes() []byte {
	eol := cmpOr(f.eol, "\n")
	xeol := cmpOr(f.xrefEOL, " \n")
	seol := cmpOr(f.streamEOL, "\n")
	var buf bytes.Buffer
	buf.WriteString("%PDF-" + cmpOr(f.version, "1.7") + eol + "%\xe2\xe3\xcf\xd3" + eol)
	offs := make([]int, len(f.objs)+1)
	order := f.order
	if order == nil {
		for n := range f.objs {
			order = append(order, n+1)
		}
	}
	for _, n := range order {
		o := f.objs[n-1]
		if o.free {
			continue
		}
		buf.WriteString(f.sep)
		offs[n] = buf.Len()
		fmt.Fprintf(&buf, "%d 0 obj%s", n, eol)
		if o.raw != nil {
			buf.Write(o.raw)
			buf.WriteString(eol + "endobj" + eol)
			continue
		}
		if !o.stream {
			buf.WriteString(o.value + eol + "endobj" + eol)
			continue
		}
		length := fmt.Sprintf(" /Length %d", len(o.data))
		switch o.length {
		case "-":
			length = ""
		case "":
		default:
			length = " " + o.length
		}
		v := strings.TrimSuffix(o.value, ">>") + length + ">>"
		buf.WriteString(v + eol + "stream" + seol)
		buf.Write(o.data)
		buf.WriteString(seol + "endstream" + eol + "endobj" + eol)
	}
	buf.WriteString(f.beforeXref)
	xref := buf.Len()
	// Free entries form the linked list of ISO 32000-1 7.5.4, ascending.
	next := make([]int, len(f.objs)+1)
	for n, free := len(f.objs)-1, 0; n >= 0; n-- {
		if f.objs[n].free {
			free = n + 1
		}
		next[n] = free
	}
	fmt.Fprintf(&buf, "xref%s0 %d%s%010d 65535 f%s", eol, len(f.objs)+1, eol, next[0], xeol)
	for n := 1; n <= len(f.objs); n++ {
		if f.objs[n-1].free {
			fmt.Fprintf(&buf, "%010d 00001 f%s", next[n], xeol)
			continue
		}
		fmt.Fprintf(&buf, "%010d 00000 n%s", offs[n], xeol)
	}
	tr := f.trailer
	if tr == "" {
		// The page writer's order: /Size, /Root, /Info, /ID.
		id := f.id
		if id == "" {
			id = fmt.Sprintf("<%032x>", uint64(len(f.objs))*0x9e3779b97f4a7c15)
		}
		tr = fmt.Sprintf("<</Size %d /Root %d 0 R", len(f.objs)+1, f.root)
		if f.info > 0 {
			tr += fmt.Sprintf(" /Info %d 0 R", f.info)
		}
		tr += fmt.Sprintf(" /ID [%s %s]>>", id, id)
	}
	fmt.Fprintf(&buf, "trailer%s%s%sstartxref%s%d%s%%%%EOF%s", eol, tr, eol, eol, xref, eol, eol)
	return buf.Bytes()
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// pageOpts shapes a generated page. The zero value is the smallest valid
// page: catalog, page tree root, page, content stream.
type pageOpts struct {
	Fonts     int  // embedded TrueType fonts: dictionary, widths, descriptor, FlateDecode program, ToUnicode
	FontBytes int  // each font program's size before compression (incompressible); default 4 KiB
	Image     bool // an 64×64 RGB image with a soft mask, both FlateDecode
	Annots    int  // link annotations, one object each
	Nest      int  // a chain of dictionaries this deep in the page's /PieceInfo
	Info      bool // a document information dictionary
	GState    bool // an ExtGState object
	// TreeLast numbers the catalog and page tree root after everything else,
	// as pdfsplit's writer does; by default they are objects 1 and 2.
	TreeLast bool
}

// page numbers of a generated page.
const (
	catalogObj = 1
	pagesObj   = 2
	pageObj    = 3
	contentObj = 4
)

// makePage builds a valid one-page PDF. With the default numbering the
// catalog is 1, the page tree root 2, the page 3 and its content 4.
func makePage(o pageOpts) *file {
	f := &file{}
	catalog, pages, page, content := f.add(obj{}), f.add(obj{}), f.add(obj{}), f.add(obj{})
	if o.TreeLast {
		// Renumbered below, once every other object has its number.
		catalog, pages = 0, 0
		f.objs = f.objs[:2]
		page, content = 1, 2
	}
	fontBytes := o.FontBytes
	if fontBytes == 0 {
		fontBytes = 4 << 10
	}
	var fonts, xobjects, annots, text strings.Builder
	for i := range o.Fonts {
		widths := f.add(obj{value: "[" + strings.TrimSpace(strings.Repeat("500 ", 95)) + "]"})
		prog := f.add(obj{value: fmt.Sprintf("<</Length1 %d /Filter /FlateDecode>>", fontBytes), data: deflate(randomBytes(uint64(i+1), fontBytes)), stream: true})
		desc := f.add(obj{value: fmt.Sprintf("<</Type /FontDescriptor /FontName /Sans#20%d /Flags 32 /FontBBox [-100 -200 1000 900] /ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 /FontFile2 %d 0 R>>", i, prog)})
		cmap := f.add(obj{value: "<</Filter /FlateDecode>>", data: deflate([]byte(toUnicode)), stream: true})
		font := f.add(obj{value: fmt.Sprintf("<</Type /Font /Subtype /TrueType /BaseFont /Sans#20%d /FirstChar 32 /LastChar 126 /Widths %d 0 R /Encoding /WinAnsiEncoding /FontDescriptor %d 0 R /ToUnicode %d 0 R>>", i, widths, desc, cmap)})
		fmt.Fprintf(&fonts, "/F%d %d 0 R ", i, font)
		fmt.Fprintf(&text, "BT /F%d 12 Tf 72 %d Td (Font \\(%d\\) says hello) Tj ET\n", i, 700-20*i, i)
	}
	if o.Image {
		smask := f.add(obj{value: "<</Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode>>", data: deflate(bytes.Repeat([]byte{0xff}, 64*64)), stream: true})
		img := f.add(obj{value: fmt.Sprintf("<</Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceRGB /BitsPerComponent 8 /SMask %d 0 R /Filter [/FlateDecode] /DecodeParms [null]>>", smask), data: deflate(randomBytes(99, 64*64*3)), stream: true})
		fmt.Fprintf(&xobjects, "/Im0 %d 0 R", img)
		text.WriteString("q 128 0 0 128 72 400 cm /Im0 Do Q\n")
	}
	gs := ""
	if o.GState {
		g := f.add(obj{value: "<</Type /ExtGState /CA 1.0 /ca .5 /LW 1 /BM /Normal>>"})
		gs = fmt.Sprintf(" /ExtGState <</GS0 %d 0 R>>", g)
		text.WriteString("/GS0 gs\n")
	}
	for i := range o.Annots {
		a := f.add(obj{value: fmt.Sprintf("<</Type /Annot /Subtype /Link /Rect [%d 10 %d 30] /Border [0 0 0] /A <</S /URI /URI (https://example.com/page\\(%d\\))>> /NM <%04x>>>", 10*i, 10*i+8, i, i)})
		fmt.Fprintf(&annots, "%d 0 R ", a)
	}
	info := 0
	if o.Info {
		info = f.add(obj{value: "<</Producer (efspipe pdfcheck test) /Title <FEFF0050006100670065> /CreationDate (D:20260101000000Z)>>"})
	}
	if o.TreeLast {
		catalog, pages = f.add(obj{}), f.add(obj{})
	}
	nest := ""
	if o.Nest > 0 {
		nest = " /PieceInfo " + strings.Repeat("<</A ", o.Nest) + "1" + strings.Repeat(">>", o.Nest)
	}
	pageDict := fmt.Sprintf("<</Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /CropBox [0 0 612.0 792.0] /Resources <</Font <<%s>> /XObject <<%s>>%s /ProcSet [/PDF /Text /ImageC]>> /Contents %d 0 R",
		pages, strings.TrimSpace(fonts.String()), xobjects.String(), gs, content)
	if o.Annots > 0 {
		pageDict += " /Annots [" + strings.TrimSpace(annots.String()) + "]"
	}
	pageDict += nest + ">>"
	text.WriteString("0 0 m 100 100 l S\n")
	f.set(catalog, obj{value: fmt.Sprintf("<</Type /Catalog /Pages %d 0 R>>", pages)})
	f.set(pages, obj{value: fmt.Sprintf("<</Type /Pages /Kids [%d 0 R] /Count 1>>", page)})
	f.set(page, obj{value: pageDict})
	f.set(content, obj{value: "<</Filter /FlateDecode>>", data: deflate([]byte(text.String())), stream: true})
	f.root, f.info = catalog, info
	return f
}

// typical is a page like the ones efspipe writes from real documents: two
// embedded fonts, an image with a soft mask, a graphics state, three links
// and an information dictionary: 22 objects.
func typical() *file {
	return makePage(pageOpts{Fonts: 2, Image: true, GState: true, Annots: 3, Info: true})
}

const toUnicode = `/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <00> <FF> endcodespacerange
1 beginbfrange <20> <7E> <0020> endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end
`

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// randomBytes is n deterministic incompressible bytes (splitmix64).
func randomBytes(seed uint64, n int) []byte {
	out := make([]byte, 0, n+8)
	for len(out) < n {
		seed += 0x9e3779b97f4a7c15
		z := seed
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		for j := range 8 {
			out = append(out, byte(z>>(8*j)))
		}
	}
	return out[:n]
}

// fromPage takes the objects of a one-page PDF written one object after
// the other, each "n 0 obj\n…\nendobj\n" (the page writer's pages, and
// pdftest.Doc's files), with its free entries, /Root, /Info and /ID, into
// a file that writes it again: unchanged for a page of the writer (see
// TestFromPage), laid out anew after a mutation.
func fromPage(pdf []byte) *file {
	at := bytes.LastIndex(pdf, []byte("\nxref\n")) + 1
	var n int
	if _, err := fmt.Sscanf(string(pdf[at:]), "xref\n0 %d\n", &n); err != nil {
		panic(err)
	}
	entries := pdf[bytes.IndexByte(pdf[at+5:], '\n')+at+6:]
	offs := make([]int, n+1)
	for i := 1; i < n; i++ {
		if e := entries[i*entryLen:]; e[17] == 'n' {
			offs[i], _ = strconv.Atoi(string(e[:10]))
		}
	}
	f := &file{version: string(pdf[5:bytes.IndexByte(pdf, '\n')])}
	for i := 1; i < n; i++ {
		if offs[i] == 0 {
			f.add(obj{free: true})
			continue
		}
		end := at
		for j := i + 1; j < n; j++ {
			if offs[j] != 0 {
				end = offs[j]
				break
			}
		}
		body := pdf[offs[i]:end]
		body = body[len(fmt.Sprintf("%d 0 obj\n", i)):]
		body = bytes.TrimSuffix(body, []byte("\nendobj\n"))
		f.add(obj{raw: bytes.Clone(body)})
	}
	tr := pdf[bytes.LastIndex(pdf, []byte("\ntrailer\n")):]
	fmt.Sscanf(string(tr[bytes.Index(tr, []byte("/Root ")):]), "/Root %d", &f.root)
	if i := bytes.Index(tr, []byte("/Info ")); i >= 0 {
		fmt.Sscanf(string(tr[i:]), "/Info %d", &f.info)
	}
	if m := regexp.MustCompile(`/ID \[(<[0-9a-fA-F]*>) `).FindSubmatch(tr); m != nil {
		f.id = string(m[1])
	}
	return f
}

// editRaw replaces old by new in the raw object n.
func (f *file) editRaw(n int, old, new string) {
	o := &f.objs[n-1]
	if !bytes.Contains(o.raw, []byte(old)) {
		panic(fmt.Sprintf("object %d has no %q", n, old))
	}
	o.raw = bytes.Replace(o.raw, []byte(old), []byte(new), 1)
}

// docPage is pdftest.Doc(1, opt) reshaped to the writer's contract: the
// page carries its /MediaBox (Doc leaves it on the page tree's root, for
// readers to inherit) and the trailer an /ID.
func docPage(opt pdftest.DocOptions) *file {
	f := fromPage(pdftest.Doc(1, opt))
	for i, o := range f.objs {
		if bytes.HasPrefix(o.raw, []byte("<</Type /Page /Parent")) {
			f.editRaw(i+1, "/Type /Page ", "/Type /Page /MediaBox [0 0 612 792] ")
		}
	}
	return f
}
