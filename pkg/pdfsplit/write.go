package pdfsplit

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"strconv"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// object is a source object a page reaches, by its source object number.
type object struct {
	nr  int
	obj types.Object // types.Dict, types.StreamDict, types.Array or a scalar
}

// closure resolves every object reachable from start, in object number order.
// It does not enter the objects in d.cut (other pages, the page tree, the
// catalog), nor self (the page being written), nor the two numbers the writer
// adds. Objects that do not exist are left out: references to them are
// written as null.
func (d *Document) closure(start types.Object, self int) ([]object, error) {
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
			if seen[nr] || d.keepRef(nr, self) || d.cut[nr] {
				return nil
			}
			seen[nr] = true
			r, err := d.ctx.Dereference(o)
			if err != nil {
				return classify(err, false, d.limits)
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
			return scan(o.Dict, depth)
		case types.Array:
			for _, v := range o {
				if err := scan(v, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := scan(start, 0); err != nil {
		return nil, err
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
	slices.SortFunc(out, func(a, b object) int { return a.nr - b.nr })
	return out, nil
}

// keepRef reports whether a reference to nr is written as is without being
// resolved: the page itself and the objects the writer adds.
func (d *Document) keepRef(nr, self int) bool {
	return nr == self || nr == d.catalogNr || nr == d.pagesNr
}

// pageDict is the page's dictionary as written: its own entries, the
// attributes it inherits, a /Parent pointing at the new page tree, and no /B
// (article beads chain to other pages).
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
	if out["MediaBox"] == nil {
		// Readers assume US Letter too; qpdf --check requires a MediaBox.
		out["MediaBox"] = types.Array{types.Integer(0), types.Integer(0), types.Integer(612), types.Integer(792)}
	}
	delete(out, "B")
	out["Parent"] = types.IndirectRef{ObjectNumber: types.Integer(d.pagesNr)}
	return out
}

// appendRecipe appends the recipe of page p to dst: the page serialized
// with the objects of the shared table left out, and where they go.
func (d *Document) appendRecipe(dst []byte, p *page) ([]byte, int, error) {
	table, err := d.Objects()
	if err != nil {
		return nil, 0, err
	}
	pd := d.pageDict(p)
	objs, err := d.closure(pd, p.nr)
	if err != nil {
		return nil, 0, err
	}
	objs = append(objs, object{p.nr, pd})
	slices.SortFunc(objs, func(a, b object) int { return a.nr - b.nr })

	present := make(map[int]bool, len(objs))
	for _, o := range objs {
		present[o.nr] = true
	}
	w := serializer{d: d, self: p.nr, present: present, buf: d.scratch[:0]}
	defer func() { d.scratch = w.buf[:0] }()
	// shared counts the table's bytes left out so far: every offset in the
	// page is the literal length plus them.
	var refs []recipeRef
	shared := 0
	pos := func() int { return len(w.buf) + shared }
	w.buf = append(w.buf, "%PDF-"...)
	w.buf = append(w.buf, d.version...)
	w.buf = append(w.buf, "\n%\xe2\xe3\xcf\xd3\n"...)

	offsets := make([]int, 0, len(objs)+2)
	nrs := make([]int, 0, len(objs)+2)
	for _, o := range objs {
		nrs, offsets = append(nrs, o.nr), append(offsets, pos())
		if i, ok := table.index[o.nr]; ok && o.nr != p.nr {
			refs = append(refs, recipeRef{at: len(w.buf), obj: i})
			shared += table.offs[i+1] - table.offs[i]
			continue
		}
		if err := w.indirect(o.nr, o.obj); err != nil {
			return nil, 0, err
		}
	}
	nrs, offsets = append(nrs, d.catalogNr), append(offsets, pos())
	w.buf = strconv.AppendInt(w.buf, int64(d.catalogNr), 10)
	w.buf = append(w.buf, " 0 obj\n<</Type /Catalog /Pages "...)
	w.buf = strconv.AppendInt(w.buf, int64(d.pagesNr), 10)
	w.buf = append(w.buf, " 0 R>>\nendobj\n"...)
	nrs, offsets = append(nrs, d.pagesNr), append(offsets, pos())
	w.buf = strconv.AppendInt(w.buf, int64(d.pagesNr), 10)
	w.buf = append(w.buf, " 0 obj\n<</Type /Pages /Kids ["...)
	w.buf = strconv.AppendInt(w.buf, int64(p.nr), 10)
	w.buf = append(w.buf, " 0 R] /Count 1>>\nendobj\n"...)

	// The file identifier is a digest of what makes up the body: the
	// shared table (itself a digest), where its objects go, and the
	// page's own bytes. Stable across runs, different for different pages,
	// and it hashes a few kilobytes where the whole body is often a
	// megabyte of fonts.
	h := sha256.New()
	h.Write(table.sum[:])
	h.Write(appendRecipe(nil, 0, refs, nil))
	h.Write(w.buf)
	id := hex.EncodeToString(h.Sum(nil)[:16])

	xrefAt := pos()
	w.buf = append(w.buf, "xref\n0 1\n0000000000 65535 f \n"...)
	for i := 0; i < len(nrs); {
		j := i + 1
		for j < len(nrs) && nrs[j] == nrs[j-1]+1 {
			j++
		}
		w.buf = strconv.AppendInt(w.buf, int64(nrs[i]), 10)
		w.buf = append(w.buf, ' ')
		w.buf = strconv.AppendInt(w.buf, int64(j-i), 10)
		w.buf = append(w.buf, '\n')
		for k := i; k < j; k++ {
			w.buf = appendPadded(w.buf, offsets[k])
			w.buf = append(w.buf, " 00000 n \n"...)
		}
		i = j
	}
	w.buf = append(w.buf, "trailer\n<</Size "...)
	w.buf = strconv.AppendInt(w.buf, int64(d.pagesNr+1), 10)
	w.buf = append(w.buf, " /Root "...)
	w.buf = strconv.AppendInt(w.buf, int64(d.catalogNr), 10)
	w.buf = append(w.buf, " 0 R /ID [<"...)
	w.buf = append(w.buf, id...)
	w.buf = append(w.buf, "> <"...)
	w.buf = append(w.buf, id...)
	w.buf = append(w.buf, ">]>>\nstartxref\n"...)
	w.buf = strconv.AppendInt(w.buf, int64(xrefAt), 10)
	w.buf = append(w.buf, "\n%%EOF\n"...)
	size := pos()
	return appendRecipe(dst, size, refs, w.buf), size, nil
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

// serializer writes PDF objects canonically: dictionary keys sorted, numbers
// in shortest form, generation numbers 0, streams as stored with a direct
// /Length.
type serializer struct {
	d       *Document
	self    int
	present map[int]bool // objects written in this file; references to others are null
	buf     []byte
}

// indirect writes "nr 0 obj ... endobj".
func (w *serializer) indirect(nr int, o types.Object) error {
	w.buf = strconv.AppendInt(w.buf, int64(nr), 10)
	w.buf = append(w.buf, " 0 obj\n"...)
	if sd, ok := o.(types.StreamDict); ok {
		if err := w.dict(sd.Dict, 0, len(sd.Raw)); err != nil {
			return err
		}
		w.buf = append(w.buf, "\nstream\n"...)
		w.buf = append(w.buf, sd.Raw...)
		w.buf = append(w.buf, "\nendstream\nendobj\n"...)
		return nil
	}
	if err := w.value(o, 0); err != nil {
		return err
	}
	w.buf = append(w.buf, "\nendobj\n"...)
	return nil
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

func (w *serializer) value(o types.Object, depth int) error {
	if depth > w.d.limits.MaxDepth {
		return pipeerr.New(pipeerr.TooLarge, "too large: objects nest deeper than %d levels", w.d.limits.MaxDepth)
	}
	switch o := o.(type) {
	case types.IndirectRef:
		nr := o.ObjectNumber.Value()
		if w.d.keepRef(nr, w.self) || w.present[nr] {
			w.buf = strconv.AppendInt(w.buf, int64(nr), 10)
			w.buf = append(w.buf, " 0 R"...)
		} else {
			w.buf = append(w.buf, "null"...)
		}
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
