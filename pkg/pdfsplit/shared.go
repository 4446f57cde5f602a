package pdfsplit

import (
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"slices"
)

// sharedObj is a source object that two or more pages reach.
type sharedObj struct {
	nr    int
	pages int
}

// SharedResources returns the content for a zstd raw-content dictionary: the
// byte sequences that the one-page PDFs have in common because splitting
// copies resources (fonts, images, ICC profiles, form XObjects) reached from
// two or more pages into each of them. Each shared object appears exactly as
// Page writes it ("nr 0 obj ... endobj", stream data as stored).
//
// The result is at most max bytes: objects are taken most widely shared first
// (then by object number), the first that does not fit contributes the prefix
// that does, and the taken objects are laid out in object number order, the
// order Page writes them in. Deterministic. It walks every page once, on the
// first call; a document nothing is shared in gives nil.
func (d *Document) SharedResources(max int) (dict []byte) {
	defer func() {
		if recover() != nil {
			dict = nil // no dictionary is a valid answer; Page reports the error
		}
	}()
	if max <= 0 {
		return nil
	}
	if d.reach == nil {
		reach, err := d.sharedObjects()
		if err != nil {
			return nil
		}
		d.reach = &reach
	}
	reach := d.reach
	byNr := map[int]types.Object{}
	for _, o := range reach.objs {
		byNr[o.nr] = o.obj
	}
	type piece struct {
		nr int
		b  []byte
	}
	var pieces []piece
	total := 0
	w := serializer{d: d, self: 0, present: reach.present}
	for _, s := range d.shared {
		w.buf = w.buf[:0]
		if err := w.indirect(s.nr, byNr[s.nr]); err != nil {
			continue
		}
		b := w.buf
		if total+len(b) > max {
			b = b[:max-total]
		}
		pieces = append(pieces, piece{s.nr, slices.Clone(b)})
		total += len(b)
		if total >= max {
			break
		}
	}
	slices.SortFunc(pieces, func(a, b piece) int { return a.nr - b.nr })
	for _, p := range pieces {
		dict = append(dict, p.b...)
	}
	return dict
}

// reachAll is every object any page reaches.
type reachAll struct {
	objs    []object
	present map[int]bool
}

// sharedObjects counts, for each object, the pages that reach it, and sets
// d.shared to those reached by two or more, most widely shared first.
func (d *Document) sharedObjects() (reachAll, error) {
	counts := map[int]int{}
	var all []object
	for i := range d.pages {
		p := &d.pages[i]
		objs, err := d.closure(d.pageDict(p), p.nr)
		if err != nil {
			return reachAll{}, err
		}
		for _, o := range objs {
			if counts[o.nr] == 0 {
				all = append(all, o)
			}
			counts[o.nr]++
		}
	}
	present := make(map[int]bool, len(counts))
	d.shared = d.shared[:0]
	for nr, n := range counts {
		present[nr] = true
		if n >= 2 {
			d.shared = append(d.shared, sharedObj{nr, n})
		}
	}
	slices.SortFunc(d.shared, func(a, b sharedObj) int {
		if a.pages != b.pages {
			return b.pages - a.pages
		}
		return a.nr - b.nr
	})
	return reachAll{all, present}, nil
}
