package pdfsplit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strconv"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Objects is the table of source objects that two or more pages reach
// (fonts, images, ICC profiles, form XObjects), each serialized once as
// every one-page PDF that reaches it writes it, except for the numbers of
// the objects it refers to: each page numbers its objects 1..n, so those
// references are holes the page fills in. Page recipes refer to these by
// index instead of copying them: in the Octave, gnuplot and R manuals the
// shared objects are 94-96% of the pages' bytes.
//
// An Objects is immutable once built, so one table serves every parse of
// the same input (Document.UseObjects) and every goroutine.
type Objects struct {
	nrs   []int // object numbers, ascending
	pages []int // how many pages reach each object
	offs  []int // offs[i]:offs[i+1] is object i's bytes in data
	data  []byte
	// holeOffs[i]:holeOffs[i+1] are object i's holes in holes.
	holeOffs []int
	holes    []hole
	index    map[int]int // object number → position in nrs
	// sum digests the table's encoding; a page's /ID covers it.
	sum [sha256.Size]byte
	// pin[i] is the number object i has in every page that carries it
	// (1..pinned), or 0; see pinObjects.
	pin    []int
	pinned int
}

// maxPinned bounds how many objects get the same number in every page: a
// page writes a free cross-reference entry for each it does not carry,
// 20 bytes of its restored size.
const maxPinned = 1024

// pinObjects gives the most widely shared objects — those on at least 1%
// of the pages the most shared one is on, at most maxPinned, by page count
// then object number — the numbers 1, 2, … in every page that carries
// them. Pages then write a font the same way, header and references
// included, and so does the dictionary: a page compresses to a few long
// matches instead of breaking at every object number, which measured 10%
// of the published bytes of the R manuals. The pins are a function of the
// table alone, so a decoded table has the same.
func (o *Objects) pinObjects() {
	o.pin = make([]int, len(o.nrs))
	top := 0
	for _, p := range o.pages {
		top = max(top, p)
	}
	order := make([]int, 0, len(o.nrs))
	for i, p := range o.pages {
		if p >= 2 && p*100 >= top {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return o.pages[b] - o.pages[a] })
	order = order[:min(len(order), maxPinned)]
	for k, i := range order {
		o.pin[i] = k + 1
	}
	o.pinned = len(order)
}

// hole is a reference left out of a shared object's bytes: at is its
// offset in the object's bytes, nr the source number of the object it
// refers to. A page writes "n 0 R" there, n being its own number for nr.
type hole struct{ at, nr int }

// objectsMagic opens an encoded table; the trailing digit is the version.
const objectsMagic = "efspipe-objects 2\n"

// Len is the number of objects in the table.
func (o *Objects) Len() int { return len(o.nrs) }

// Size is the number of serialized bytes the table holds, holes left out.
func (o *Objects) Size() int { return len(o.data) }

func (o *Objects) bytes(i int) []byte { return o.data[o.offs[i]:o.offs[i+1]] }

func (o *Objects) holesOf(i int) []hole { return o.holes[o.holeOffs[i]:o.holeOffs[i+1]] }

// renderedLen is object i's length with its holes filled with nums.
func (o *Objects) renderedLen(i int, nums []int) int {
	n := o.offs[i+1] - o.offs[i]
	for _, v := range nums {
		n += digits(v) + len(" 0 R")
	}
	return n
}

// render appends object i with its holes filled with nums.
func (o *Objects) render(dst []byte, i int, nums []int) []byte {
	b, prev := o.bytes(i), 0
	for k, h := range o.holesOf(i) {
		dst = append(dst, b[prev:h.at]...)
		dst = strconv.AppendInt(dst, int64(nums[k]), 10)
		dst = append(dst, " 0 R"...)
		prev = h.at
	}
	return append(dst, b[prev:]...)
}

func digits(n int) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// Objects returns the document's shared-object table, computing it on the
// first call: that walks every page's closure once.
func (d *Document) Objects() (*Objects, error) {
	return d.ObjectsContext(context.Background())
}

// ObjectsContext is Objects, stopping between pages with ctx's error when
// ctx ends: the walk is most of a large document's split (7.4 s of 11 s
// for the 1,611 pages of l3kernel's source3.pdf), and a Ctrl-C, a
// StopExecution or a Lambda deadline waited for all of it.
func (d *Document) ObjectsContext(ctx context.Context) (o *Objects, err error) {
	defer catch(&err, pipeerr.Damaged, "damaged: the PDF parser failed on this file")
	if d.objects != nil {
		return d.objects, nil
	}
	o, err = d.buildObjects(ctx)
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
// serializes those reached by two or more. Left out are an object that
// refers to a page directly (an annotation's /P, a destination), since
// such a reference is written only in that page's own PDF, and a form
// field some page narrows to its own widgets: their bytes are not the same
// in every page.
func (d *Document) buildObjects(ctx context.Context) (*Objects, error) {
	counts := map[int]int{}
	var reached []object
	pageNr := make(map[int]bool, len(d.pages))
	for i := range d.pages {
		pageNr[d.pages[i].nr] = true
	}
	particular := map[int]bool{}
	for i := range d.pages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pl, err := d.plan(i)
		if err != nil {
			return nil, err
		}
		for nr := range pl.override {
			particular[nr] = true
		}
		for _, o := range pl.objs {
			if o.nr == pl.self {
				continue
			}
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
	t := &Objects{offs: []int{0}, holeOffs: []int{0}, index: map[int]int{}}
	w := serializer{d: d, present: present}
	for _, o := range reached {
		if counts[o.nr] < 2 || particular[o.nr] || pageNr[o.nr] || refersTo(o.obj, pageNr, d.limits.MaxDepth) {
			continue
		}
		start, holes := len(w.buf), len(w.holes)
		if err := w.body(o.obj); err != nil {
			// The page that reaches it reports the error when written.
			w.buf, w.holes = w.buf[:start], w.holes[:holes]
			continue
		}
		for k := holes; k < len(w.holes); k++ {
			w.holes[k].at -= start
		}
		t.index[o.nr] = len(t.nrs)
		t.nrs, t.pages = append(t.nrs, o.nr), append(t.pages, counts[o.nr])
		t.offs = append(t.offs, len(w.buf))
		t.holeOffs = append(t.holeOffs, len(w.holes))
	}
	t.data, t.holes = w.buf, w.holes
	t.sum = sha256.Sum256(t.Encode())
	t.pinObjects()
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
// The pinned objects come first, written whole ("n 0 obj … endobj") as
// every page that carries them writes them, in the order pages write them;
// the others follow in object number order, their references filled with
// the source's numbers. A table without objects gives nil.
func (o *Objects) Dictionary(max int) []byte {
	if max <= 0 || len(o.nrs) == 0 {
		return nil
	}
	order := make([]int, len(o.nrs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if pa, pb := o.pin[a], o.pin[b]; (pa > 0) != (pb > 0) {
			return pb - pa // pinned first
		} else if pa > 0 {
			return pa - pb
		}
		return o.pages[b] - o.pages[a]
	})
	var pinned, rest []byte
	total := 0
	var taken []int
	for _, i := range order {
		if o.pin[i] > 0 {
			before := len(pinned)
			pinned = o.appendWhole(pinned, i)
			total += len(pinned) - before
		} else {
			taken = append(taken, i)
			total += len(o.bytes(i))
		}
		if total >= max {
			break
		}
	}
	slices.Sort(taken)
	for _, i := range taken {
		rest = o.render(rest, i, o.pageNrs(i))
	}
	return append(pinned, rest...)[:min(max, len(pinned)+len(rest))]
}

// appendWhole appends pinned object i as a page writes it: its header, its
// bytes with the references to pinned objects filled with their pins, and
// "endobj".
func (o *Objects) appendWhole(dst []byte, i int) []byte {
	dst = strconv.AppendInt(dst, int64(o.pin[i]), 10)
	dst = append(dst, " 0 obj\n"...)
	dst = o.render(dst, i, o.pageNrs(i))
	return append(dst, "\nendobj\n"...)
}

// pageNrs are the numbers object i's holes most likely have in a page:
// the pin of a pinned object, else the source's number.
func (o *Objects) pageNrs(i int) []int {
	hs := o.holesOf(i)
	nums := make([]int, len(hs))
	for k, h := range hs {
		nums[k] = h.nr
		if j, ok := o.index[h.nr]; ok && o.pin[j] > 0 {
			nums[k] = o.pin[j]
		}
	}
	return nums
}

// Encode returns the table as a file: a magic line, the object count, for
// each object its number, page count, length, hole count and each hole's
// offset (from the previous hole's) and object number (uvarints), then the
// bytes.
func (o *Objects) Encode() []byte {
	b := make([]byte, 0, len(objectsMagic)+len(o.data)+12*len(o.nrs)+6*len(o.holes)+10)
	b = append(b, objectsMagic...)
	b = binary.AppendUvarint(b, uint64(len(o.nrs)))
	for i, nr := range o.nrs {
		b = binary.AppendUvarint(b, uint64(nr))
		b = binary.AppendUvarint(b, uint64(o.pages[i]))
		b = binary.AppendUvarint(b, uint64(o.offs[i+1]-o.offs[i]))
		hs := o.holesOf(i)
		b = binary.AppendUvarint(b, uint64(len(hs)))
		prev := 0
		for _, h := range hs {
			b = binary.AppendUvarint(b, uint64(h.at-prev))
			b = binary.AppendUvarint(b, uint64(h.nr))
			prev = h.at
		}
	}
	return append(b, o.data...)
}

// DecodeObjects reads a table written by Encode. The table shares b's
// bytes. A table of another version (an older efspipe's) is an error of
// kind Internal.
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
		offs: make([]int, 1, count+1), holeOffs: make([]int, 1, count+1),
		index: make(map[int]int, count),
	}
	for i := range count {
		nr, ok1 := r.next()
		pages, ok2 := r.next()
		n, ok3 := r.next()
		nh, ok4 := r.next()
		if !ok1 || !ok2 || !ok3 || !ok4 || (i > 0 && nr <= t.nrs[i-1]) || nh > len(r) {
			return nil, bad("bad entry")
		}
		at := 0
		for range nh {
			gap, ok1 := r.next()
			ref, ok2 := r.next()
			if at += gap; !ok1 || !ok2 || at > n {
				return nil, bad("bad hole")
			}
			t.holes = append(t.holes, hole{at: at, nr: ref})
		}
		t.nrs[i], t.pages[i] = nr, pages
		t.index[nr] = i
		t.offs = append(t.offs, t.offs[i]+n)
		t.holeOffs = append(t.holeOffs, len(t.holes))
	}
	if t.offs[count] != len(r) {
		return nil, bad("lengths do not add up to the data")
	}
	t.data = []byte(r)
	t.sum = sha256.Sum256(b)
	t.pinObjects()
	return t, nil
}

// A recipe is one page as its literal bytes with the shared objects left
// out, and where each goes: uvarint(page size), uvarint(reference count),
// for each reference uvarint(literal bytes since the previous one),
// uvarint(table index) and, for each of that object's holes, uvarint(the
// page's number for the object it refers to); then the literal bytes.
type recipeRef struct {
	at, obj int
	nums    []int
}

// appendRecipe appends the encoding of a page whose literal bytes are lit.
func appendRecipe(dst []byte, size int, refs []recipeRef, lit []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(size))
	dst = binary.AppendUvarint(dst, uint64(len(refs)))
	prev := 0
	for _, r := range refs {
		dst = binary.AppendUvarint(dst, uint64(r.at-prev))
		dst = binary.AppendUvarint(dst, uint64(r.obj))
		for _, n := range r.nums {
			dst = binary.AppendUvarint(dst, uint64(n))
		}
		prev = r.at
	}
	return append(dst, lit...)
}

// maxObjectNr bounds the object numbers a recipe may give: a page's
// objects are numbered densely, and no reader takes numbers past 2^31-1.
const maxObjectNr = 1<<31 - 1

// Assemble appends to dst the one-page PDF that recipe (from
// Document.AppendRecipe) describes. A recipe that does not fit the table
// is an error of kind Internal, never a panic.
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
		for range o.holeOffs[i+1] - o.holeOffs[i] {
			n, ok := r.next()
			if !ok || n < 1 || n > maxObjectNr {
				return nil, bad
			}
			total += digits(n) + len(" 0 R")
		}
	}
	if lit > len(r) || total+len(r)-lit != size {
		return nil, bad
	}
	lits := r
	r = refs
	dst = slices.Grow(dst, size)
	var nums []int
	for range count {
		gap, _ := r.next()
		i, _ := r.next()
		nums = nums[:0]
		for range o.holeOffs[i+1] - o.holeOffs[i] {
			n, _ := r.next()
			nums = append(nums, n)
		}
		dst = append(dst, lits[:gap]...)
		lits = lits[gap:]
		dst = o.render(dst, i, nums)
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
