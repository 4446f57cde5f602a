package pdfsplit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"strconv"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// pagesMarker stands, in a page's dictionary and catalog, for the page tree
// node every one-page PDF adds; the writer turns it into that node's
// number. No source object has a negative number.
const pagesMarker = -1

// object is a source object a page reaches, by its source object number,
// as the page writes it (its view).
type object struct {
	nr  int
	obj types.Object // types.Dict, types.StreamDict, types.Array or a scalar
}

// pagePlan is what one page's file holds, before it is written: the page
// dictionary, the catalog entries it carries, and every object they reach.
type pagePlan struct {
	self    int        // the page's source object number
	page    int        // the page's index (0-based)
	dict    types.Dict // the page dictionary as written
	catalog types.Dict // catalog entries besides /Type and /Pages
	info    int        // the document information dictionary's number, or 0
	// objs are the page and every object it reaches, ascending by source
	// number; the file numbers them 1..len(objs) in that order.
	objs []object
	// override are objects written differently in this page than in the
	// document (its form fields, narrowed to its widgets).
	override map[int]types.Object
}

// plan works out page i (0-based): the page dictionary with its inherited
// attributes and pruned resources, the catalog entries it needs, and the
// closure of objects they reach.
func (d *Document) plan(i int) (*pagePlan, error) {
	p := &d.pages[i]
	cat, override := d.catalogFor(i)
	pl := &pagePlan{self: p.nr, page: i, dict: d.pageDict(p), catalog: cat, override: override}
	roots := []types.Object{pl.dict, cat}
	if d.ctx.Info != nil {
		pl.info = d.ctx.Info.ObjectNumber.Value()
		roots = append(roots, *d.ctx.Info)
	}
	objs, err := d.closure(roots, pl)
	if err != nil {
		return nil, err
	}
	if d.readErr != nil {
		return nil, d.readErr
	}
	if d.lostName != "" {
		return nil, pipeerr.New(pipeerr.Damaged, "damaged: the content of page %d or a form it draws names the resource /%s, whose stray '#' (invalid since PDF 1.2, ISO 32000-1 7.3.5) the PDF parser drops from the resource dictionary, so the page would be published without it", i+1, d.lostName)
	}
	pl.objs = append(objs, object{p.nr, pl.dict})
	slices.SortFunc(pl.objs, func(a, b object) int { return a.nr - b.nr })
	in := make(map[int]bool, len(pl.objs))
	for _, o := range pl.objs {
		in[o.nr] = true
	}
	if !in[pl.info] {
		pl.info = 0
	}
	if ocp := d.ocProperties(in); ocp != nil {
		cat["OCProperties"] = ocp
	}
	return pl, nil
}

// closure resolves every object reachable from roots, in object number
// order, each as the page writes it. It does not enter the objects in
// d.cut (other pages, the page tree, the catalog) nor the page itself.
// Objects that do not exist are left out: references to them are written
// as null.
func (d *Document) closure(roots []types.Object, pl *pagePlan) ([]object, error) {
	seen := map[int]bool{}
	var out []object
	var work []types.Object
	var scan func(o types.Object, depth int) error
	scan = func(o types.Object, depth int) error {
		if depth > d.limits.MaxDepth {
			return pipeerr.New(pipeerr.TooLarge, "too large: objects nest deeper than %d levels", d.limits.MaxDepth)
		}
		switch o := o.(type) {
		case types.IndirectRef:
			nr := o.ObjectNumber.Value()
			if nr <= 0 || seen[nr] || nr == pl.self || d.cut[nr] {
				return nil
			}
			seen[nr] = true
			r, ok := pl.override[nr]
			if !ok {
				v, err := d.ctx.Dereference(o)
				if err != nil {
					return classify(err, false, d.limits)
				}
				if v == nil && (d.source.lost[nr] || d.unparsed(nr)) {
					return pipeerr.New(pipeerr.Damaged, "damaged: object %d, which page %d draws with, cannot be parsed (a name with a stray '#', invalid since PDF 1.2, is a common cause); the page would be published without it", nr, pl.page+1)
				}
				if v == nil && d.source.unread[nr] {
					return pipeerr.New(pipeerr.Damaged, "damaged: object %d, which page %d draws with, is not in the file as read, and %s, so it may hold it; the page would be published without it", nr, pl.page+1, d.source.hidden)
				}
				r = d.view(nr, v)
			}
			switch r.(type) {
			case types.Dict, types.StreamDict, types.Array, types.Integer, types.Float,
				types.Boolean, types.Name, types.StringLiteral, types.HexLiteral:
				out = append(out, object{nr, r})
				work = append(work, r)
			}
		case types.Dict:
			for _, v := range o {
				if err := scan(v, depth+1); err != nil {
					return err
				}
			}
		case types.StreamDict:
			// /Length is written direct (serializer.dict), so an indirect
			// length object is not carried.
			for k, v := range o.Dict {
				if k == "Length" {
					continue
				}
				if err := scan(v, depth+1); err != nil {
					return err
				}
			}
		case types.Array:
			for _, v := range o {
				if err := scan(v, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, r := range roots {
		if err := scan(r, 0); err != nil {
			return nil, err
		}
	}
	// Indirect objects are scanned from a work list, not by recursion, so a
	// long chain of references cannot exhaust the stack.
	for len(work) > 0 {
		o := work[len(work)-1]
		work = work[:len(work)-1]
		if err := scan(o, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// unparsed reports whether object nr is stored in the file, outside an
// object stream, but parsed to nothing: pdfcpu yields null for an object
// it fails to parse (a name with a stray '#' in an array, say), where qpdf
// reads it. Only an object whose body is the keyword null is null
// (ISO 32000-1 7.3.9). It reads 64 bytes at the object's offset.
func (d *Document) unparsed(nr int) bool {
	off, ok := storedAt(d.ctx, nr)
	if !ok || d.ctx.Read.RS == nil {
		return false
	}
	_, _, body, ok := objectAt(d.ctx.Read.RS, off, make([]byte, 64))
	return !ok || !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n\f\x00"), []byte("null"))
}

// pageDict is the page's dictionary as written: its own entries, the
// attributes it inherits, its resources pruned to what its content uses,
// a /Parent pointing at the new page tree, and no /B (article beads chain
// to other pages).
func (d *Document) pageDict(p *page) types.Dict {
	out := make(types.Dict, len(p.dict)+len(inheritable))
	for k, v := range p.dict {
		out[k] = v
	}
	for k, v := range p.inherited {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	// A leaf the page tree rules accepted as a page without saying so
	// (no /Type, as qpdf accepts) says so here: /Type is required
	// (ISO 32000-1 7.7.3.3, Table 30).
	out["Type"] = types.Name("Page")
	if !d.rectangle(out["MediaBox"]) {
		// A /MediaBox that is not a rectangle (ISO 32000-1 7.9.5: four
		// numbers) is ignored as poppler ignores it: the ancestors' holds,
		// else US Letter, which readers assume for a page without one
		// (qpdf --check and pdfcheck require a MediaBox of four numbers).
		out["MediaBox"] = types.Array{types.Integer(0), types.Integer(0), types.Integer(612), types.Integer(792)}
		if inh := p.inherited["MediaBox"]; d.rectangle(inh) {
			out["MediaBox"] = inh
		}
	}
	for _, k := range pageBoxes {
		if box, ok := d.directBox(out[k]); ok {
			out[k] = box
		}
	}
	if arr, ok := d.deref(out["Contents"]).(types.Array); ok {
		// An element that names no object is null (ISO 32000-1 7.3.10),
		// which a reader skips and qpdf --check refuses in an array of
		// streams (Table 30): it is left out. One the file holds but
		// cannot parse stays, so that the page is refused.
		kept := make(types.Array, 0, len(arr))
		for _, v := range arr {
			if !d.absent(v) {
				kept = append(kept, v)
			}
		}
		switch {
		case len(kept) == 0:
			delete(out, "Contents")
		case len(kept) < len(arr):
			out["Contents"] = kept
		}
	}
	if res := out["Resources"]; res != nil {
		if used, ok := d.contentsNames(out["Contents"]); ok {
			out["Resources"] = d.prune(res, used)
		}
	}
	delete(out, "B")
	out["Parent"] = types.IndirectRef{ObjectNumber: pagesMarker}
	return out
}

// absent: o is null, or a reference to an object the file does not hold;
// not one the file holds but cannot parse (lost or unparsed) or the
// repair layer could not read (unread), which a page must not be
// published without.
func (d *Document) absent(o types.Object) bool {
	if o == nil {
		return true
	}
	r, ok := o.(types.IndirectRef)
	if !ok {
		return false
	}
	nr := r.ObjectNumber.Value()
	if d.source.lost[nr] || d.source.unread[nr] || d.unparsed(nr) {
		return false
	}
	v, err := d.ctx.Dereference(r)
	return err == nil && v == nil
}

// rectangle: o is, or refers to, an array of four numbers, each direct
// or an indirect object (ISO 32000-1 7.9.5).
func (d *Document) rectangle(o types.Object) bool {
	arr, ok := d.deref(o).(types.Array)
	if !ok || len(arr) != 4 {
		return false
	}
	for _, v := range arr {
		switch d.deref(v).(type) {
		case types.Integer, types.Float:
		default:
			return false
		}
	}
	return true
}

// pageBoxes are the page's rectangles (ISO 32000-1 7.7.3.3, Table 30).
var pageBoxes = []string{"MediaBox", "CropBox", "BleedBox", "TrimBox", "ArtBox"}

// directBox is box with each number that is an indirect object written
// in its place; ok is false when box holds no such number. A rectangle's
// numbers may be indirect (ISO 32000-1 7.3.10 lets any array element be),
// and qpdf and poppler read them, but pdfcheck, as some readers, wants a
// page's /MediaBox as four direct numbers, so the page says it plainly.
func (d *Document) directBox(box types.Object) (types.Array, bool) {
	arr, ok := d.deref(box).(types.Array)
	if !ok {
		return nil, false
	}
	var out types.Array
	for i, v := range arr {
		r, ok := v.(types.IndirectRef)
		if !ok {
			continue
		}
		switch n := d.deref(r).(type) {
		case types.Integer, types.Float:
			if out == nil {
				out = slices.Clone(arr)
			}
			out[i] = n
		}
	}
	return out, out != nil
}

// appendRecipe appends the recipe of page i (0-based) to dst: the page
// serialized with the objects of the shared table left out, and where they
// go. The page's objects are numbered 1..n in source order, so its cross-
// reference table is the one subsection from 0 that ISO 32000-1 7.5.4
// asks of a file without updates (with a free entry for each pinned number
// the page does not use; see Objects.pinObjects).
func (d *Document) appendRecipe(dst []byte, i int) ([]byte, int, error) {
	table, err := d.Objects()
	if err != nil {
		return nil, 0, err
	}
	pl, err := d.plan(i)
	if err != nil {
		return nil, 0, err
	}
	// Numbers: the table's pinned objects have theirs in every page; the
	// page's other objects follow in source order, then the catalog and
	// the page tree node. A pinned number the page does not use is a free
	// entry of its cross-reference table.
	local := make(map[int]int, len(pl.objs))
	byNr := make([]int, table.pinned+len(pl.objs)+3) // number → index in pl.objs+1, 0 when free
	next := table.pinned + 1
	for k, o := range pl.objs {
		n := 0
		if t, ok := table.index[o.nr]; ok && o.nr != pl.self && pl.override[o.nr] == nil {
			n = table.pin[t]
		}
		if n == 0 {
			n, next = next, next+1
		}
		local[o.nr] = n
		byNr[n] = k + 1
	}
	catalogNr, pagesNr := next, next+1
	size := pagesNr + 1 // the xref's /Size: objects 0..pagesNr
	byNr = byNr[:size]

	w := serializer{d: d, local: local, pagesNr: pagesNr, buf: d.scratch[:0]}
	defer func() { d.scratch = w.buf[:0] }()
	// shared counts the table's bytes left out so far: every offset in the
	// page is the literal length plus them.
	var refs []recipeRef
	shared := 0
	pos := func() int { return len(w.buf) + shared }
	w.buf = append(w.buf, "%PDF-"...)
	w.buf = append(w.buf, d.version...)
	w.buf = append(w.buf, "\n%\xe2\xe3\xcf\xd3\n"...)

	offsets := make([]int, size) // 0 for a free entry
	for n := 1; n < catalogNr; n++ {
		if byNr[n] == 0 {
			continue
		}
		o := pl.objs[byNr[n]-1]
		offsets[n] = pos()
		w.buf = strconv.AppendInt(w.buf, int64(n), 10)
		w.buf = append(w.buf, " 0 obj\n"...)
		if t, ok := table.index[o.nr]; ok && o.nr != pl.self && pl.override[o.nr] == nil {
			ref := recipeRef{at: len(w.buf), obj: t}
			for _, h := range table.holesOf(t) {
				n, ok := local[h.nr]
				if !ok {
					return nil, 0, pipeerr.New(pipeerr.Internal, "pdfsplit: shared object %d refers to object %d, which page %d does not carry", o.nr, h.nr, i+1)
				}
				ref.nums = append(ref.nums, n)
			}
			refs = append(refs, ref)
			shared += table.renderedLen(t, ref.nums)
		} else if err := w.body(o.obj); err != nil {
			return nil, 0, err
		}
		w.buf = append(w.buf, "\nendobj\n"...)
	}
	offsets[catalogNr] = pos()
	w.buf = strconv.AppendInt(w.buf, int64(catalogNr), 10)
	w.buf = append(w.buf, " 0 obj\n"...)
	cat := cloneDict(pl.catalog)
	cat["Type"] = types.Name("Catalog")
	cat["Pages"] = types.IndirectRef{ObjectNumber: pagesMarker}
	if err := w.dict(cat, 0, -1); err != nil {
		return nil, 0, err
	}
	w.buf = append(w.buf, "\nendobj\n"...)
	offsets[pagesNr] = pos()
	w.buf = strconv.AppendInt(w.buf, int64(pagesNr), 10)
	w.buf = append(w.buf, " 0 obj\n<</Count 1 /Kids ["...)
	w.buf = strconv.AppendInt(w.buf, int64(local[pl.self]), 10)
	w.buf = append(w.buf, " 0 R] /Type /Pages>>\nendobj\n"...)

	// The file identifier is a digest of what makes up the body: the
	// shared table (itself a digest), where its objects go and how they
	// are numbered, and the page's own bytes. Stable across runs,
	// different for different pages, and it hashes a few kilobytes where
	// the whole body is often a megabyte of fonts.
	h := sha256.New()
	h.Write(table.sum[:])
	h.Write(appendRecipe(nil, 0, refs, nil))
	h.Write(w.buf)
	id := hex.EncodeToString(h.Sum(nil)[:16])

	xrefAt := pos()
	w.buf = append(w.buf, "xref\n0 "...)
	w.buf = strconv.AppendInt(w.buf, int64(size), 10)
	w.buf = append(w.buf, '\n')
	w.buf = appendXref(w.buf, offsets)
	w.buf = append(w.buf, "trailer\n<</Size "...)
	w.buf = strconv.AppendInt(w.buf, int64(size), 10)
	w.buf = append(w.buf, " /Root "...)
	w.buf = strconv.AppendInt(w.buf, int64(catalogNr), 10)
	w.buf = append(w.buf, " 0 R"...)
	if pl.info != 0 {
		w.buf = append(w.buf, " /Info "...)
		w.buf = strconv.AppendInt(w.buf, int64(local[pl.info]), 10)
		w.buf = append(w.buf, " 0 R"...)
	}
	w.buf = append(w.buf, " /ID [<"...)
	w.buf = append(w.buf, id...)
	w.buf = append(w.buf, "> <"...)
	w.buf = append(w.buf, id...)
	w.buf = append(w.buf, ">]>>\nstartxref\n"...)
	w.buf = strconv.AppendInt(w.buf, int64(xrefAt), 10)
	w.buf = append(w.buf, "\n%%EOF\n"...)
	total := pos()
	return appendRecipe(dst, total, refs, w.buf), total, nil
}

// appendXref appends the entries of a cross-reference subsection from 0:
// offsets[n] is object n's offset, 0 for a free entry. Free entries form
// the linked list ISO 32000-1 7.5.4 describes: entry 0 holds the first
// free number, each free entry the next, the last 0.
func appendXref(b []byte, offsets []int) []byte {
	// next[n] is the first free number above n, 0 for none.
	next := make([]int, len(offsets))
	for n, free := len(offsets)-2, 0; n >= 0; n-- {
		if offsets[n+1] == 0 {
			free = n + 1
		}
		next[n] = free
	}
	b = appendPadded(b, next[0])
	b = append(b, " 65535 f \n"...)
	for n := 1; n < len(offsets); n++ {
		if offsets[n] == 0 {
			b = appendPadded(b, next[n])
			b = append(b, " 00001 f \n"...)
			continue
		}
		b = appendPadded(b, offsets[n])
		b = append(b, " 00000 n \n"...)
	}
	return b
}

// appendPadded appends off as 10 decimal digits (xref entry offset).
func appendPadded(b []byte, off int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(off), 10)
	for range 10 - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

func itoa(n int) string { return strconv.Itoa(n) }

// serializer writes PDF objects canonically: dictionary keys sorted, numbers
// in shortest form, generation numbers 0, streams as stored with a direct
// /Length. A reference is written in one of two ways: for a page (local
// set), as the number the page gives the object, or null when the page
// does not carry it; for the shared table (local nil), as a hole the page
// fills in with its own number, or null when no page carries the object.
type serializer struct {
	d       *Document
	local   map[int]int  // page: source object number → number in the page
	pagesNr int          // page: the number of the page tree node it adds
	present map[int]bool // table: the objects pages carry
	holes   []hole       // table: the references left out of buf, in order
	buf     []byte
}

// body writes an object's body: the value, or the stream dictionary and
// data ("<<…>>\nstream\n…\nendstream").
func (w *serializer) body(o types.Object) error {
	if sd, ok := o.(types.StreamDict); ok {
		if err := w.dict(sd.Dict, 0, w.d.dataLen(sd)); err != nil {
			return err
		}
		w.buf = append(w.buf, "\nstream\n"...)
		var err error
		if w.buf, err = w.d.appendData(w.buf, sd); err != nil {
			return err
		}
		w.buf = append(w.buf, "\nendstream"...)
		return nil
	}
	return w.value(o, 0)
}

// dict writes d; a length ≥ 0 replaces /Length (which may be an indirect
// reference, or wrong in a repaired file).
func (w *serializer) dict(d types.Dict, depth, length int) error {
	keys := make([]string, 0, len(d)+1)
	for k := range d {
		if k != "Length" || length < 0 {
			keys = append(keys, k)
		}
	}
	if length >= 0 {
		keys = append(keys, "Length")
	}
	slices.Sort(keys)
	w.buf = append(w.buf, "<<"...)
	for i, k := range keys {
		if i > 0 {
			w.buf = append(w.buf, ' ')
		}
		w.name(k)
		w.buf = append(w.buf, ' ')
		if k == "Length" && length >= 0 {
			w.buf = strconv.AppendInt(w.buf, int64(length), 10)
			continue
		}
		if err := w.value(d[k], depth+1); err != nil {
			return err
		}
	}
	w.buf = append(w.buf, ">>"...)
	return nil
}

func (w *serializer) name(s string) {
	w.buf = append(w.buf, '/')
	w.buf = append(w.buf, types.EncodeName(s)...)
}

func (w *serializer) ref(nr int) {
	switch {
	case nr == pagesMarker && w.local != nil:
		w.buf = strconv.AppendInt(w.buf, int64(w.pagesNr), 10)
	case w.local != nil:
		n, ok := w.local[nr]
		if !ok {
			w.buf = append(w.buf, "null"...)
			return
		}
		w.buf = strconv.AppendInt(w.buf, int64(n), 10)
	case w.present[nr]:
		w.holes = append(w.holes, hole{at: len(w.buf), nr: nr})
		return
	default:
		w.buf = append(w.buf, "null"...)
		return
	}
	w.buf = append(w.buf, " 0 R"...)
}

func (w *serializer) value(o types.Object, depth int) error {
	if depth > w.d.limits.MaxDepth {
		return pipeerr.New(pipeerr.TooLarge, "too large: objects nest deeper than %d levels", w.d.limits.MaxDepth)
	}
	switch o := o.(type) {
	case types.IndirectRef:
		w.ref(o.ObjectNumber.Value())
	case types.Dict:
		return w.dict(o, depth, -1)
	case types.Array:
		w.buf = append(w.buf, '[')
		for i, v := range o {
			if i > 0 {
				w.buf = append(w.buf, ' ')
			}
			if err := w.value(v, depth+1); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, ']')
	case types.Integer:
		w.buf = strconv.AppendInt(w.buf, int64(o), 10)
	case types.Float:
		f := float64(o)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			f = 0
		}
		w.buf = strconv.AppendFloat(w.buf, f, 'f', -1, 64)
	case types.Boolean:
		w.buf = strconv.AppendBool(w.buf, bool(o))
	case types.Name:
		w.name(string(o))
	case types.StringLiteral:
		// pdfcpu keeps literal strings in their escaped source form.
		w.buf = append(w.buf, '(')
		w.buf = append(w.buf, o...)
		w.buf = append(w.buf, ')')
	case types.HexLiteral:
		w.buf = append(w.buf, '<')
		w.buf = append(w.buf, o...)
		w.buf = append(w.buf, '>')
	default:
		// nil, a stream nested in another object (invalid), or a type
		// pdfcpu uses internally.
		w.buf = append(w.buf, "null"...)
	}
	return nil
}
