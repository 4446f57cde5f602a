package pdfcheck

import (
	"bytes"
	"fmt"
	"sync"
)

// Options bounds what Page accepts. The zero value means every default.
type Options struct {
	// MaxObjects is the largest /Size (object count N, object 0 included)
	// accepted. Default, and the most it can be raised to, 8,388,608: the
	// limit on indirect objects of ISO 32000-1 Annex C.2, so that every
	// object number a reader will see is in range for every reader.
	MaxObjects int
	// MaxDepth is how deeply arrays and dictionaries may nest below an
	// object's own value, which is depth 0: the way pdfsplit's
	// Limits.MaxDepth counts, so that a page the writer writes within its
	// limit passes. Default 100 (as in efspipe's split limits): at most
	// 101 nested containers.
	MaxDepth int
	// ProbeBytes is how many bytes of decoded output the Flate probe
	// inflates from the start of each stream whose first filter is
	// FlateDecode. Default 256: enough to catch data left encrypted or cut
	// at the start, and cheap on pages carrying megabytes of fonts.
	ProbeBytes int
	// NoProbe turns the Flate probe off. Default false (probe on).
	NoProbe bool
	// Unused also refuses objects that neither /Root nor /Info reaches.
	// Default false: readers ignore such objects, so they make a page
	// bigger, never wrong (pdfsplit's pages carry a stream's indirect
	// /Length object though they write the length direct).
	Unused bool
}

const (
	// MaxObjectsLimit is ISO 32000-1 Annex C.2's limit on indirect objects,
	// the default and ceiling of Options.MaxObjects.
	MaxObjectsLimit = 8_388_608
	defaultDepth    = 100
	defaultProbe    = 256
	// maxFile is the largest page accepted: offsets are 32 bits inside.
	maxFile = 1<<31 - 1
)

func (o Options) resolved() Options {
	if o.MaxObjects <= 0 || o.MaxObjects > MaxObjectsLimit {
		o.MaxObjects = MaxObjectsLimit
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = defaultDepth
	}
	if o.ProbeBytes <= 0 {
		o.ProbeBytes = defaultProbe
	}
	return o
}

// Reason is what is wrong with a page, one value per kind of fault. The
// strings are stable: tests and callers may match them.
type Reason string

// The reasons, by the rule of the page contract they enforce.
const (
	// Header, tail: "%PDF-1.x" at byte 0, startxref pointing at the xref
	// table, %%EOF at the end.
	ReasonHeader    Reason = "header"
	ReasonStartxref Reason = "startxref"
	ReasonEOF       Reason = "eof"
	// Cross-reference table: one subsection 0..N-1; entries in use have
	// generation 0, the free ones (entry 0 among them) form the linked
	// list of 7.5.4 in ascending order; offsets point at their objects,
	// which are in ascending order, do not overlap, and have nothing but
	// white-space and comments between them.
	ReasonXref           Reason = "xref"
	ReasonTooManyObjects Reason = "too many objects"
	ReasonOffset         Reason = "offset"
	ReasonOverlap        Reason = "overlap"
	ReasonGarbage        Reason = "garbage"
	// Object syntax (ISO 32000-1 7.3).
	ReasonSyntax       Reason = "syntax"
	ReasonDuplicateKey Reason = "duplicate key"
	ReasonDepth        Reason = "depth"
	// Stream framing: direct /Length, data within the object, endstream.
	ReasonStream Reason = "stream"
	// A reference to an object the table does not hold: number 0, /Size
	// or more, a free entry, or a generation other than 0.
	ReasonReference Reason = "reference"
	// Trailer: /Size, /Root, /ID; no /Prev or /XRefStm.
	ReasonTrailer Reason = "trailer"
	// /Encrypt in the trailer, or a /Crypt filter.
	ReasonEncrypted Reason = "encrypted"
	// An object stream or cross-reference stream.
	ReasonObjectStream Reason = "object stream"
	// Catalog → Pages → one Page, and back.
	ReasonPageTree Reason = "page tree"
	// An object neither /Root nor /Info reaches (with Options.Unused).
	ReasonUnreachable Reason = "unreachable"
	// The start of a FlateDecode stream is not zlib data: a bad header, a
	// corrupt block.
	ReasonFlate Reason = "flate"
	// The file is 2 GiB or more: offsets are kept in 32 bits.
	ReasonTooLarge Reason = "too large"
	// A bug in this package (a recovered panic); never the page's fault.
	ReasonInternal Reason = "internal"
)

// Error is a page that fails the check.
type Error struct {
	Reason Reason
	// Object is the number of the object at fault, 0 when the fault is in
	// the header, the xref table or the trailer.
	Object int
	// Offset is the byte offset in the page where the fault was found.
	Offset int
	// Detail says what is wrong, for people; its wording may change.
	Detail string
}

func (e *Error) Error() string {
	if e.Object > 0 {
		return fmt.Sprintf("pdfcheck: object %d at byte %d: %s: %s", e.Object, e.Offset, e.Reason, e.Detail)
	}
	return fmt.Sprintf("pdfcheck: byte %d: %s: %s", e.Offset, e.Reason, e.Detail)
}

func (c *checker) fail(r Reason, obj, off int, format string, args ...any) *Error {
	return &Error{Reason: r, Object: obj, Offset: off, Detail: fmt.Sprintf(format, args...)}
}

// Page checks that pdf is a standalone one-page PDF of the shape efspipe
// writes (see the package documentation) and returns nil, or an *Error. It
// is safe for concurrent use; buffers and the inflater are reused across
// calls.
func Page(pdf []byte, opts Options) (err error) {
	c := pool.Get().(*checker)
	defer func() {
		if r := recover(); r != nil {
			// A bug here must not take the pipeline down, and must not pass
			// the page either. The checker's state is suspect: drop it.
			err = &Error{Reason: ReasonInternal, Detail: fmt.Sprint("panic: ", r)}
			return
		}
		c.release()
		pool.Put(c)
	}()
	c.reset(pdf, opts.resolved())
	if e := c.check(); e != nil {
		return e
	}
	return nil
}

var pool = sync.Pool{New: func() any { return new(checker) }}

// keepCap is the most entries a pooled checker keeps per buffer: enough for
// any ordinary page, so a hostile one cannot pin memory in the pool.
const keepCap = 1 << 16

// checker holds the state of one check, reused across calls.
type checker struct {
	all []byte // the whole file
	b   []byte // the part the current object or trailer must lie in
	opt Options

	size    int       // N, from the xref subsection
	last    int       // the highest object number in use
	xrefAt  int       // offset of "xref"
	startx  int       // offset of "startxref"
	trailAt int       // offset of "trailer"
	offs    []int     // offs[n]: object n's offset, 0 when entry n is free
	ends    []int     // ends[n]: just past object n's endobj
	objs    []objInfo // objs[n]: what the rules need of object n, kept from its parse
	saved   []entry   // the rule entries of every dictionary object (objInfo.first, n)

	refs     []int32 // every reference, object by object
	refStart []int32 // object n's references are refs[refStart[n]:refStart[n+1]]
	root     int     // /Root and /Info object numbers (0: none)
	info     int

	// Parser state (see parse.go).
	stack  []frame
	keys   []keyEnt
	top    []entry // entries of the top-level dictionary just parsed
	topArr arrStats
	cur    int // object being parsed, 0 for the trailer
	record bool
	nbuf   []byte // scratch for decoded names
	nbuf2  []byte

	dupTab  []int32 // open-addressing table for duplicate keys of large dictionaries
	pending []pendingProbe
	seen    []bool
	queue   []int32

	inflater
}

func (c *checker) reset(pdf []byte, opt Options) {
	c.all, c.b, c.opt = pdf, pdf, opt
	c.size, c.last, c.xrefAt, c.startx, c.trailAt, c.root, c.info = 0, 0, 0, 0, 0, 0, 0
	c.refs, c.refStart, c.pending, c.saved = c.refs[:0], c.refStart[:0], c.pending[:0], c.saved[:0]
}

// release drops references to the caller's bytes and oversized buffers.
func (c *checker) release() {
	c.all, c.b = nil, nil
	c.inflater.release()
	if cap(c.offs) > keepCap {
		c.offs, c.ends, c.objs, c.refStart, c.seen, c.queue = nil, nil, nil, nil, nil, nil
	}
	if cap(c.refs) > 4*keepCap {
		c.refs = nil
	}
	if cap(c.keys) > keepCap || cap(c.top) > keepCap || cap(c.stack) > keepCap || cap(c.saved) > keepCap || cap(c.dupTab) > keepCap {
		c.keys, c.top, c.stack, c.saved, c.dupTab = nil, nil, nil, nil, nil
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// check runs every rule in file order: header, tail, xref, trailer, objects,
// then the page tree and reachability, which need every object parsed.
func (c *checker) check() *Error {
	if len(c.all) > maxFile {
		return c.fail(ReasonTooLarge, 0, 0, "%d bytes: a page must be smaller than 2 GiB", len(c.all))
	}
	if e := c.header(); e != nil {
		return e
	}
	if e := c.tail(); e != nil {
		return e
	}
	if e := c.xref(); e != nil {
		return e
	}
	if e := c.trailer(); e != nil {
		return e
	}
	if e := c.objects(); e != nil {
		return e
	}
	if e := c.probePending(); e != nil {
		return e
	}
	if e := c.pageTree(); e != nil {
		return e
	}
	if !c.opt.Unused {
		return nil
	}
	return c.reachable()
}

// header: "%PDF-1.0" … "%PDF-1.7" or "%PDF-2.0" at byte 0, ending its line.
func (c *checker) header() *Error {
	b := c.all
	if len(b) < 9 || !bytes.HasPrefix(b, []byte("%PDF-")) {
		return c.fail(ReasonHeader, 0, 0, "the file does not start with %%PDF-")
	}
	v := b[5:8]
	known := (v[0] == '1' && v[1] == '.' && v[2] >= '0' && v[2] <= '7') || string(v) == "2.0"
	if !known || (b[8] != '\n' && b[8] != '\r') {
		return c.fail(ReasonHeader, 0, 5, "unknown PDF version %q", firstLine(b[5:]))
	}
	return nil
}

func firstLine(b []byte) string {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	if len(b) > 16 {
		b = b[:16]
	}
	return string(b)
}

// tail: the file ends "startxref" EOL X EOL "%%EOF" with at most one EOL
// after it, within the last 1024 bytes readers search.
func (c *checker) tail() *Error {
	b := c.all
	end := len(b)
	if end > 0 && b[end-1] == '\n' {
		end--
	}
	if end > 0 && b[end-1] == '\r' {
		end--
	}
	if !bytes.HasSuffix(b[:end], []byte("%%EOF")) {
		return c.fail(ReasonEOF, 0, end, "the file does not end with %%%%EOF (and at most one end-of-line)")
	}
	eof := end - 5
	if eof == 0 || (b[eof-1] != '\n' && b[eof-1] != '\r') {
		return c.fail(ReasonEOF, 0, eof, "%%%%EOF does not start a line")
	}
	from := max(0, eof-1024)
	i := bytes.LastIndex(b[from:eof], []byte("startxref"))
	if i < 0 {
		return c.fail(ReasonStartxref, 0, eof, "no startxref in the last 1024 bytes")
	}
	c.startx = from + i
	p, _ := spaces(b, c.startx+len("startxref"))
	e, x, ok := c.uint(b[:eof], p)
	if p == c.startx+len("startxref") || !ok {
		return c.fail(ReasonStartxref, 0, p, "startxref is not followed by an offset")
	}
	if q, _ := spaces(b, e); q != eof {
		return c.fail(ReasonStartxref, 0, q, "unexpected bytes between the startxref offset and %%%%EOF")
	}
	if x >= int64(c.startx) || !c.keyword(b, int(x), "xref") {
		return c.fail(ReasonStartxref, 0, c.startx, "startxref %d does not point at the xref keyword", x)
	}
	c.xrefAt = int(x)
	return nil
}
