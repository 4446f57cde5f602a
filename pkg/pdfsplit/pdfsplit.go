package pdfsplit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/filter"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Document is a parsed PDF. It is not safe for concurrent use: pdfcpu's parsed
// context resolves objects lazily and caches them as it goes. To split in
// parallel, Open one Document per worker.
type Document struct {
	ctx    *model.Context
	limits Limits
	pages  []page
	// cut holds the object numbers a page must not reach into: the catalog,
	// every page tree node and every page (a link to page 7 must not copy page 7
	// and, through its /Parent, the whole document). References to them are
	// written as null, except a page's reference to itself.
	cut     map[int]bool
	version string
	// catalogNr and pagesNr number the two objects every one-page PDF adds;
	// both lie above every object number of the source.
	catalogNr, pagesNr int

	// objects is the shared-object table: computed by the first Objects
	// or page call, or adopted with UseObjects.
	objects *Objects
	// scratch is reused for each page's literal bytes.
	scratch []byte
}

// page is one leaf of the page tree, with the attributes it inherits.
type page struct {
	nr        int
	dict      types.Dict
	inherited types.Dict // Resources, MediaBox, CropBox, Rotate from its ancestors
}

// inheritable are the page attributes a page tree node passes to its kids
// (ISO 32000-1, 7.7.3.4).
var inheritable = []string{"Resources", "MediaBox", "CropBox", "Rotate"}

// Open parses the PDF in r (size bytes) once. Not safe for concurrent use
// (pdfcpu contexts are not); to split in parallel open one Document per worker.
func Open(r io.ReadSeeker, size int64, opts Options) (d *Document, err error) {
	defer catch(&err, pipeerr.Damaged, "damaged: the PDF parser failed on this file")
	limits := opts.Limits.withDefaults()
	if r == nil {
		return nil, pipeerr.New(pipeerr.Internal, "pdfsplit: Open called with a nil reader")
	}
	if size > limits.MaxBytes {
		return nil, pipeerr.New(pipeerr.TooLarge, "too large: the file is %d bytes, the limit is %d", size, limits.MaxBytes)
	}
	if err := sniff(r); err != nil {
		return nil, err
	}
	ctx, err := read(r, opts.Password, limits)
	if err != nil {
		return nil, classify(err, opts.Password != "", limits)
	}
	if ctx.Read.FileSize > limits.MaxBytes {
		return nil, pipeerr.New(pipeerr.TooLarge, "too large: the file is %d bytes, the limit is %d", ctx.Read.FileSize, limits.MaxBytes)
	}
	d = &Document{ctx: ctx, limits: limits, cut: map[int]bool{}, version: "1.7"}
	if v := ctx.XRefTable.HeaderVersion; v != nil {
		d.version = ctx.XRefTable.Version().String()
	}
	maxNr := 0
	for nr := range ctx.Table {
		maxNr = max(maxNr, nr)
	}
	d.catalogNr, d.pagesNr = maxNr+1, maxNr+2
	if err := d.walkPageTree(); err != nil {
		return nil, err
	}
	return d, nil
}

// sniff refuses what is plainly not a PDF before the parser sees it: a reader
// accepts junk before "%PDF-" within the first 1024 bytes, so we do too.
func sniff(r io.ReadSeeker) error {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return pipeerr.Wrap(pipeerr.IO, err, "reading the PDF")
	}
	head := make([]byte, 1024)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return pipeerr.Wrap(pipeerr.IO, err, "reading the PDF")
	}
	head = head[:n]
	if n == 0 {
		return pipeerr.New(pipeerr.NotPDF, "not a PDF: the file is empty")
	}
	if !bytes.Contains(head, []byte("%PDF-")) {
		return pipeerr.New(pipeerr.NotPDF, "not a PDF: file starts with %q", head[:min(n, 4)])
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return pipeerr.Wrap(pipeerr.IO, err, "reading the PDF")
	}
	return nil
}

// read runs pdfcpu's reader alone. The configuration is built here rather
// than by model.NewDefaultConfiguration, which reads (and on first use writes)
// a config.yml under the user's config directory: a file another process could
// change, and a write a read-only Lambda file system refuses.
func read(r io.ReadSeeker, password string, l Limits) (*model.Context, error) {
	rl := model.DefaultResourceLimits()
	rl.MaxStreamBytes = l.MaxBytes
	rl.MaxDecodeBytes = l.MaxDecodedBytes
	rl.MaxObjectCount = l.MaxObjects
	rl.MaxXRefEntries = l.MaxObjects
	rl.MaxRecursionDepth = l.MaxDepth
	conf := &model.Configuration{
		Reader15:       true,
		ValidationMode: model.ValidationRelaxed,
		Eol:            types.EolLF,
		// Either password may be given: pdfcpu tries the owner password first.
		UserPW:  password,
		OwnerPW: password,
		// VALIDATE needs no permission bits: splitting is the owner's pipeline
		// reading its own document.
		Cmd:    model.VALIDATE,
		Limits: rl,
	}
	return pdfcpu.Read(r, conf)
}

// classify turns a pdfcpu read error into a classified one. pdfcpu has
// sentinels for passwords and limits only; the rest is damage.
func classify(err error, havePassword bool, l Limits) error {
	msg := err.Error()
	switch {
	case errors.Is(err, pdfcpu.ErrWrongPassword):
		if havePassword {
			return pipeerr.Wrap(pipeerr.Encrypted, err, "encrypted: the password is wrong")
		}
		return pipeerr.Wrap(pipeerr.Encrypted, err, "encrypted: a user password is required")
	case errors.Is(err, pdfcpu.ErrPermissionDenied):
		return pipeerr.Wrap(pipeerr.Encrypted, err, "encrypted: the permissions forbid reading")
	case errors.Is(err, filter.ErrDecodeLimitExceeded):
		return pipeerr.Wrap(pipeerr.TooLarge, err, "too large: a stream decodes to more than %d bytes", l.MaxDecodedBytes)
	case errors.Is(err, model.ErrMaxRecursionDepthExceeded):
		return pipeerr.Wrap(pipeerr.TooLarge, err, "too large: objects nest deeper than %d levels", l.MaxDepth)
	case errors.Is(err, pdfcpu.ErrEmptyInput):
		return pipeerr.Wrap(pipeerr.NotPDF, err, "not a PDF: the file is empty")
	case strings.Contains(msg, "exceeds limit"):
		return pipeerr.Wrap(pipeerr.TooLarge, err, "too large: the file exceeds a parser limit")
	case strings.Contains(msg, "encrypt"):
		return pipeerr.Wrap(pipeerr.Encrypted, err, "encrypted: the encryption cannot be opened")
	}
	return pipeerr.Wrap(pipeerr.Damaged, err, "damaged: the PDF cannot be parsed")
}

// catch turns a panic into an error of kind k carrying the stack: pdfcpu
// panics on some real files, and a panic must never leave this package.
func catch(err *error, k pipeerr.Kind, msg string) {
	if r := recover(); r != nil {
		*err = &pipeerr.Error{Kind: k, Msg: msg, Err: fmt.Errorf("panic: %v\n%s", r, debug.Stack())}
	}
}

// walkPageTree lists the leaves of the page tree in order, with inherited
// attributes, refusing cycles, excess depth and more than MaxPages pages.
// It trusts no /Count: only the leaves it finds are pages.
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
	internal := map[int]bool{} // page tree nodes seen: a second visit is a cycle
	var walk func(ref types.IndirectRef, inherited types.Dict, depth int) error
	walk = func(ref types.IndirectRef, inherited types.Dict, depth int) error {
		nr := ref.ObjectNumber.Value()
		if depth > d.limits.MaxDepth {
			return pipeerr.New(pipeerr.Damaged, "damaged: the page tree is deeper than %d levels at object %d", d.limits.MaxDepth, nr)
		}
		o, err := d.ctx.Dereference(ref)
		if err != nil {
			return pipeerr.Wrap(pipeerr.Damaged, err, "damaged: page tree object %d cannot be read", nr)
		}
		dict, ok := o.(types.Dict)
		if !ok {
			if o == nil {
				// Missing, or dropped by pdfcpu's relaxed reader as unparsable.
				return pipeerr.New(pipeerr.Damaged, "damaged: page tree object %d is missing or unreadable", nr)
			}
			return pipeerr.New(pipeerr.Damaged, "damaged: page tree object %d is not a dictionary", nr)
		}
		d.cut[nr] = true
		kids, isNode := dict["Kids"]
		if t := dict.Type(); t != nil && *t == "Page" {
			isNode = false
		}
		if !isNode {
			if len(d.pages) >= d.limits.MaxPages {
				return pipeerr.New(pipeerr.TooManyPages, "too many pages: more than %d", d.limits.MaxPages)
			}
			d.pages = append(d.pages, page{nr: nr, dict: dict, inherited: inherited})
			return nil
		}
		if internal[nr] {
			return pipeerr.New(pipeerr.Damaged, "damaged: the page tree has a cycle at object %d", nr)
		}
		internal[nr] = true
		arr, err := d.ctx.DereferenceArray(kids)
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
			kref, ok := kid.(types.IndirectRef)
			if !ok {
				return pipeerr.New(pipeerr.Damaged, "damaged: page tree node %d has a kid that is not a reference", nr)
			}
			if err := walk(kref, inherited, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(ref, nil, 0); err != nil {
		return err
	}
	if len(d.pages) == 0 {
		return pipeerr.New(pipeerr.NoPages, "no pages: the page tree is empty")
	}
	return nil
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

// Pages is the number of pages.
func (d *Document) Pages() int { return len(d.pages) }

// Page returns page n (1-based) as a standalone one-page PDF. The bytes depend
// only on the input, the options and n.
func (d *Document) Page(n int) ([]byte, error) {
	recipe, _, err := d.AppendRecipe(nil, n)
	if err != nil {
		return nil, err
	}
	return d.objects.Assemble(nil, recipe)
}

// AppendRecipe appends to dst page n (1-based) as a recipe: its bytes with
// the shared objects left out, which Objects.Assemble puts back. size is
// the assembled page's length. A recipe is a few kilobytes where the page
// is often a megabyte of fonts copied from the source.
func (d *Document) AppendRecipe(dst []byte, n int) (recipe []byte, size int, err error) {
	defer catch(&err, pipeerr.Internal, fmt.Sprintf("internal error: splitting page %d panicked", n))
	if n < 1 || n > len(d.pages) {
		return nil, 0, pipeerr.New(pipeerr.Internal, "pdfsplit: page %d out of range 1..%d", n, len(d.pages))
	}
	return d.appendRecipe(dst, &d.pages[n-1])
}
