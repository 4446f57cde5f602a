package pdfsplit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	// maxNr is the highest object number in use: those of the source, then
	// those given to objects stored directly where a reference belongs.
	maxNr int

	// names caches the names each content stream uses; views the objects
	// rewritten with pruned resources; resless the names of content with
	// no resources of its own (see resourceless).
	names                  map[int]cachedNames
	views                  map[int]types.Object
	resless                names
	reslessDone, reslessOK bool
	// labels and dests index the catalog's page labels and named
	// destinations, read on first use.
	labels *[]labelRange
	dests  *destIndex

	// annotPage maps an annotation's object number to the page whose
	// /Annots hold it (-1: more than one); fieldOn caches fieldPages.
	annotPage map[int]int
	fieldOn   map[int][]int

	// lostName is the first resource name with a stray '#' that content
	// uses and its resources lack: pdfcpu drops such keys while parsing,
	// so a page drawing it would be published without the resource.
	lostName string

	// stored says where to read again the stream data let go after the
	// parse (see letGo); readErr is the first failure to read it while
	// decoding content, which fails every page planned after it.
	stored  offsets
	readErr error

	// source is what Open learnt about the file: encryption, repairs.
	source source

	// objects is the shared-object table: computed by the first Objects
	// or page call, or adopted with UseObjects.
	objects *Objects
	// scratch is reused for each page's literal bytes.
	scratch []byte
}

// Open parses the PDF in r (size bytes) once. Not safe for concurrent use
// (pdfcpu contexts are not); to split in parallel open one Document per worker.
//
// When pdfcpu refuses the file as damaged, cannot open its encryption, or
// reads it but not its catalog or page tree, Open rebuilds the file from
// the objects a scan of it finds and parses that (see repair.go; Repairs
// says what was done). A file that stays unreadable is refused with the
// kind of the first failure, its message saying that a repair was tried.
// Errors: NotPDF, Damaged, Encrypted (a password is needed or wrong),
// TooLarge, TooManyPages, NoPages; IO when r fails.
func Open(r io.ReadSeeker, size int64, opts Options) (d *Document, err error) {
	defer catch(&err, pipeerr.Damaged, "damaged: the PDF parser failed on this file")
	limits := opts.Limits.withDefaults()
	if r == nil {
		return nil, pipeerr.New(pipeerr.Internal, "pdfsplit: Open called with a nil reader")
	}
	if size > limits.MaxBytes {
		return nil, pipeerr.New(pipeerr.TooLarge, "too large: the file is %d bytes, the limit is %d", size, limits.MaxBytes)
	}
	h, err := sniff(r, size, limits.MaxBytes)
	if err != nil {
		return nil, err
	}
	first := pipeerr.New(pipeerr.Damaged, "damaged: the file has no %%PDF- header")
	if h.at >= 0 {
		// Offsets count from the header (Acrobat's rule for junk before
		// it), and failing that from the start of the file.
		if d, first = parse(h.view(r, size, h.at), opts.Password, limits); first == nil {
			d.source.repairs = h.notes(true)
			return d, nil
		}
		if !repairable(first) {
			return nil, first
		}
		if h.at > 0 {
			if d, err := parse(h.view(r, size, 0), opts.Password, limits); err == nil {
				d.source.repairs = h.notes(false)
				return d, nil
			}
		}
	}
	src := h.src
	h.src = nil
	if src == nil {
		if src, err = readAll(r, size, limits.MaxBytes); err != nil {
			return nil, err
		}
	}
	return openRepaired(src, h, opts, limits, first)
}

// sniff refuses what is plainly not a PDF before the parser sees it. A
// reader accepts junk before "%PDF-" within the first 1024 bytes, so we do
// too; a file without the header within them is read whole, and accepted
// if it has one further on or holds "N G obj" objects and a trailer or a
// page (qpdf reads those too).
func sniff(r io.ReadSeeker, size, maxBytes int64) (head, error) {
	h := head{at: -1}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return h, pipeerr.Wrap(pipeerr.IO, err, "reading the PDF")
	}
	start := make([]byte, 1024)
	n, err := io.ReadFull(r, start)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return h, pipeerr.Wrap(pipeerr.IO, err, "reading the PDF")
	}
	start = start[:n]
	if n == 0 {
		return h, pipeerr.New(pipeerr.NotPDF, "not a PDF: the file is empty")
	}
	all := start
	if !bytes.Contains(start, []byte("%PDF-")) && n == len(start) {
		// Held in memory only if it may be a PDF: a large upload of
		// another kind is refused after one pass in small reads.
		ok, err := mayBePDF(r, maxBytes)
		if err != nil {
			return h, err
		}
		if !ok {
			return h, notPDF(start)
		}
		if all, err = readAll(r, size, maxBytes); err != nil {
			return h, err
		}
		h.src = all
	}
	if i := bytes.Index(all, []byte("%PDF-")); i >= 0 {
		h.at = int64(i)
		h.headerVersion(all[i+len("%PDF-"):])
	} else if !looksLikePDF(all) {
		return h, notPDF(start)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return h, pipeerr.Wrap(pipeerr.IO, err, "reading the PDF")
	}
	return h, nil
}

// mayBePDF reads r from its start in 1 MiB chunks (at most max bytes) and
// reports whether it holds "%PDF-", or an "N G obj" and a trailer, a
// catalog or a page: what looksLikePDF then checks on the whole file.
func mayBePDF(r io.ReadSeeker, max int64) (bool, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return false, pipeerr.Wrap(pipeerr.IO, err, "reading the PDF")
	}
	const chunk, overlap = 1 << 20, 64
	buf := make([]byte, overlap+chunk)
	kept := 0 // bytes carried over from the previous chunk
	var sawObj, sawKeyword bool
	for total := int64(0); total <= max; {
		n, err := io.ReadFull(r, buf[kept:])
		total += int64(n)
		b := buf[:kept+n]
		if bytes.Contains(b, []byte("%PDF-")) {
			return true, nil
		}
		if !sawObj {
			hs, _ := headers(b, defaultMaxObjects)
			sawObj = len(hs) > 0
		}
		for _, kw := range []string{"trailer", "/Catalog", "/Page"} {
			sawKeyword = sawKeyword || bytes.Contains(b, []byte(kw))
		}
		if sawObj && sawKeyword {
			return true, nil
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return false, nil
		}
		if err != nil {
			return false, pipeerr.Wrap(pipeerr.IO, err, "reading the PDF")
		}
		kept = copy(buf, b[len(b)-overlap:])
	}
	return false, nil
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
		// pdfcpu's own words ("encryption setup: please provide the
		// correct password") would only say it again.
		if havePassword {
			return pipeerr.New(pipeerr.Encrypted, "encrypted: the password is wrong")
		}
		return pipeerr.New(pipeerr.Encrypted, "encrypted: a user password is required")
	case errors.Is(err, pdfcpu.ErrPermissionDenied):
		return pipeerr.Wrap(pipeerr.Encrypted, readable(err), "encrypted: the permissions forbid reading")
	case errors.Is(err, filter.ErrDecodeLimitExceeded):
		return pipeerr.Wrap(pipeerr.TooLarge, readable(err), "too large: a stream decodes to more than %d bytes", l.MaxDecodedBytes)
	case errors.Is(err, model.ErrMaxRecursionDepthExceeded):
		return pipeerr.Wrap(pipeerr.TooLarge, readable(err), "too large: objects nest deeper than %d levels", l.MaxDepth)
	case errors.Is(err, pdfcpu.ErrEmptyInput):
		return pipeerr.Wrap(pipeerr.NotPDF, readable(err), "not a PDF: the file is empty")
	case strings.Contains(msg, "exceeds limit"):
		return pipeerr.Wrap(pipeerr.TooLarge, readable(err), "too large: the file exceeds a parser limit")
	case strings.Contains(msg, "encrypt"):
		return pipeerr.Wrap(pipeerr.Encrypted, readable(err), "encrypted: the encryption cannot be opened")
	}
	return pipeerr.Wrap(pipeerr.Damaged, readable(err), "damaged: the PDF cannot be parsed")
}

// catch turns a panic into an error of kind k: pdfcpu panics on some real
// files, and a panic must never leave this package.
func catch(err *error, k pipeerr.Kind, msg string) {
	if r := recover(); r != nil {
		*err = &pipeerr.Error{Kind: k, Msg: msg, Err: &PanicError{Value: r, Stack: debug.Stack()}}
	}
}

// notPDF is the error for a file without a %PDF- header. It names the
// kind of content the WHATWG sniffing algorithm (net/http's
// DetectContentType) sees in its first bytes, never the bytes themselves:
// an error travels into logs and Step Functions causes, and the file may
// be one its submitter could not read (issue 13's /etc/shadow).
func notPDF(start []byte) error {
	kind := http.DetectContentType(start)
	if i := strings.IndexByte(kind, ';'); i >= 0 {
		kind = kind[:i]
	}
	return pipeerr.New(pipeerr.NotPDF, "not a PDF: no %%PDF- header, the content looks like %s", kind)
}

// PanicError is a panic recovered inside the PDF parser or the page
// writer. Its message is one line, fit for a user and a Step Functions
// cause; the stack is for the debug log (stages log it at level Debug).
type PanicError struct {
	Value any
	Stack []byte
}

// Error names the fault in words, without the Go runtime's "panic:" and
// "runtime error:" prefixes: users read it as a cause, not a crash.
func (e *PanicError) Error() string {
	v := strings.Join(strings.Fields(fmt.Sprint(e.Value)), " ")
	return "internal fault (" + strings.TrimPrefix(v, "runtime error: ") + ")"
}

// PanicStack is the stack of the goroutine that panicked, for the debug
// log (see stage.Handler).
func (e *PanicError) PanicStack() []byte { return e.Stack }

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
	return d.appendRecipe(dst, n-1)
}
