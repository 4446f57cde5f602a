package pdfsplit

import (
	"bytes"
	"encoding/hex"
	"slices"
	"sort"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// What a page needs from the document's catalog besides its page tree:
// entries that describe the whole document but change how the page reads
// or renders when it stands alone. Each one-page PDF's catalog carries
// them, restricted to the page (ISO 32000-1 7.7.2).

// sharedCatalogEntries are copied as they are: the same for every page,
// and most (an output intent's ICC profile) go into the shared-object
// table, so nearly free once compressed with the dictionary.
var sharedCatalogEntries = []string{"Lang", "MarkInfo", "OutputIntents"}

// catalogFor returns the catalog entries page i (0-based) carries before
// its closure is known, and the form field objects rewritten for it.
// /OCProperties, which depends on the closure, is added by ocProperties.
func (d *Document) catalogFor(i int) (types.Dict, map[int]types.Object) {
	p := &d.pages[i]
	cat := types.Dict{}
	root := d.root()
	for _, k := range sharedCatalogEntries {
		if v, ok := root[k]; ok && v != nil {
			cat[k] = v
		}
	}
	if l := d.pageLabel(i); l != nil {
		cat["PageLabels"] = types.Dict{"Nums": types.Array{types.Integer(0), l}}
	}
	tree, dict := d.destsFor(p.nr)
	if len(tree) > 0 {
		cat["Names"] = types.Dict{"Dests": types.Dict{"Names": tree}}
	}
	if len(dict) > 0 {
		cat["Dests"] = dict
	}
	form, override := d.acroFormFor(i)
	if form != nil {
		cat["AcroForm"] = form
	}
	return cat, override
}

// root is the document catalog (never nil).
func (d *Document) root() types.Dict {
	r, _ := d.ctx.Catalog()
	if r == nil {
		return types.Dict{}
	}
	return r
}

// pageLabel returns the label dictionary that gives page i (0-based) as the
// only page of its file the label it has in the document: the range's
// style and prefix, its start advanced by the page's place in the range
// (ISO 32000-1 12.4.2). nil when the document has no labels.
func (d *Document) pageLabel(i int) types.Dict {
	labels := d.labelRanges()
	k := sort.Search(len(labels), func(k int) bool { return labels[k].start > i }) - 1
	if k < 0 {
		return nil
	}
	r := labels[k]
	out := types.Dict{}
	for _, key := range []string{"S", "P"} {
		if v := d.deref(r.dict[key]); v != nil {
			out[key] = v
		}
	}
	st := 1
	if n, ok := d.deref(r.dict["St"]).(types.Integer); ok && n >= 1 {
		st = int(n)
	}
	out["St"] = types.Integer(st + i - r.start)
	return out
}

type labelRange struct {
	start int
	dict  types.Dict
}

// labelRanges reads the catalog's /PageLabels number tree once, sorted by
// start page. A malformed tree gives the ranges it could read.
func (d *Document) labelRanges() []labelRange {
	if d.labels != nil {
		return *d.labels
	}
	var out []labelRange
	d.numberTree(d.root()["PageLabels"], func(k int, v types.Object) {
		if dict, ok := d.deref(v).(types.Dict); ok && k >= 0 {
			out = append(out, labelRange{k, dict})
		}
	})
	slices.SortStableFunc(out, func(a, b labelRange) int { return a.start - b.start })
	d.labels = &out
	return out
}

// numberTree calls f for every key and value of a number tree (ISO 32000-1
// 7.9.7), depth- and cycle-bounded.
func (d *Document) numberTree(node types.Object, f func(int, types.Object)) {
	d.walkTree(node, "Nums", func(k, v types.Object) {
		if n, ok := d.deref(k).(types.Integer); ok {
			f(int(n), v)
		}
	})
}

// walkTree visits the leaves of a name or number tree: the pairs in each
// node's leaves array (/Names or /Nums) and the nodes under /Kids.
func (d *Document) walkTree(node types.Object, leaves string, f func(k, v types.Object)) {
	seen := map[int]bool{}
	var walk func(o types.Object, depth int)
	walk = func(o types.Object, depth int) {
		if depth > d.limits.MaxDepth {
			return
		}
		if r, ok := o.(types.IndirectRef); ok {
			if seen[r.ObjectNumber.Value()] {
				return
			}
			seen[r.ObjectNumber.Value()] = true
		}
		n, ok := d.deref(o).(types.Dict)
		if !ok {
			return
		}
		if arr, ok := d.deref(n[leaves]).(types.Array); ok {
			for j := 0; j+1 < len(arr); j += 2 {
				f(arr[j], arr[j+1])
			}
		}
		if kids, ok := d.deref(n["Kids"]).(types.Array); ok {
			for _, k := range kids {
				walk(k, depth+1)
			}
		}
	}
	walk(node, 0)
}

// dest is a named destination: its name as written and as bytes (for
// sorting), and its explicit destination array.
type dest struct {
	key   types.Object
	bytes []byte
	value types.Object
}

// destsFor returns the named destinations that point into page nr: those
// of the /Names /Dests name tree, in name order, as a name tree's leaf
// array, and those of the catalog's /Dests dictionary (PDF 1.1). A link on
// the page to one of them then still goes somewhere; destinations on other
// pages are left out, as their pages are.
func (d *Document) destsFor(nr int) (types.Array, types.Dict) {
	if d.dests == nil {
		d.indexDests()
	}
	var tree types.Array
	for _, e := range d.dests.tree[nr] {
		tree = append(tree, e.key, e.value)
	}
	var dict types.Dict
	for _, e := range d.dests.dict[nr] {
		if dict == nil {
			dict = types.Dict{}
		}
		dict[string(e.bytes)] = e.value
	}
	return tree, dict
}

type destIndex struct {
	tree map[int][]dest // by page object number, sorted by name
	dict map[int][]dest
}

// indexDests reads the document's named destinations once and files each
// under the page it points at.
func (d *Document) indexDests() {
	d.dests = &destIndex{tree: map[int][]dest{}, dict: map[int][]dest{}}
	root := d.root()
	if names, ok := d.deref(root["Names"]).(types.Dict); ok {
		d.walkTree(names["Dests"], "Names", func(k, v types.Object) {
			b, ok := stringBytes(d.deref(k))
			if !ok {
				return
			}
			if arr, nr := d.destArray(v); nr > 0 {
				d.dests.tree[nr] = append(d.dests.tree[nr], dest{d.deref(k), b, arr})
			}
		})
	}
	if dict, ok := d.deref(root["Dests"]).(types.Dict); ok {
		for k, v := range dict {
			if arr, nr := d.destArray(v); nr > 0 {
				d.dests.dict[nr] = append(d.dests.dict[nr], dest{types.Name(k), []byte(k), arr})
			}
		}
	}
	for _, m := range []map[int][]dest{d.dests.tree, d.dests.dict} {
		for _, ds := range m {
			// Name tree keys are sorted by their bytes (ISO 32000-1
			// 7.9.6); the first of a repeated name wins, as in a lookup.
			slices.SortStableFunc(ds, func(a, b dest) int { return bytes.Compare(a.bytes, b.bytes) })
		}
		for nr, ds := range m {
			m[nr] = slices.CompactFunc(ds, func(a, b dest) bool { return bytes.Equal(a.bytes, b.bytes) })
		}
	}
}

// destArray returns a destination (an array, or a dictionary with /D,
// either perhaps by reference) as a direct array, and the object number of
// the page it points at (0 when it points at none). Written direct in the
// page's name tree, a destination costs its few bytes, not an object of
// its own (LaTeX's hyperref makes several per page).
func (d *Document) destArray(v types.Object) (types.Array, int) {
	v = d.deref(v)
	if dict, ok := v.(types.Dict); ok {
		v = d.deref(dict["D"])
	}
	arr, ok := v.(types.Array)
	if !ok || len(arr) == 0 {
		return nil, 0
	}
	if r, ok := arr[0].(types.IndirectRef); ok {
		return arr, r.ObjectNumber.Value()
	}
	return nil, 0
}

// stringBytes returns the bytes a string object stands for.
func stringBytes(o types.Object) ([]byte, bool) {
	switch s := o.(type) {
	case types.StringLiteral:
		b, err := types.Unescape(string(s))
		return b, err == nil
	case types.HexLiteral:
		b, err := hex.DecodeString(string(s))
		if err != nil {
			return []byte(s), true
		}
		return b, true
	}
	return nil, false
}

// acroFormFor returns the /AcroForm a page carries: the document's form
// with the fields (ISO 32000-1 12.7.3) that are provably on other pages left
// out, and the default resources and appearance settings that make the
// rest render and fill (12.7.2); and the field objects whose /Kids it
// narrows. nil when no field is left.
//
// A field is on other pages when every terminal field or widget under it
// is in the /Annots of a page other than page i. Whatever cannot be placed
// — a widget in no page's /Annots, a /Kids entry that is not a dictionary,
// a cycle, a tree deeper than Limits.MaxDepth — stays, as in the source:
// a damaged field tree (a widget whose /Parent is missing, a field reached
// twice) is carried as it is rather than rebuilt into another form.
func (d *Document) acroFormFor(i int) (types.Dict, map[int]types.Object) {
	form, ok := d.deref(d.root()["AcroForm"]).(types.Dict)
	if !ok {
		return nil, nil
	}
	fields, _ := d.deref(form["Fields"]).(types.Array)
	elsewhere := func(o types.Object) bool {
		r, ok := o.(types.IndirectRef)
		if !ok {
			return false
		}
		on := d.fieldPages(r.ObjectNumber.Value(), 0, map[int]bool{})
		return on != nil && !slices.Contains(on, i)
	}
	var roots types.Array
	for _, f := range fields {
		if !elsewhere(f) {
			roots = append(roots, f)
		}
	}
	if len(roots) == 0 {
		return nil, nil
	}
	override := map[int]types.Object{}
	seen := map[int]bool{}
	var narrow func(o types.Object, depth int)
	narrow = func(o types.Object, depth int) {
		r, ok := o.(types.IndirectRef)
		if !ok || depth > d.limits.MaxDepth || seen[r.ObjectNumber.Value()] {
			return
		}
		nr := r.ObjectNumber.Value()
		seen[nr] = true
		f, ok := d.deref(r).(types.Dict)
		if !ok {
			return
		}
		kids, ok := d.deref(f["Kids"]).(types.Array)
		if !ok {
			return
		}
		var keep types.Array
		for _, k := range kids {
			if !elsewhere(k) {
				keep = append(keep, k)
				narrow(k, depth+1)
			}
		}
		if len(keep) != len(kids) {
			nf := cloneDict(f)
			nf["Kids"] = keep
			override[nr] = nf
		}
	}
	for _, f := range roots {
		narrow(f, 0)
	}
	out := types.Dict{"Fields": roots}
	for _, k := range []string{"DR", "DA", "NeedAppearances", "Q", "SigFlags"} {
		if v, ok := form[k]; ok && v != nil {
			out[k] = v
		}
	}
	return out, override
}

// fieldPages returns the pages (0-based, sorted) that the widgets under
// field nr are on, or nil when one of them cannot be placed (see
// acroFormFor). Computed once per field: a form with thousands of fields
// costs one walk of its field tree, not one per page.
func (d *Document) fieldPages(nr, depth int, visiting map[int]bool) []int {
	if on, ok := d.fieldOn[nr]; ok {
		return on
	}
	if d.annotPage == nil {
		d.annotPage = map[int]int{}
		for i := range d.pages {
			annots, _ := d.deref(d.pages[i].dict["Annots"]).(types.Array)
			for _, a := range annots {
				if r, ok := a.(types.IndirectRef); ok {
					if _, dup := d.annotPage[r.ObjectNumber.Value()]; !dup {
						d.annotPage[r.ObjectNumber.Value()] = i
					} else {
						d.annotPage[r.ObjectNumber.Value()] = -1 // on two pages: cannot be placed
					}
				}
			}
		}
		d.fieldOn = map[int][]int{}
	}
	if depth > d.limits.MaxDepth || visiting[nr] {
		return nil
	}
	visiting[nr] = true
	defer delete(visiting, nr)
	f, ok := d.deref(types.IndirectRef{ObjectNumber: types.Integer(nr)}).(types.Dict)
	if !ok {
		return nil
	}
	var on []int
	if kids, ok := d.deref(f["Kids"]).(types.Array); ok && len(kids) > 0 {
		for _, k := range kids {
			r, ok := k.(types.IndirectRef)
			if !ok {
				return d.memoField(nr, nil)
			}
			sub := d.fieldPages(r.ObjectNumber.Value(), depth+1, visiting)
			if sub == nil {
				return d.memoField(nr, nil)
			}
			on = append(on, sub...)
		}
		slices.Sort(on)
		on = slices.Compact(on)
	} else if p, ok := d.annotPage[nr]; ok && p >= 0 {
		on = []int{p}
	} else {
		return d.memoField(nr, nil)
	}
	return d.memoField(nr, on)
}

func (d *Document) memoField(nr int, on []int) []int {
	d.fieldOn[nr] = on
	return on
}

// ocProperties returns the document's optional content configuration
// restricted to the optional content groups in objs (the page's closure),
// so layers hidden by default stay hidden on the page (ISO 32000-1
// 8.11.4). nil when the document has none or the page uses none.
func (d *Document) ocProperties(in map[int]bool) types.Dict {
	ocp, ok := d.deref(d.root()["OCProperties"]).(types.Dict)
	if !ok {
		return nil
	}
	ocgs := filterRefs(d.deref(ocp["OCGs"]), in, d.limits.MaxDepth)
	if arr, ok := ocgs.(types.Array); !ok || len(arr) == 0 {
		return nil
	}
	out := types.Dict{"OCGs": ocgs}
	if cfg, ok := d.deref(ocp["D"]).(types.Dict); ok {
		nd := types.Dict{}
		for k, v := range cfg {
			switch k {
			case "ON", "OFF", "Order", "RBGroups", "Locked":
				nd[k] = filterRefs(d.deref(v), in, d.limits.MaxDepth)
			case "AS":
				as, _ := d.deref(v).(types.Array)
				var keep types.Array
				for _, u := range as {
					if ud, ok := d.deref(u).(types.Dict); ok {
						ud = cloneDict(ud)
						ud["OCGs"] = filterRefs(d.deref(ud["OCGs"]), in, d.limits.MaxDepth)
						keep = append(keep, ud)
					}
				}
				nd[k] = keep
			default:
				nd[k] = v
			}
		}
		out["D"] = nd
	}
	return out
}

// filterRefs returns o with every reference to an object outside in
// removed from its arrays, recursively; a nested array left empty goes
// too (an /Order entry for groups the page does not have).
func filterRefs(o types.Object, in map[int]bool, depth int) types.Object {
	arr, ok := o.(types.Array)
	if !ok || depth < 0 {
		return o
	}
	out := types.Array{}
	for _, v := range arr {
		switch x := v.(type) {
		case types.IndirectRef:
			if in[x.ObjectNumber.Value()] {
				out = append(out, x)
			}
		case types.Array:
			if f, _ := filterRefs(x, in, depth-1).(types.Array); len(f) > 0 {
				out = append(out, f)
			}
		default:
			out = append(out, v)
		}
	}
	return out
}
