package pdfsplit

import (
	"context"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// resourceCategories are the resource dictionary entries whose keys are the
// names content streams use (ISO 32000-1 7.8.3, Table 33). /ProcSet and
// anything unknown are kept as they are.
var resourceCategories = map[string]bool{
	"Font": true, "XObject": true, "ExtGState": true, "ColorSpace": true,
	"Pattern": true, "Shading": true, "Properties": true,
}

// implicitColorSpaces are used without being named: a DeviceRGB operator
// draws in /DefaultRGB when the resources define it (ISO 32000-1 8.6.5.6).
var implicitColorSpaces = []string{"DefaultGray", "DefaultRGB", "DefaultCMYK"}

// prune returns res with each category holding only the names in used. res
// is a resource dictionary or a reference to one; what is not a dictionary
// comes back as it is. The result is a new direct dictionary: the source's
// shared resource dictionaries are never changed.
func (d *Document) prune(res types.Object, used names) types.Object {
	rd, ok := d.deref(res).(types.Dict)
	if !ok {
		return res
	}
	out := make(types.Dict, len(rd))
	for k, v := range rd {
		if !resourceCategories[k] {
			out[k] = v
			continue
		}
		cat, ok := d.deref(v).(types.Dict)
		if !ok {
			out[k] = v
			continue
		}
		kept := types.Dict{}
		for name, o := range cat {
			if used.has(name) {
				kept[name] = o
			}
		}
		if k == "ColorSpace" {
			for _, name := range implicitColorSpaces {
				if o, ok := cat[name]; ok {
					kept[name] = o
				}
			}
		}
		if k == "ExtGState" {
			// A graphics state with transparency stays, used or not:
			// poppler composites a form as a transparency group when its
			// resources hold one, so without it the form's edges render
			// otherwise (pdf.js's issue6961.pdf: 477 pixels at 36 dpi).
			for name, o := range cat {
				if _, ok := kept[name]; !ok && d.transparentGState(o) {
					kept[name] = o
				}
			}
		}
		if len(kept) > 0 {
			out[k] = kept
		}
	}
	for key := range used {
		if name, stray := strings.CutPrefix(key, strayKey); stray && d.lostName == "" && d.undefined(rd, names{name: {}}).has(name) {
			d.lostName = name
		}
	}
	return out
}

// transparentGState reports whether o is a graphics state parameter
// dictionary that sets transparency: a constant alpha below 1, a soft mask
// or a blend mode other than Normal (ISO 32000-1 8.4.5, Table 58; 11.3.5).
func (d *Document) transparentGState(o types.Object) bool {
	gs, ok := d.deref(o).(types.Dict)
	if !ok {
		return false
	}
	for _, k := range []string{"CA", "ca"} {
		switch v := d.deref(gs[k]).(type) {
		case types.Float:
			if v < 1 {
				return true
			}
		case types.Integer:
			if v < 1 {
				return true
			}
		}
	}
	if sm := d.deref(gs["SMask"]); sm != nil {
		if n, ok := sm.(types.Name); !ok || n != "None" {
			return true
		}
	}
	switch bm := d.deref(gs["BM"]).(type) {
	case types.Name:
		return bm != "Normal" && bm != "Compatible"
	case types.Array:
		return true
	}
	return false
}

// deref resolves a reference (one level), or returns o.
func (d *Document) deref(o types.Object) types.Object {
	r, ok := o.(types.IndirectRef)
	if !ok {
		return o
	}
	v, err := d.ctx.Dereference(r)
	if err != nil {
		return nil
	}
	return v
}

// contentsNames returns the names used by the content streams of a page's
// /Contents (a stream or an array of them), plus those of the resource-less
// content streams of the document (resourceless). ok is false when one
// cannot be read: the page then keeps all its resources.
func (d *Document) contentsNames(contents types.Object) (names, bool) {
	extra, ok := d.resourceless()
	if !ok {
		return nil, false
	}
	used := names{}
	used.addAll(extra)
	var streams []types.Object
	switch c := d.deref(contents).(type) {
	case nil:
		return used, true
	case types.StreamDict:
		streams = []types.Object{contents}
	case types.Array:
		streams = c
	default:
		return nil, false
	}
	for _, s := range streams {
		nr := 0
		if r, ok := s.(types.IndirectRef); ok {
			nr = r.ObjectNumber.Value()
		}
		sd, isStream := d.deref(s).(types.StreamDict)
		if !isStream {
			if d.deref(s) == nil {
				continue // a missing content stream draws nothing
			}
			return nil, false
		}
		n, ok := d.streamNames(nr, sd)
		if !ok {
			return nil, false
		}
		used.addAll(n)
	}
	return used, true
}

// resourceless returns the names used by the content streams of the
// document that their own resources do not define: every name of a form
// XObject, a tiling pattern or an appearance stream without /Resources, or
// of the glyph procedures of a Type 3 font without /Resources, and the
// names such a stream with /Resources uses but its dictionary lacks. Such
// a stream draws with the resources of the page it is on (ISO 32000-1
// 8.10.1, 9.6.5), whichever that is, so every page and form keeps those
// names. Real documents rarely have any; computed once, ok false when one
// cannot be read (then nothing is pruned anywhere).
func (d *Document) resourceless() (names, bool) {
	if d.reslessDone {
		return d.resless, d.reslessOK
	}
	d.reslessDone = true
	d.resless, d.reslessOK = names{}, true
	for nr, e := range d.ctx.Table {
		if e == nil || e.Free {
			continue
		}
		o := e.Object
		if l, ok := o.(types.LazyObjectStreamObject); ok {
			// An object still packed in an object stream: decoded for a
			// look without being kept, as the page writer would keep it.
			// A stream cannot be packed, but a Type 3 font can.
			if o, _ = l.DecodedObject(context.Background()); o == nil {
				continue
			}
		}
		var n names
		var res types.Object
		ok := true
		switch o := o.(type) {
		case types.StreamDict:
			if _, bbox := o.Dict["BBox"]; !bbox {
				continue
			}
			res = o.Dict["Resources"]
			n, ok = d.streamNames(nr, o)
		case types.Dict:
			if st, _ := o["Subtype"].(types.Name); st != "Type3" {
				continue
			}
			res = o["Resources"]
			n, ok = d.charProcsNames(o)
		default:
			continue
		}
		if !ok {
			d.reslessOK = false
			return nil, false
		}
		d.resless.addAll(d.undefined(res, n))
	}
	return d.resless, d.reslessOK
}

// undefined returns the names of used that the resource dictionary res
// (or a reference to one; nil for none) does not define in any category.
// Readers look such a name up in the resources of the page or form that
// draws the stream (poppler does, as qpdf's form-xobjects-some-resources
// test files show), so those must keep it.
func (d *Document) undefined(res types.Object, used names) names {
	rd, ok := d.deref(res).(types.Dict)
	if !ok {
		return used
	}
	out := names{}
	for name := range used {
		found := false
		for k, v := range rd {
			if cat, ok := d.deref(v).(types.Dict); ok && resourceCategories[k] {
				if _, found = cat[name]; found {
					break
				}
			}
		}
		if !found {
			out[name] = struct{}{}
		}
	}
	return out
}

// charProcsNames returns the names used by a Type 3 font's glyph
// procedures.
func (d *Document) charProcsNames(font types.Dict) (names, bool) {
	procs, ok := d.deref(font["CharProcs"]).(types.Dict)
	if !ok {
		return names{}, font["CharProcs"] == nil
	}
	used := names{}
	for _, p := range procs {
		nr := 0
		if r, ok := p.(types.IndirectRef); ok {
			nr = r.ObjectNumber.Value()
		}
		sd, ok := d.deref(p).(types.StreamDict)
		if !ok {
			continue
		}
		n, ok := d.streamNames(nr, sd)
		if !ok {
			return nil, false
		}
		used.addAll(n)
	}
	return used, true
}

// view returns object nr as every page writes it: a form XObject, a tiling
// pattern or an appearance stream with its /Resources pruned to what its
// own content uses, a Type 3 font with its /Resources pruned to what its
// glyphs use, anything else as parsed. The view depends on the object
// alone, never on the page, so a shared form is the same bytes in every
// page and still goes into the shared-object table.
func (d *Document) view(nr int, o types.Object) types.Object {
	var res types.Object
	var used func() (names, bool)
	switch x := o.(type) {
	case types.StreamDict:
		if _, bbox := x.Dict["BBox"]; !bbox || x.Dict["Resources"] == nil {
			return o
		}
		res = x.Dict["Resources"]
		used = func() (names, bool) { return d.streamNames(nr, x) }
	case types.Dict:
		if st, _ := x["Subtype"].(types.Name); st != "Type3" || x["Resources"] == nil {
			return o
		}
		res = x["Resources"]
		used = func() (names, bool) { return d.charProcsNames(x) }
	default:
		return o
	}
	if v, ok := d.views[nr]; ok && nr > 0 {
		return v
	}
	v := o
	n, ok1 := used()
	extra, ok2 := d.resourceless()
	if ok1 && ok2 {
		pruned := d.prune(res, withExtra(n, extra))
		switch x := o.(type) {
		case types.StreamDict:
			x.Dict = cloneDict(x.Dict)
			x.Dict["Resources"] = pruned
			v = x
		case types.Dict:
			nd := cloneDict(x)
			nd["Resources"] = pruned
			v = nd
		}
	}
	if nr > 0 {
		d.views[nr] = v
	}
	return v
}

// withExtra returns used plus extra, leaving the cached set used unchanged.
func withExtra(used, extra names) names {
	if len(extra) == 0 {
		return used
	}
	out := make(names, len(used)+len(extra))
	out.addAll(used)
	out.addAll(extra)
	return out
}

func cloneDict(d types.Dict) types.Dict {
	c := make(types.Dict, len(d))
	for k, v := range d {
		c[k] = v
	}
	return c
}
