package pdfsplit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"slices"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Objects is the table of source objects that two or more pages reach
// (fonts, images, ICC profiles, form XObjects), each serialized once exactly
// as every one-page PDF that reaches it writes it. Page recipes refer to
// these by index instead of copying them: in the Octave, gnuplot and R
// manuals the shared objects are 94-96% of the pages' bytes.
//
// An Objects is immutable once built, so one table serves every parse of
// the same input (Document.UseObjects) and every goroutine.
type Objects struct {
	nrs   []int // object numbers, ascending
	pages []int // how many pages reach each object
	offs  []int // offs[i]:offs[i+1] is object i's bytes in data
	data  []byte
	index map[int]int // object number → position in nrs
	// sum digests the table's encoding; a page's /ID covers it.
	sum [sha256.Size]byte
}

// objectsMagic opens an encoded table; the trailing digit is the version.
const objectsMagic = "efspipe-objects 1\n"

// Len is the number of objects in the table.
func (o *Objects) Len() int { return len(o.nrs) }

// Size is the number of serialized bytes the table holds.
func (o *Objects) Size() int { return len(o.data) }

func (o *Objects) bytes(i int) []byte { return o.data[o.offs[i]:o.offs[i+1]] }

// Objects returns the document's shared-object table, computing it on the
// first call: that walks every page's closure once.
func (d *Document) Objects() (o *Objects, err error) {
	defer catch(&err, pipeerr.Damaged, "damaged: the PDF parser failed on this file")
	if d.objects != nil {
		return d.objects, nil
	}
	o, err = d.buildObjects()
	if err != nil {
		return nil, err
	}
	d.objects = o
	return o, nil
}

// UseObjects adopts a table built from another parse of the same input (or
// read back from its encoding), so a worker's parse need not walk every page
// again. The table must be of the same input bytes (the split stage reads
// the one recorded with the job's verified source); another input's table
// gives wrong pages, though never a panic.
func (d *Document) UseObjects(o *Objects) { d.objects = o }

// buildObjects counts, for each object, the pages that reach it and
// serializes those reached by two or more. An object that refers to a page
// directly (an annotation's /P, a destination) is left out: such a
// reference is written only in that page's own PDF, so its bytes are not
// the same in every page.
func (d *Document) buildObjects() (*Objects, error) {
	counts := map[int]int{}
	var reached []object
	pageNr := make(map[int]bool, len(d.pages))
	for i := range d.pages {
		pageNr[d.pages[i].nr] = true
	}
	for i := range d.pages {
		p := &d.pages[i]
		objs, err := d.closure(d.pageDict(p), p.nr)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			if counts[o.nr] == 0 {
				reached = append(reached, o)
			}
			counts[o.nr]++
		}
	}
	present := make(map[int]bool, len(counts))
	for nr := range counts {
		present[nr] = true
	}
	slices.SortFunc(reached, func(a, b object) int { return a.nr - b.nr })
	t := &Objects{offs: []int{0}, index: map[int]int{}}
	// self -1: no page is this one, so no page reference is kept.
	w := serializer{d: d, self: -1, present: present}
	for _, o := range reached {
		if counts[o.nr] < 2 || refersTo(o.obj, pageNr, d.limits.MaxDepth) {
			continue
		}
		if err := w.indirect(o.nr, o.obj); err != nil {
			// The page that reaches it reports the error when written.
			w.buf = w.buf[:len(t.data)]
			continue
		}
		t.index[o.nr] = len(t.nrs)
		t.nrs, t.pages = append(t.nrs, o.nr), append(t.pages, counts[o.nr])
		t.data = w.buf
		t.offs = append(t.offs, len(t.data))
	}
	t.sum = sha256.Sum256(t.Encode())
	return t, nil
}

// refersTo reports whether o holds, directly or in nested arrays and
// dictionaries, a reference to one of nrs.
func refersTo(o types.Object, nrs map[int]bool, depth int) bool {
	if depth < 0 {
		return true // as deep as the writer refuses: never share it
	}
	switch o := o.(type) {
	case types.IndirectRef:
		return nrs[o.ObjectNumber.Value()]
	case types.Dict:
		for _, v := range o {
			if refersTo(v, nrs, depth-1) {
				return true
			}
		}
	case types.StreamDict:
		return refersTo(o.Dict, nrs, depth)
	case types.Array:
		for _, v := range o {
			if refersTo(v, nrs, depth-1) {
				return true
			}
		}
	}
	return false
}

// Dictionary returns the content for a zstd raw-content dictionary: the
// shared objects, most widely shared first (then by object number), until
// max bytes; the first that does not fit contributes the prefix that does.
// The taken objects are laid out in object number order, the order pages
// write them in. A table without objects gives nil.
func (o *Objects) Dictionary(max int) []byte {
	if max <= 0 || len(o.nrs) == 0 {
		return nil
	}
	order := make([]int, len(o.nrs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return o.pages[b] - o.pages[a] })
	type piece struct{ i, n int }
	var take []piece
	total := 0
	for _, i := range order {
		n := min(len(o.bytes(i)), max-total)
		take = append(take, piece{i, n})
		if total += n; total >= max {
			break
		}
	}
	slices.SortFunc(take, func(a, b piece) int { return a.i - b.i })
	dict := make([]byte, 0, total)
	for _, p := range take {
		dict = append(dict, o.bytes(p.i)[:p.n]...)
	}
	return dict
}

// Encode returns the table as a file: a magic line, the object count, for
// each object its number, page count and length (uvarints), then the bytes.
func (o *Objects) Encode() []byte {
	b := make([]byte, 0, len(objectsMagic)+len(o.data)+12*len(o.nrs)+10)
	b = append(b, objectsMagic...)
	b = binary.AppendUvarint(b, uint64(len(o.nrs)))
	for i, nr := range o.nrs {
		b = binary.AppendUvarint(b, uint64(nr))
		b = binary.AppendUvarint(b, uint64(o.pages[i]))
		b = binary.AppendUvarint(b, uint64(o.offs[i+1]-o.offs[i]))
	}
	return append(b, o.data...)
}

// DecodeObjects reads a table written by Encode. The table shares b's
// bytes.
func DecodeObjects(b []byte) (*Objects, error) {
	bad := func(what string) error {
		return pipeerr.New(pipeerr.Internal, "shared-object table: %s", what)
	}
	if !bytes.HasPrefix(b, []byte(objectsMagic)) {
		return nil, bad("not a table of this version")
	}
	r := uvarints(b[len(objectsMagic):])
	count, ok := r.next()
	if !ok || count > len(r) {
		return nil, bad("bad object count")
	}
	t := &Objects{
		nrs: make([]int, count), pages: make([]int, count),
		offs: make([]int, 1, count+1), index: make(map[int]int, count),
	}
	for i := range count {
		nr, ok1 := r.next()
		pages, ok2 := r.next()
		n, ok3 := r.next()
		if !ok1 || !ok2 || !ok3 || (i > 0 && nr <= t.nrs[i-1]) {
			return nil, bad("bad entry")
		}
		t.nrs[i], t.pages[i] = nr, pages
		t.index[nr] = i
		t.offs = append(t.offs, t.offs[i]+n)
	}
	if t.offs[count] != len(r) {
		return nil, bad("lengths do not add up to the data")
	}
	t.data = []byte(r)
	t.sum = sha256.Sum256(b)
	return t, nil
}

// A recipe is one page as its literal bytes with the shared objects left
// out, and where each goes: uvarint(page size), uvarint(reference count),
// for each reference uvarint(literal bytes since the previous one) and
// uvarint(table index), then the literal bytes.
type recipeRef struct{ at, obj int }

// appendRecipe appends the encoding of a page whose literal bytes are lit.
func appendRecipe(dst []byte, size int, refs []recipeRef, lit []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(size))
	dst = binary.AppendUvarint(dst, uint64(len(refs)))
	prev := 0
	for _, r := range refs {
		dst = binary.AppendUvarint(dst, uint64(r.at-prev))
		dst = binary.AppendUvarint(dst, uint64(r.obj))
		prev = r.at
	}
	return append(dst, lit...)
}

// Assemble appends to dst the one-page PDF that recipe (from
// Document.AppendRecipe) describes. A recipe that does not fit the table
// is an error, never a panic.
func (o *Objects) Assemble(dst, recipe []byte) ([]byte, error) {
	bad := pipeerr.New(pipeerr.Internal, "page recipe does not match the shared-object table")
	r := uvarints(recipe)
	size, ok1 := r.next()
	count, ok2 := r.next()
	if !ok1 || !ok2 || count > len(r) {
		return nil, bad
	}
	// Two passes: check every reference and the total before growing dst
	// to the page's size, so a forged size cannot make us allocate.
	refs, lit := r, 0
	total := 0
	for range count {
		gap, ok1 := r.next()
		i, ok2 := r.next()
		if !ok1 || !ok2 || i >= len(o.nrs) {
			return nil, bad
		}
		lit += gap
		total += gap + o.offs[i+1] - o.offs[i]
	}
	if lit > len(r) || total+len(r)-lit != size {
		return nil, bad
	}
	lits := r
	r = refs
	dst = slices.Grow(dst, size)
	for range count {
		gap, _ := r.next()
		i, _ := r.next()
		dst = append(dst, lits[:gap]...)
		lits = lits[gap:]
		dst = append(dst, o.bytes(i)...)
	}
	return append(dst, lits...), nil
}

// uvarints reads uvarints off the front of a byte slice, refusing any over
// 2^40 (no count, length or index here comes near it) so that arithmetic on
// them cannot overflow.
type uvarints []byte

func (r *uvarints) next() (int, bool) {
	v, n := binary.Uvarint(*r)
	if n <= 0 || v > 1<<40 {
		return 0, false
	}
	*r = (*r)[n:]
	return int(v), true
}
