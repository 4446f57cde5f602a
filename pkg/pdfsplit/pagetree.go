package pdfsplit

import (
	"errors"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// page is one leaf of the page tree, with the attributes it inherits.
type page struct {
	// nr is the page object's number; a page stored directly in /Kids has
	// none, and gets a number above every object of the source.
	nr        int
	dict      types.Dict
	inherited types.Dict // Resources, MediaBox, CropBox, Rotate from its ancestors
}

// inheritable are the page attributes a page tree node passes to its kids
// (ISO 32000-1, 7.7.3.4).
var inheritable = []string{"Resources", "MediaBox", "CropBox", "Rotate"}

// walkPageTree lists the leaves of the page tree in order, with inherited
// attributes, refusing cycles, excess depth and more than MaxPages pages.
// It trusts no /Count: only the leaves it finds are pages.
//
// Which leaves are pages follows what readers accept (qpdf's
// QPDF_pages.cc, poppler's Catalog::cachePageTree): the root must be a node
// with /Kids (a catalog whose /Pages points at a page is followed up its
// /Parent chain to the root, as qpdf does); a kid that is not a dictionary
// is skipped; a kid with /Kids is a node; any other dictionary is a page,
// unless its /Type names something else (an /Action, a /Font): that is a
// damaged tree, refused rather than published as a page. A page stored
// directly in /Kids instead of by reference is a page.
func (d *Document) walkPageTree() error {
	root, err := d.ctx.Catalog()
	if err != nil || root == nil {
		return pipeerr.Wrap(pipeerr.Damaged, orNil(err), "damaged: the document catalog is missing")
	}
	if d.ctx.Root != nil {
		d.cut[d.ctx.Root.ObjectNumber.Value()] = true
	}
	ref, ok := root["Pages"].(types.IndirectRef)
	if !ok {
		if root["Pages"] == nil {
			return pipeerr.New(pipeerr.NoPages, "no pages: the catalog has no page tree")
		}
		return pipeerr.New(pipeerr.Damaged, "damaged: the catalog's /Pages is not a reference")
	}
	ref, err = d.pageTreeRoot(ref)
	if err != nil {
		return err
	}
	internal := map[int]bool{} // page tree nodes seen: a second visit is a cycle
	var walk func(nr int, dict types.Dict, inherited types.Dict, depth int) error
	walk = func(nr int, dict types.Dict, inherited types.Dict, depth int) error {
		if depth > d.limits.MaxDepth {
			return pipeerr.New(pipeerr.Damaged, "damaged: the page tree is deeper than %d levels at object %d", d.limits.MaxDepth, nr)
		}
		if internal[nr] {
			return pipeerr.New(pipeerr.Damaged, "damaged: the page tree has a cycle at object %d", nr)
		}
		internal[nr] = true
		d.cut[nr] = true
		arr, err := d.ctx.DereferenceArray(dict["Kids"])
		if err != nil {
			return pipeerr.Wrap(pipeerr.Damaged, err, "damaged: page tree node %d has unreadable /Kids", nr)
		}
		next, cloned := inherited, false
		for _, k := range inheritable {
			if v, ok := dict[k]; ok && v != nil {
				if !cloned {
					next, cloned = cloneShallow(inherited), true
				}
				next[k] = v
			}
		}
		inherited = next
		for _, kid := range arr {
			knr := 0
			if r, ok := kid.(types.IndirectRef); ok {
				knr = r.ObjectNumber.Value()
			}
			o, err := d.ctx.Dereference(kid)
			if err != nil {
				return pipeerr.Wrap(pipeerr.Damaged, err, "damaged: page tree object %d cannot be read", knr)
			}
			kd, ok := o.(types.Dict)
			if !ok {
				if o == nil {
					// Missing, or dropped by pdfcpu's relaxed reader as
					// unparsable: a page may be lost, so the file is
					// damaged (a repaired cross-reference may find it).
					return pipeerr.New(pipeerr.Damaged, "damaged: page tree object %d is missing or unreadable", knr)
				}
				// A number or an array where a kid belongs: readers skip
				// it (qpdf: "Pages tree includes non-dictionary object;
				// ignoring"), and so do we.
				continue
			}
			if _, isNode := kd["Kids"]; isNode && !isType(kd, "Page") {
				if knr == 0 {
					// A direct node: give it a number of its own so
					// cycle detection and /Parent cutting still work.
					knr = d.synthNr()
				}
				if err := walk(knr, kd, inherited, depth+1); err != nil {
					return err
				}
				continue
			}
			// A page object is typed /Page or, as an invisible named
			// page, /Template (ISO 32000-1 12.7.6, Table 30): where the
			// tree lists a template, poppler and qpdf show it as a
			// page, and it is written as one (/Type /Page).
			if t, ok := kd["Type"].(types.Name); ok && t != "Pages" && !pageType(string(t)) {
				return pipeerr.New(pipeerr.Damaged, "damaged: the page tree lists %s, a /%s dictionary, as a page", objectName(knr), t)
			}
			if _, ok := kd["Type"]; !ok && isAction(kd) {
				return pipeerr.New(pipeerr.Damaged, "damaged: the page tree lists %s, an action dictionary (it has /S), as a page", objectName(knr))
			}
			if len(d.pages) >= d.limits.MaxPages {
				return pipeerr.New(pipeerr.TooManyPages, "too many pages: more than %d", d.limits.MaxPages)
			}
			if knr == 0 {
				knr = d.synthNr()
			}
			d.cut[knr] = true
			d.pages = append(d.pages, page{nr: knr, dict: kd, inherited: inherited})
		}
		return nil
	}
	o, err := d.ctx.Dereference(ref)
	if err != nil {
		return pipeerr.Wrap(pipeerr.Damaged, err, "damaged: page tree object %d cannot be read", ref.ObjectNumber.Value())
	}
	rootDict, ok := o.(types.Dict)
	if !ok {
		return pipeerr.New(pipeerr.Damaged, "damaged: the page tree root (object %d) is missing or not a dictionary", ref.ObjectNumber.Value())
	}
	if _, ok := rootDict["Kids"]; !ok {
		// An /Action, a lone page, anything without /Kids: qpdf counts no
		// pages here, and a reader would show none.
		return pipeerr.New(pipeerr.NoPages, "no pages: the catalog's /Pages (object %d) is not a page tree node", ref.ObjectNumber.Value())
	}
	if err := walk(ref.ObjectNumber.Value(), rootDict, nil, 0); err != nil {
		return err
	}
	if len(d.pages) == 0 {
		return pipeerr.New(pipeerr.NoPages, "no pages: the page tree is empty")
	}
	return nil
}

// pageTreeRoot follows /Parent from the catalog's /Pages to the root of the
// tree: files exist whose catalog points at their first page (qpdf repairs
// them the same way).
func (d *Document) pageTreeRoot(ref types.IndirectRef) (types.IndirectRef, error) {
	seen := map[int]bool{}
	for {
		seen[ref.ObjectNumber.Value()] = true
		o, err := d.ctx.Dereference(ref)
		if err != nil {
			return ref, pipeerr.Wrap(pipeerr.Damaged, err, "damaged: page tree object %d cannot be read", ref.ObjectNumber.Value())
		}
		dict, ok := o.(types.Dict)
		if !ok {
			return ref, nil
		}
		parent, ok := dict["Parent"].(types.IndirectRef)
		if !ok || seen[parent.ObjectNumber.Value()] || len(seen) > d.limits.MaxDepth {
			return ref, nil
		}
		ref = parent
	}
}

// synthNr returns a new object number above every number of the source,
// for an object stored directly where the tree expects a reference.
func (d *Document) synthNr() int {
	d.maxNr++
	return d.maxNr
}

func isType(dict types.Dict, t string) bool {
	n, ok := dict["Type"].(types.Name)
	return ok && string(n) == t
}

func objectName(nr int) string {
	if nr == 0 {
		return "a direct object"
	}
	return "object " + itoa(nr)
}

func cloneShallow(d types.Dict) types.Dict {
	c := make(types.Dict, len(d)+len(inheritable))
	for k, v := range d {
		c[k] = v
	}
	return c
}

func orNil(err error) error {
	if err == nil {
		return errors.New("no catalog")
	}
	return err
}

// pageType: t, a /Type, is a page object's: /Page, or /Template, the
// type of a template page object (ISO 32000-1 12.7.6), a page where the
// page tree lists it.
func pageType(t string) bool { return t == "Page" || t == "Template" }
