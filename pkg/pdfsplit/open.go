package pdfsplit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// source is what Open learnt about the file beyond its pages.
type source struct {
	encrypted bool
	repairs   []string
	// lost are the objects the repair layer could not parse, which the
	// rebuilt file lacks.
	lost map[int]bool
	// unread are the objects referred to that the repair layer found
	// nowhere while an object stream could not be read (hidden, a
	// sentence): the rebuilt file lacks them too.
	unread map[int]bool
	hidden string
}

// Encrypted reports whether the source file was encrypted. Its pages are
// published decrypted: a file opens without a password when its user
// password, or its owner password, is empty.
func (d *Document) Encrypted() bool { return d.source.encrypted }

// Repairs lists, one short sentence each, what Open repaired to read the
// file (a rebuilt cross-reference table, a synthesized catalog, dropped
// page tree kids, ...); nil when pdfcpu read the file as it is.
func (d *Document) Repairs() []string { return d.source.repairs }

// head is what sniff found at the start of the file.
type head struct {
	// at is the offset of "%PDF-", or -1 when the file has none.
	at int64
	// version is the header version if pdfcpu knows it, or the one that
	// replaces it: "1.7" for a later 1.x, "2.0" for a later 2.x; "" when
	// there is none to read.
	version string
	// patch: the three version bytes after "%PDF-" must read as version
	// for pdfcpu, which refuses versions it does not know.
	patch bool
	// src is the whole file when sniff had to read it.
	src []byte
}

// knownVersions are the header versions pdfcpu accepts.
var knownVersions = map[string]bool{"1.0": true, "1.1": true, "1.2": true, "1.3": true, "1.4": true, "1.5": true, "1.6": true, "1.7": true, "2.0": true}

// headerVersion reads the version after "%PDF-" at b.
func (h *head) headerVersion(b []byte) {
	if len(b) < 3 || !isDigit(b[0]) || b[1] != '.' || !isDigit(b[2]) {
		return
	}
	v := string(b[:3])
	switch {
	case knownVersions[v]:
		h.version = v
	case b[0] == '1':
		h.version, h.patch = "1.7", true
	default:
		h.version, h.patch = "2.0", true
	}
}

// notes say what reading the file through its view repaired; fromHeader:
// offsets were counted from the header.
func (h *head) notes(fromHeader bool) []string {
	var n []string
	if h.at > 0 && fromHeader {
		n = append(n, fmt.Sprintf("%d bytes before the %%PDF- header: offsets counted from the header", h.at))
	}
	if h.patch {
		n = append(n, fmt.Sprintf("the header's version, unknown to the parser, read as %s", h.version))
	}
	return n
}

// view is the file as pdfcpu is shown it: the bytes from base on (a file
// whose offsets count from its header, not from junk before it), with the
// header's version rewritten in place when pdfcpu would refuse it.
type view struct {
	r          io.ReadSeeker
	base, size int64 // r's bytes [base, base+size)
	patch      []byte
	patchAt    int64 // offset of patch in the view
	pos        int64
}

// view returns r itself when nothing is to be changed.
func (h *head) view(r io.ReadSeeker, size, base int64) io.ReadSeeker {
	if base == 0 && !h.patch {
		return r
	}
	v := &view{r: r, base: base, size: size - base}
	if h.patch {
		v.patch, v.patchAt = []byte(h.version), h.at+int64(len("%PDF-"))-base
	}
	return v
}

func (v *view) Read(p []byte) (int, error) {
	if v.pos >= v.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), v.size-v.pos)]
	if _, err := v.r.Seek(v.base+v.pos, io.SeekStart); err != nil {
		return 0, err
	}
	n, err := io.ReadFull(v.r, p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	// Overlay the patched version bytes that fall in what was read.
	for i := range v.patch {
		if at := v.patchAt + int64(i) - v.pos; at >= 0 && at < int64(n) {
			p[at] = v.patch[i]
		}
	}
	v.pos += int64(n)
	if n == 0 && err == nil {
		err = io.EOF
	}
	return n, err
}

func (v *view) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += v.pos
	case io.SeekEnd:
		offset += v.size
	}
	if offset < 0 {
		return 0, errors.New("seek before the start of the file")
	}
	v.pos = offset
	return offset, nil
}

// repairable: Open tries the repair layer after an error of this kind.
// Damage and missing pages may be repaired; an encryption pdfcpu cannot
// open may open in the repair layer. Limits and non-PDFs are final.
func repairable(err error) bool {
	switch pipeerr.KindOf(err) {
	case pipeerr.Damaged, pipeerr.NoPages, pipeerr.Encrypted:
		return true
	}
	return false
}

// parse runs pdfcpu's reader on r and walks the page tree. A panic in
// pdfcpu is a Damaged error, which the repair layer may still fix.
func parse(r io.ReadSeeker, password string, l Limits) (d *Document, err error) {
	defer catch(&err, pipeerr.Damaged, "damaged: the PDF parser failed on this file")
	ctx, err := read(r, password, l)
	if err != nil {
		return nil, classify(err, password != "", l)
	}
	if ctx.Read.FileSize > l.MaxBytes {
		return nil, pipeerr.New(pipeerr.TooLarge, "too large: the file is %d bytes, the limit is %d", ctx.Read.FileSize, l.MaxBytes)
	}
	if err := checkHeaders(ctx, r); err != nil {
		return nil, err
	}
	if err := checkStreams(ctx, r); err != nil {
		return nil, err
	}
	if err := checkCompressed(ctx); err != nil {
		return nil, err
	}
	if err := checkDirectEncryption(ctx, r); err != nil {
		return nil, err
	}
	if err := checkClearCrypt(ctx); err != nil {
		return nil, err
	}
	if err := checkParsed(ctx, r); err != nil {
		return nil, err
	}
	d = &Document{ctx: ctx, limits: l, cut: map[int]bool{}, version: "1.7", names: map[int]cachedNames{}, views: map[int]types.Object{}, stored: letGo(ctx)}
	d.source.encrypted = ctx.Encrypt != nil
	if v := ctx.XRefTable.HeaderVersion; v != nil {
		d.version = ctx.XRefTable.Version().String()
	}
	for nr := range ctx.Table {
		d.maxNr = max(d.maxNr, nr)
	}
	if err := d.walkPageTree(); err != nil {
		return nil, err
	}
	return d, nil
}

// checkParsed finds the objects stored in the file that pdfcpu parsed to
// nothing (it yields null for what it cannot parse) though their body is
// not the keyword null, and returns the first as a Damaged error, which
// the repair layer then fixes: an object whose "endobj" is missing before
// the cross-reference table (pdf.js's operator-in-TJ-array.pdf), which it
// reads as qpdf does; what it cannot parse either it keeps as lost, and a
// page that uses it is refused (Document.closure). It reads at most 64
// bytes per such object.
func checkParsed(ctx *model.Context, r io.ReadSeeker) error {
	buf := make([]byte, 64)
	for _, nr := range storedObjects(ctx, func(e *model.XRefTableEntry) bool { return e.Object == nil }) {
		off, _ := storedAt(ctx, nr)
		if _, _, body, ok := objectAt(r, off, buf); ok && bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n\f\x00"), []byte("null")) {
			continue
		}
		return pipeerr.New(pipeerr.Damaged, "damaged: object %d cannot be parsed", nr)
	}
	return nil
}

// storedObjects are the numbers, in order, of the objects stored in the
// file itself (storedAt) whose table entry keep accepts.
func storedObjects(ctx *model.Context, keep func(*model.XRefTableEntry) bool) []int {
	var nrs []int
	for nr, e := range ctx.Table {
		if e == nil || !keep(e) {
			continue
		}
		if _, ok := storedAt(ctx, nr); ok {
			nrs = append(nrs, nr)
		}
	}
	slices.Sort(nrs)
	return nrs
}

// errDirectEncryption is checkDirectEncryption's answer: the file is
// encrypted, but pdfcpu read it as if it were not.
var errDirectEncryption = errors.New("the trailer's encryption dictionary is direct, which the parser ignores")

func directEncryptionError() error {
	return pipeerr.Wrap(pipeerr.Encrypted, errDirectEncryption, "encrypted: %v", errDirectEncryption)
}

// errClearCrypt is checkClearCrypt's answer: the file leaves its streams
// or strings in the clear, and pdfcpu decrypts them regardless.
var errClearCrypt = errors.New("the encryption leaves streams or strings in the clear (crypt filter Identity), which the parser decrypts regardless")

// checkClearCrypt finds the encrypted files whose streams or strings are
// stored in the clear, which pdfcpu would decrypt into garbage: in V 4
// and 5, /StmF and /StrF name the crypt filter of each, Identity when
// absent, and a filter whose /CFM is None (the default) does not decrypt
// either (ISO 32000-1 7.6.5, Tables 20 and 25); pdfcpu applies the file
// key to both whatever they name. fpdf2 writes such files to set
// permissions alone. They go to the repair layer, which reads /StmF and
// /StrF. Its error is of kind Encrypted, wrapping errClearCrypt.
func checkClearCrypt(ctx *model.Context) error {
	if ctx.Encrypt == nil || ctx.EncKey == nil {
		return nil
	}
	enc, err := ctx.DereferenceDict(*ctx.Encrypt)
	if err != nil || enc == nil || intEntry(enc, "V", 0) < 4 {
		return nil
	}
	cf, _ := ctx.DereferenceDict(enc["CF"])
	for _, k := range []string{"StmF", "StrF"} {
		n := enc.NameEntry(k)
		clear := n == nil || *n == "Identity"
		if !clear {
			fd, _ := ctx.DereferenceDict(cf[*n])
			cfm := fd.NameEntry("CFM")
			clear = fd != nil && (cfm == nil || *cfm == "None")
		}
		if clear {
			return pipeerr.Wrap(pipeerr.Encrypted, errClearCrypt, "encrypted: %v", errClearCrypt)
		}
	}
	return nil
}

// directEncrypt is a trailer's /Encrypt entry whose value is a dictionary.
var directEncrypt = regexp.MustCompile(`/Encrypt[\x00\t\n\f\r ]*<<`)

// trailerWindow is how many bytes at each end of the file
// checkDirectEncryption reads: a trailer is written at the end of the
// file, and a linearized file's first-page trailer, which holds
// /Encrypt, near its start (ISO 32000-1 F.3.4).
const trailerWindow = 64 << 10

// checkDirectEncryption finds the encrypted files pdfcpu reads as
// unencrypted: ISO 32000-1 7.5.5 (Table 15) lets the trailer's /Encrypt be
// a direct dictionary, and pdfcpu takes it only as an indirect reference
// (read.go, parseTrailer), so it would publish every string and stream as
// the ciphertext it is. Such a file goes to the repair layer, which opens
// either form. It looks at the dictionary of every cross-reference stream
// pdfcpu loaded, at the dictionary after each "trailer" keyword in the
// first and last trailerWindow bytes of the file, and at the first 4 KiB
// where each "startxref" in them points. Its error is of kind
// Encrypted, wrapping errDirectEncryption.
func checkDirectEncryption(ctx *model.Context, r io.ReadSeeker) error {
	if ctx.Encrypt != nil {
		return nil
	}
	for _, e := range ctx.Table {
		if e == nil || e.Free {
			continue
		}
		var d types.Dict
		switch o := e.Object.(type) {
		case types.XRefStreamDict:
			d = o.Dict
		case types.StreamDict:
			if t := o.Type(); t != nil && *t == "XRef" {
				d = o.Dict
			}
		}
		if _, ok := d["Encrypt"].(types.Dict); ok {
			return directEncryptionError()
		}
	}
	size := ctx.Read.FileSize
	windows := [][2]int64{{0, min(size, trailerWindow)}}
	if size > trailerWindow {
		windows = append(windows, [2]int64{max(trailerWindow, size-trailerWindow), size})
	}
	for _, w := range windows {
		buf := make([]byte, w[1]-w[0])
		buf = buf[:readAt(r, w[0], buf)]
		ends := keyword(buf, "startxref")
		for _, t := range keyword(buf, "trailer") {
			end := len(buf)
			if e := nextAt(ends, t); e >= 0 {
				end = e
			}
			if directEncrypt.Match(buf[t:end]) {
				return directEncryptionError()
			}
		}
		// A cross-reference stream that has no entry of its own is not
		// in the table: read its dictionary where startxref says.
		for _, e := range ends {
			var off int64
			if _, err := fmt.Sscan(string(buf[e+len("startxref"):min(len(buf), e+len("startxref")+24)]), &off); err != nil || off <= 0 || off >= size {
				continue
			}
			dict := make([]byte, 4096)
			dict = dict[:readAt(r, off, dict)]
			if i := bytes.Index(dict, []byte("stream")); i >= 0 {
				dict = dict[:i]
			}
			if directEncrypt.Match(dict) {
				return directEncryptionError()
			}
		}
	}
	return nil
}

// checkStreams looks at the file around the data of every stream pdfcpu
// loaded from it (object streams included), in object number order, and returns the first fault as
// a Damaged error (which the repair layer then fixes):
//
//   - data that does not end where "endstream" begins: pdfcpu takes
//     /Length as it is, so a /Length too long copies the next bytes into
//     the stream and one too short cuts it, and the page is published
//     wrong. ISO 32000-1 7.3.8.1 allows an end-of-line marker before
//     "endstream"; white space is accepted too. For AES streams the stored
//     data is 17-32 bytes longer than the decrypted data pdfcpu keeps, so
//     "endstream" is looked for within that distance.
//   - an encrypted file's stream whose data is as stored: when pdfcpu
//     rebuilds a broken cross-reference table it loads every object
//     before it knows the key, and would publish ciphertext. A stream's
//     first 16 bytes equal to the file's at its offset are such a stream
//     (decrypted data differs from ciphertext, and AES data loses its
//     IV); streams the file leaves in the clear are not looked at.
//
// It reads at most 80 bytes per stream (96 when encrypted).
func checkStreams(ctx *model.Context, r io.ReadSeeker) error {
	encrypted := ctx.Encrypt != nil && ctx.EncKey != nil && ctx.E != nil
	aes := encrypted && ctx.AES4Streams
	var nrs []int
	for nr, e := range ctx.Table {
		if e == nil || e.Free || e.Compressed {
			continue
		}
		if sd, ok := storedStream(e.Object); ok && sd.StreamOffset > 0 {
			nrs = append(nrs, nr)
		}
	}
	slices.Sort(nrs)
	head, tail := make([]byte, 16), make([]byte, 80)
	for _, nr := range nrs {
		sd, _ := storedStream(ctx.Table[nr].Object)
		clear := !encrypted
		if t := sd.Type(); encrypted && t != nil && (*t == "XRef" || *t == "Metadata" && !ctx.E.Emd) {
			clear = true
		}
		if f, ok := sd.Dict["Filter"].(types.Array); encrypted && ok && len(f) > 0 && f[0] == types.Name("Crypt") {
			clear = true
		}
		if !clear && len(sd.Raw) >= len(head) && readAt(r, sd.StreamOffset, head) == len(head) && bytes.Equal(head, sd.Raw[:len(head)]) {
			return pipeerr.New(pipeerr.Damaged, "damaged: the encrypted file's cross-reference table is broken (stream %d was read as stored)", nr)
		}
		n := readAt(r, sd.StreamOffset+int64(len(sd.Raw)), tail)
		window := tail[:n]
		if !clear && aes {
			// The padding and IV pdfcpu took off, then the end of line.
			if i := bytes.Index(window, []byte("endstream")); i >= 17 && i <= 34+16 {
				continue
			}
		} else if i := bytes.Index(window, []byte("endstream")); i >= 0 && len(bytes.TrimLeft(window[:i], " \t\r\n\f\x00")) == 0 {
			continue
		}
		return pipeerr.New(pipeerr.Damaged, "damaged: stream %d does not end where its /Length says", nr)
	}
	return nil
}

// storedStream is the stream o holds: a stream or an object stream, whose
// /Length pdfcpu trusts alike. An object stream read short loses the end
// of its last objects, which pdfcpu parses only when a page reaches them
// (iText's CompressionWrongObjStm.pdf failed page by page so).
func storedStream(o types.Object) (types.StreamDict, bool) {
	switch sd := o.(type) {
	case types.StreamDict:
		return sd, true
	case types.ObjectStreamDict:
		return sd.StreamDict, true
	}
	return types.StreamDict{}, false
}

// checkHeaders finds the cross-reference entries that do not point at
// their object: ISO 32000-1 7.5.4 gives the offset of "N G obj", and pdfcpu
// parses whatever object is there under the entry's number. A reader that
// checks (qpdf, poppler) rebuilds the table instead, and an object whose
// header is damaged ("x 0 obj") is then missing; so such a file goes to the
// repair layer, which does the same. White space before the header is
// accepted. It reads at most 48 bytes per object.
func checkHeaders(ctx *model.Context, r io.ReadSeeker) error {
	buf := make([]byte, 48)
	for _, nr := range storedObjects(ctx, func(*model.XRefTableEntry) bool { return true }) {
		off, _ := storedAt(ctx, nr)
		gen := 0
		if g := ctx.Table[nr].Generation; g != nil {
			gen = *g
		}
		if n, g, _, ok := objectAt(r, off, buf); !ok || n != nr || g != gen {
			return pipeerr.New(pipeerr.Damaged, "damaged: the cross-reference entry of object %d %d does not point at it", nr, gen)
		}
	}
	return nil
}

// storedAt returns the offset the cross-reference table gives for object
// nr when the object is in use and stored in the file itself, not in an
// object stream.
func storedAt(ctx *model.Context, nr int) (int64, bool) {
	e, ok := ctx.Table[nr]
	if !ok || nr <= 0 || e == nil || e.Free || e.Compressed || e.Offset == nil || *e.Offset <= 0 {
		return 0, false
	}
	return *e.Offset, true
}

// objectAt reads the header "N G obj" at offset off of r (white space
// before it accepted, numbers written without leading zeros) into buf and returns N, G and the bytes of buf that
// follow "obj"; ok is false when there is no such header.
func objectAt(r io.ReadSeeker, off int64, buf []byte) (nr, gen int, body []byte, ok bool) {
	b := bytes.TrimLeft(buf[:readAt(r, off, buf)], " \t\r\n\f\x00")
	f := bytes.Fields(b)
	if len(f) < 3 || !bytes.HasPrefix(f[2], []byte("obj")) {
		return 0, 0, nil, false
	}
	nr, err1 := strconv.Atoi(string(f[0]))
	gen, err2 := strconv.Atoi(string(f[1]))
	if err1 != nil || err2 != nil || strconv.Itoa(nr) != string(f[0]) || strconv.Itoa(gen) != string(f[1]) {
		return 0, 0, nil, false
	}
	at := bytes.Index(b, []byte("obj"))
	return nr, gen, b[at+len("obj"):], true
}

// readAt reads into buf from offset at of r and returns how many bytes
// it read (fewer at the end of the file, 0 on an error).
func readAt(r io.ReadSeeker, at int64, buf []byte) int {
	if ra, ok := r.(io.ReaderAt); ok { // one system call on a file, not two
		n, _ := ra.ReadAt(buf, at)
		return n
	}
	if _, err := r.Seek(at, io.SeekStart); err != nil {
		return 0
	}
	n, _ := io.ReadFull(r, buf)
	return n
}

// checkCompressed parses, ahead of the writer, the objects in object
// streams pdfcpu would refuse only when a page reaches them: a stream
// stored inside an object stream (pdfTeX 1.40.13-15 wrote page thumbnails
// so) is "object stream contains stream object" to pdfcpu, and qpdf reads
// it. Only objects with a /Length are parsed here; the parse is not kept.
func checkCompressed(ctx *model.Context) error {
	var nrs []int
	for nr, e := range ctx.Table {
		if e != nil {
			if _, ok := e.Object.(types.LazyObjectStreamObject); ok {
				nrs = append(nrs, nr)
			}
		}
	}
	slices.Sort(nrs)
	for _, nr := range nrs {
		l := ctx.Table[nr].Object.(types.LazyObjectStreamObject)
		data, err := l.GetData()
		if err == nil && bytes.Contains(data, []byte("/Length")) {
			_, err = l.DecodedObject(context.Background())
		}
		if err != nil {
			return pipeerr.Wrap(pipeerr.Damaged, readable(err), "damaged: object %d in an object stream cannot be read", nr)
		}
	}
	return nil
}

// readAll reads the whole of r, at most max bytes.
func readAll(r io.ReadSeeker, size, max int64) ([]byte, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, pipeerr.Wrap(pipeerr.IO, err, "reading the PDF")
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(size, max)+1))
	if _, err := io.Copy(buf, io.LimitReader(r, max+1)); err != nil {
		return nil, pipeerr.Wrap(pipeerr.IO, err, "reading the PDF")
	}
	if int64(buf.Len()) > max {
		return nil, pipeerr.New(pipeerr.TooLarge, "too large: the file is more than %d bytes, the limit", max)
	}
	return buf.Bytes(), nil
}

// openRepaired rebuilds src with the repair layer and parses the result;
// first is the error of the parse of src as it is, whose kind a failure
// keeps.
func openRepaired(src []byte, h head, opts Options, l Limits, first error) (*Document, error) {
	fixed, err := repair(src, opts.Password, h.version, l)
	if errors.Is(err, errRepairPassword) {
		if pipeerr.KindOf(first) == pipeerr.Encrypted && !errors.Is(first, errDirectEncryption) && !errors.Is(first, errClearCrypt) {
			return nil, first
		}
		if opts.Password != "" {
			return nil, pipeerr.New(pipeerr.Encrypted, "encrypted: the password is wrong")
		}
		return nil, pipeerr.New(pipeerr.Encrypted, "encrypted: a user password is required")
	}
	if errors.Is(err, errPerms) {
		// A damaged encryption dictionary, whatever pdfcpu made of it
		// (it refuses such a /Perms as a password error): no password
		// opens the file.
		return nil, pipeerr.Wrap(pipeerr.Damaged, err, "damaged: malformed AES-256 encryption dictionary")
	}
	if err != nil {
		return nil, tried(first, err.Error())
	}
	d, err := parse(bytes.NewReader(fixed.data), "", l)
	if err != nil {
		var pe *pipeerr.Error
		reason := "the rebuilt file cannot be read either"
		if errors.As(err, &pe) {
			reason = pe.Msg
		}
		return nil, tried(first, reason)
	}
	d.source = source{encrypted: fixed.encrypted, repairs: fixed.notes, lost: fixed.lost, unread: fixed.unread, hidden: fixed.hidden}
	if len(d.source.repairs) == 0 {
		d.source.repairs = []string{"rebuilt the cross-reference table from the objects in the file"}
		if errors.Is(first, errClearCrypt) {
			d.source.repairs = []string{"read the streams or strings the crypt filters leave in the clear (Identity) as they are"}
		}
	}
	return d, nil
}

// tried is first, its reason ending with the repair's: the kind stays
// first's, as does the underlying error (wrapped).
func tried(first error, reason string) error {
	var pe *pipeerr.Error
	if !errors.As(first, &pe) {
		pe = &pipeerr.Error{Kind: pipeerr.Damaged, Msg: "damaged: the PDF cannot be parsed", Err: first}
	}
	note := "a repair was tried: " + reason
	if strings.Contains(pe.Error(), reason) {
		note = "also after a repair"
	}
	if pe.Err == nil {
		return &pipeerr.Error{Kind: pe.Kind, Msg: pe.Msg + " (" + note + ")"}
	}
	return &pipeerr.Error{Kind: pe.Kind, Msg: pe.Msg, Err: &repairTried{err: pe.Err, note: note}}
}

// repairTried is a parse error followed by what the repair layer found.
type repairTried struct {
	err  error
	note string
}

func (e *repairTried) Error() string { return e.err.Error() + " (" + e.note + ")" }
func (e *repairTried) Unwrap() error { return e.err }

// parserError is an error from inside pdfcpu, or a panic there, whose
// text the user reads: the Go-internal parts of pdfcpu's message
// (function names, strconv and io errors, stacks) are cut from it, and
// stay reachable through Unwrap and Detail for logs.
type parserError struct {
	text   string
	err    error
	detail string
}

func (e *parserError) Error() string { return e.text }
func (e *parserError) Unwrap() error { return e.err }

// Detail is the whole underlying message, a panic's stack included.
func (e *parserError) Detail() string {
	if e.detail != "" {
		return e.detail
	}
	if e.err != nil {
		return e.err.Error()
	}
	return e.text
}

var (
	// goIdent is a part of a message that is one Go identifier (a
	// function name such as decompressXRefTableEntry or IndexedObject(1)).
	goIdent = regexp.MustCompile(`^[A-Za-z]*[a-z][A-Z][A-Za-z0-9]*(\(.*\))?$`)
	// goQualified is a part naming a package member (strconv.Atoi,
	// bytes.Reader.Seek): a standard library error, the rest of which is
	// no more readable.
	goQualified = regexp.MustCompile(`^[a-z][a-z0-9]*\.[A-Z]`)
)

// readable wraps err, keeping only the parts of its text a user can read.
func readable(err error) error {
	var parts []string
	for _, part := range strings.Split(err.Error(), ": ") {
		if goQualified.MatchString(part) || strings.Contains(part, "runtime error") || strings.Contains(part, "goroutine") {
			break
		}
		if goIdent.MatchString(part) {
			continue
		}
		parts = append(parts, part)
	}
	text := strings.Join(parts, ": ")
	if text == "" {
		text = "its structure is invalid"
	}
	return &parserError{text: text, err: err}
}
