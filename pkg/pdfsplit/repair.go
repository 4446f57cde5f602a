package pdfsplit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// The repair layer. When pdfcpu refuses a file (or parses it but cannot
// read its catalog or page tree), Open rebuilds the file from what a scan
// of its bytes finds and hands pdfcpu the rebuilt one, as qpdf
// reconstructs a damaged file:
//
//   - every "N G obj" definition, the last one of a number winning as in an
//     incremental update, and every object inside an object stream (decoded
//     with a bound), each keeping its number and generation;
//   - stream data as stored, its end taken from /Length when "endstream"
//     follows it and from the next "endstream" otherwise;
//   - /Root, /Info, /Encrypt and /ID from the trailer dictionaries and the
//     cross-reference stream dictionaries, the later one winning;
//   - the catalog: the trailer's when it has a page tree, else the last
//     object with /Type /Catalog and /Pages, else one synthesized over the
//     /Type /Page objects in file order;
//   - the page tree, with missing kids dropped, direct kids and repeated
//     pages made indirect objects of their own, cycles cut;
//   - an encrypted file opened with the password (or the empty one) and
//     written decrypted.
//
// The rebuilt file holds only what its catalog and /Info reach, in object
// number order, with a cross-reference table of its own: a function of the
// input bytes and the password alone. Every scan is linear in the input,
// and decoding is bounded by Limits.MaxDecodedBytes in all.

// errRepairPassword is repair's answer for an encrypted file the password
// (or the empty one) does not open: not damage, so Open reports it as
// Encrypted.
var errRepairPassword = errors.New("the password does not open the file")

// repaired is a rebuilt file.
type repaired struct {
	data []byte
	// version is the header version written, one pdfcpu knows.
	version string
	// encrypted: the source was encrypted; data is decrypted.
	encrypted bool
	// notes say what was repaired, in the order it was found.
	notes []string
	// lost are the objects whose latest definition could not be parsed:
	// the rebuilt file lacks them, and a page that uses one must not be
	// published as if it were absent.
	lost map[int]bool
	// unread are the objects referred to but found nowhere in a file
	// with an object stream that could not be read (hidden says which):
	// one may be among those it holds, so a page that uses one must not
	// be published either.
	unread map[int]bool
	hidden string
}

// robj is one object definition found by the scan.
type robj struct {
	nr, gen int
	// pos orders definitions: the file offset of "N G obj", or of the
	// object stream for an object inside one (sub is then its index + 1).
	pos, sub int
	val      types.Object
	stream   bool
	data     []byte // stream data as stored (a slice of the source)
	// compressed: found inside an object stream, so never encrypted on
	// its own.
	compressed bool
	// crypt is how data is still encrypted; cryptNone once in the clear.
	crypt cryptMethod
}

func (o *robj) after(p *robj) bool {
	return o.pos > p.pos || o.pos == p.pos && o.sub > p.sub
}

type trailerAt struct {
	pos int
	d   types.Dict
}

type rebuilder struct {
	src      []byte
	l        Limits
	password string
	objs     map[int]*robj
	trailers []trailerAt
	notes    []string
	budget   int64 // bytes object streams may still decode to
	maxNr    int
	sec      *security
	encNr    int // the encryption dictionary's object number, 0 if direct or none
	// unparsed is where the latest definition of each object that could
	// not be parsed is (a robj with no value).
	unparsed map[int]*robj
	lostNrs  map[int]bool // lost(), once the objects are all known
	// hidden says why objects may exist that the scan cannot know: the
	// first object stream that could not be read, "" if none.
	hidden string
	unread map[int]bool // references relink kept for hidden's sake
}

// hide records that object stream nr could not be read, for the reason
// given: the objects it holds are unknown.
func (b *rebuilder) hide(nr int, why string) {
	b.note("object stream %d %s", nr, why)
	if b.hidden == "" {
		b.hidden = fmt.Sprintf("object stream %d %s", nr, why)
	}
}

func (b *rebuilder) note(format string, args ...any) {
	if len(b.notes) < 20 {
		b.notes = append(b.notes, fmt.Sprintf(format, args...))
	}
}

// repair rebuilds src. version is the source's header version, "" when
// it has none pdfcpu knows.
func repair(src []byte, password, version string, l Limits) (*repaired, error) {
	b := &rebuilder{src: src, l: l, password: password, objs: map[int]*robj{}, unparsed: map[int]*robj{}, budget: l.MaxDecodedBytes}
	if err := b.scan(); err != nil {
		return nil, err
	}
	if len(b.objs) == 0 {
		return nil, errors.New("no objects found")
	}
	encrypted, err := b.openEncryption()
	if err != nil {
		return nil, err
	}
	b.expandObjectStreams()
	// An object whose latest definition cannot be parsed is lost, not
	// taken from an earlier one; references to it stay, so that a page
	// reaching one is refused (Document.closure) rather than drawn
	// without it.
	b.lostNrs = b.lost()
	for nr := range b.lostNrs {
		delete(b.objs, nr)
	}
	for nr := range b.objs {
		b.maxNr = max(b.maxNr, nr)
	}
	root, err := b.catalog()
	if err != nil {
		return nil, err
	}
	if version == "" {
		version = "1.7"
	}
	data := b.write(root, version)
	return &repaired{data: data, version: version, encrypted: encrypted, notes: b.notes, lost: b.lostNrs, unread: b.unread, hidden: b.hidden}, nil
}

// PDF character classes (ISO 32000-2, 7.2.3).
func isSpace(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ':
		return true
	}
	return false
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// keyword lists the offsets of kw in src where it stands as a token:
// not preceded or followed by a regular character.
func keyword(src []byte, kw string) []int {
	var at []int
	k := []byte(kw)
	for i := 0; ; {
		j := bytes.Index(src[i:], k)
		if j < 0 {
			return at
		}
		p := i + j
		i = p + len(k)
		if p > 0 && !isSpace(src[p-1]) && !isDelim(src[p-1]) {
			continue
		}
		if e := p + len(k); e < len(src) && !isSpace(src[e]) && !isDelim(src[e]) {
			continue
		}
		at = append(at, p)
	}
}

// nextAt is the first offset in at (sorted) at or after p, or -1.
func nextAt(at []int, p int) int {
	i, _ := slices.BinarySearch(at, p)
	if i == len(at) {
		return -1
	}
	return at[i]
}

// header is one "N G obj" found by the scan.
type header struct {
	nr, gen     int
	start, body int // offsets of N and of what follows "obj"
}

// headers finds every "N G obj" in src, in file order.
func headers(src []byte, maxObjects int) ([]header, error) {
	var hs []header
	for _, p := range keyword(src, "obj") {
		k := p
		if k == 0 || !isSpace(src[k-1]) {
			continue
		}
		for k > 0 && isSpace(src[k-1]) {
			k--
		}
		k, gen, ok := integerBefore(src, k, 6)
		if !ok || k == 0 || !isSpace(src[k-1]) {
			continue
		}
		for k > 0 && isSpace(src[k-1]) {
			k--
		}
		k, nr, ok := integerBefore(src, k, 11)
		if !ok || k > 0 && !isSpace(src[k-1]) && !isDelim(src[k-1]) {
			continue
		}
		if nr < 1 || nr >= maxObjects {
			continue
		}
		if len(hs) >= maxObjects {
			return nil, fmt.Errorf("more than %d objects", maxObjects)
		}
		hs = append(hs, header{nr: nr, gen: gen, start: k, body: p + 3})
	}
	return hs, nil
}

// integerBefore reads the unsigned integer whose last digit is
// src[end-1]: it returns the offset of its first digit and its value, or
// ok false when there is none or it has more than max significant digits.
// Leading zeros are not counted: an integer is "one or more decimal
// digits" (ISO 32000-1 7.3.3), and poppler reads "000…0001 0 obj" as
// object 1 however many zeros lead it (files written over a zero-filled
// buffer hold such headers; qpdf's reconstruction misses them). The scan
// back stops at the first byte that is not a digit, so the runs scanned
// for distinct headers do not overlap and the scan stays linear.
func integerBefore(src []byte, end, max int) (start, v int, ok bool) {
	start = end
	for start > 0 && isDigit(src[start-1]) {
		start--
	}
	sig := start
	for sig < end-1 && src[sig] == '0' {
		sig++
	}
	if start == end || end-sig > max {
		return start, 0, false
	}
	v, err := strconv.Atoi(string(src[sig:end]))
	return start, v, err == nil
}

// looksLikePDF: b holds an "N G obj" definition and a trailer, a catalog
// or a page.
func looksLikePDF(b []byte) bool {
	hs, err := headers(b, defaultMaxObjects)
	if err != nil || len(hs) == 0 {
		return err != nil
	}
	for _, kw := range []string{"trailer", "/Catalog", "/Page"} {
		if bytes.Contains(b, []byte(kw)) {
			return true
		}
	}
	return false
}

// skipSpace returns the offset of the first non-white-space byte at or
// after p, comments included.
func skipSpace(src []byte, p int) int {
	for p < len(src) {
		switch {
		case isSpace(src[p]):
			p++
		case src[p] == '%':
			for p < len(src) && src[p] != '\n' && src[p] != '\r' {
				p++
			}
		default:
			return p
		}
	}
	return p
}

// parseValue parses the first object in seg.
func (b *rebuilder) parseValue(seg []byte) (types.Object, string, error) {
	s := string(seg)
	o, err := model.ParseObjectContext(context.Background(), &s, 0, b.l.MaxDepth)
	return o, s, err
}

// scan reads every object definition, trailer and cross-reference stream
// dictionary in the file, in one pass.
func (b *rebuilder) scan() error {
	src := b.src
	hs, err := headers(src, b.l.MaxObjects)
	if err != nil {
		return err
	}
	endobjs := keyword(src, "endobj")
	streams := keyword(src, "stream")
	endstreams := keyword(src, "endstream")
	// Integers defined alone ("12 0 obj 345 endobj"): the indirect /Length
	// of the streams that come before them.
	ints := map[int]int{}
	for _, h := range hs {
		p := skipSpace(src, h.body)
		q := p
		for q < len(src) && isDigit(src[q]) && q-p < 18 {
			q++
		}
		if q > p && bytes.HasPrefix(src[skipSpace(src, q):], []byte("endobj")) {
			ints[h.nr], _ = strconv.Atoi(string(src[p:q]))
		}
	}
	var skipped [][2]int // stream data ranges: no trailer lies in them
	pos := 0
	for i, h := range hs {
		if h.start < pos {
			continue // inside the previous object's stream data
		}
		next := len(src)
		if i+1 < len(hs) {
			next = hs[i+1].start
		}
		end := next
		if e := nextAt(endobjs, h.body); e >= 0 && e < end {
			end = e
		}
		s := nextAt(streams, h.body)
		isStream := s >= 0 && s < end
		if isStream {
			end = s
		}
		val, _, err := b.parseValue(src[h.body:end])
		o := &robj{nr: h.nr, gen: h.gen, pos: h.start, val: val}
		pos = end
		if isStream {
			start := s + len("stream")
			for start < len(src) && (src[start] == ' ' || src[start] == '\t') {
				start++
			}
			if bytes.HasPrefix(src[start:], []byte("\r\n")) {
				start += 2
			} else if start < len(src) && (src[start] == '\n' || src[start] == '\r') {
				start++
			}
			d, _ := val.(types.Dict)
			dataEnd, after := streamEnd(src, d, start, ints, endstreams, endobjs)
			skipped = append(skipped, [2]int{start, dataEnd})
			pos = after
			if d == nil {
				if err == nil && val != nil {
					// A stream whose dictionary parses to something
					// else ("6 0 obj 7 0 R stream"): no stream to any
					// reader (ISO 32000-1 7.3.8.1: the dictionary is
					// direct), so no object, as before the repair.
					b.note("object %d is a stream without a dictionary", h.nr)
					continue
				}
				// Lost, as any object that cannot be parsed; and if it
				// says it is an object stream, what it holds is unknown.
				b.note("object %d cannot be parsed", h.nr)
				b.unparsable(o)
				if bytes.Contains(src[h.body:end], []byte("/ObjStm")) {
					b.hide(h.nr, "has a dictionary that cannot be parsed")
				}
				continue
			}
			o.stream, o.data = true, src[start:dataEnd]
			if t := d.Type(); t != nil && *t == "XRef" {
				b.trailers = append(b.trailers, trailerAt{h.start, d})
				continue
			}
		} else if end < next {
			pos = end + len("endobj")
		}
		if err != nil || val == nil {
			b.note("object %d cannot be parsed", h.nr)
			b.unparsable(o)
			continue
		}
		b.put(o)
	}
	b.scanTrailers(skipped)
	return nil
}

// streamEnd finds where the data of a stream starting at start ends, and
// where its "endstream" keyword ends.
func streamEnd(src []byte, d types.Dict, start int, ints map[int]int, endstreams, endobjs []int) (dataEnd, after int) {
	n := -1
	switch v := d["Length"].(type) {
	case types.Integer:
		n = int(v)
	case types.IndirectRef:
		if v, ok := ints[v.ObjectNumber.Value()]; ok {
			n = v
		}
	}
	if n >= 0 && n <= len(src)-start {
		if k := skipSpace(src, start+n); bytes.HasPrefix(src[k:], []byte("endstream")) {
			return start + n, k + len("endstream")
		}
	}
	// The data ends at the next "endstream", unless an "endobj" comes
	// first: then its "endstream" is damaged, and the data ends there.
	e, o := nextAt(endstreams, start), nextAt(endobjs, start)
	switch {
	case e >= 0 && (o < 0 || e < o):
		return trimEOL(src, start, e), e + len("endstream")
	case o >= 0:
		return trimEOL(src, start, o), o
	}
	return len(src), len(src)
}

// trimEOL is end less the end-of-line marker before it, not before start.
func trimEOL(src []byte, start, end int) int {
	if end > start && src[end-1] == '\n' {
		end--
	}
	if end > start && src[end-1] == '\r' {
		end--
	}
	return end
}

// unparsable records o, a definition that could not be parsed, unless a
// later one of its number is known to be so.
func (b *rebuilder) unparsable(o *robj) {
	if p := b.unparsed[o.nr]; p == nil || o.after(p) {
		b.unparsed[o.nr] = o
	}
}

// lost are the objects whose latest definition could not be parsed.
func (b *rebuilder) lost() map[int]bool {
	var out map[int]bool
	for nr, u := range b.unparsed {
		if p := b.objs[nr]; p == nil || u.after(p) {
			if out == nil {
				out = map[int]bool{}
			}
			out[nr] = true
		}
	}
	return out
}

// put records o unless a later definition of its number is known.
func (b *rebuilder) put(o *robj) {
	if p := b.objs[o.nr]; p == nil || o.after(p) {
		b.objs[o.nr] = o
	}
}

// refPattern finds "/Key N G R" in a trailer too damaged to parse.
var refPattern = regexp.MustCompile(`/(Root|Info|Encrypt)\s+(\d{1,10})\s+(\d{1,5})\s+R`)

// scanTrailers parses every "trailer" dictionary outside stream data.
func (b *rebuilder) scanTrailers(skipped [][2]int) {
	src := b.src
	startxrefs := keyword(src, "startxref")
	trailers := keyword(src, "trailer")
	for _, t := range trailers {
		i, _ := slices.BinarySearchFunc(skipped, t, func(r [2]int, t int) int {
			if r[1] <= t {
				return -1
			}
			if r[0] > t {
				return 1
			}
			return 0
		})
		if i < len(skipped) && skipped[i][0] <= t && t < skipped[i][1] {
			continue
		}
		// A trailer ends at the next "startxref" or "trailer", and within
		// 64 KiB: the segments parsed are disjoint, so all of them are
		// at most the file's size.
		body := t + len("trailer")
		end := min(len(src), body+1<<16)
		for _, at := range [][]int{startxrefs, trailers} {
			if e := nextAt(at, body); e >= 0 && e < end {
				end = e
			}
		}
		seg := src[body:end]
		if v, _, err := b.parseValue(seg); err == nil {
			if d, ok := v.(types.Dict); ok {
				b.trailers = append(b.trailers, trailerAt{t, d})
				continue
			}
		}
		// Damaged: take the references it names, and an /ID array.
		d := types.Dict{}
		for _, m := range refPattern.FindAllSubmatch(seg, -1) {
			nr, _ := strconv.Atoi(string(m[2]))
			gen, _ := strconv.Atoi(string(m[3]))
			d[string(m[1])] = *types.NewIndirectRef(nr, gen)
		}
		if i := bytes.Index(seg, []byte("/ID")); i >= 0 {
			if v, _, err := b.parseValue(seg[i+3:]); err == nil {
				d["ID"] = v
			}
		}
		if len(d) > 0 {
			b.note("trailer at offset %d is damaged", t)
			b.trailers = append(b.trailers, trailerAt{t, d})
		}
	}
	slices.SortStableFunc(b.trailers, func(x, y trailerAt) int { return x.pos - y.pos })
}

// trailer is the value of key in the last trailer that has it.
func (b *rebuilder) trailer(key string) types.Object {
	for i := len(b.trailers) - 1; i >= 0; i-- {
		if v, ok := b.trailers[i].d[key]; ok && v != nil {
			return v
		}
	}
	return nil
}

// resolve follows o while it is a reference to a known object.
func (b *rebuilder) resolve(o types.Object) types.Object {
	for range 8 {
		ref, ok := o.(types.IndirectRef)
		if !ok {
			return o
		}
		p := b.objs[ref.ObjectNumber.Value()]
		if p == nil {
			return nil
		}
		o = p.val
	}
	return nil
}

// dict is object nr as a dictionary that is not a stream, or nil.
func (b *rebuilder) dict(nr int) types.Dict {
	o := b.objs[nr]
	if o == nil || o.stream {
		return nil
	}
	d, _ := o.val.(types.Dict)
	return d
}

// openEncryption opens the file's encryption, if any, with the password,
// decrypts every string of every object and marks the stream data to
// decrypt. Data is decrypted as the file is written, except object
// streams, which expandObjectStreams needs in the clear.
func (b *rebuilder) openEncryption() (bool, error) {
	ev := b.trailer("Encrypt")
	if ev == nil {
		return false, nil
	}
	if ref, ok := ev.(types.IndirectRef); ok {
		b.encNr = ref.ObjectNumber.Value()
	}
	enc, _ := b.resolve(ev).(types.Dict)
	if enc == nil {
		return false, errors.New("the encryption dictionary is missing")
	}
	resolved := types.Dict{}
	for k, v := range enc {
		resolved[k] = b.resolve(v)
	}
	// The crypt filters, and each filter's entries, may be indirect too
	// (ISO 32000-1 7.6.5, Table 25, gives /CF no "shall be direct";
	// pdf.js's issue7665.pdf has both as objects).
	if cf, ok := resolved["CF"].(types.Dict); ok {
		filters := types.Dict{}
		for name, f := range cf {
			fv := b.resolve(f)
			if fd, ok := fv.(types.Dict); ok {
				entries := types.Dict{}
				for k, v := range fd {
					entries[k] = b.resolve(v)
				}
				fv = entries
			}
			filters[name] = fv
		}
		resolved["CF"] = filters
	}
	var id0 []byte
	if id, ok := b.resolve(b.trailer("ID")).(types.Array); ok && len(id) > 0 {
		id0 = stringData(b.resolve(id[0]))
	}
	sec, err := openSecurity(resolved, id0, b.password)
	if errors.Is(err, errNoPassword) {
		return false, errRepairPassword
	}
	if err != nil {
		return false, err
	}
	b.sec = sec
	if b.encNr != 0 {
		delete(b.objs, b.encNr)
	}
	for _, nr := range b.numbers() {
		o := b.objs[nr]
		o.val = sec.decryptStrings(o.val, o.nr, o.gen)
		if o.stream {
			o.crypt = b.streamCrypt(o)
			if isObjectStream(o) {
				o.data = sec.decrypt(o.crypt, o.nr, o.gen, o.data)
				o.crypt = cryptNone
			}
		}
	}
	return true, nil
}

// streamCrypt is how stream o is encrypted: the stream method, or none
// for an unencrypted /Metadata stream, or the crypt filter it names
// (which is then taken out of its filters).
func (b *rebuilder) streamCrypt(o *robj) cryptMethod {
	d := o.val.(types.Dict)
	if t := d.Type(); t != nil && *t == "Metadata" && !b.sec.encryptMD {
		return cryptNone
	}
	filters, parms := b.filters(d)
	if len(filters) > 0 && filters[0] == "Crypt" {
		name := "Identity"
		if len(parms) > 0 {
			if p, ok := parms[0].(types.Dict); ok {
				if n := p.NameEntry("Name"); n != nil {
					name = *n
				}
			}
		}
		b.setFilters(d, filters[1:], parms[1:])
		return b.sec.filterMethod(&name)
	}
	return b.sec.stm
}

// filters are d's /Filter names, with /DecodeParms padded or cut to
// match them, references resolved.
func (b *rebuilder) filters(d types.Dict) ([]string, types.Array) {
	var names []string
	switch f := b.resolve(d["Filter"]).(type) {
	case types.Name:
		names = []string{string(f)}
	case types.StringLiteral: // a name written as a string
		names = []string{string(f)}
	case types.Array:
		for _, e := range f {
			switch n := b.resolve(e).(type) {
			case types.Name:
				names = append(names, string(n))
			case types.StringLiteral:
				names = append(names, string(n))
			}
		}
	}
	parms := make(types.Array, len(names))
	switch p := b.resolve(d["DecodeParms"]).(type) {
	case types.Dict:
		if len(parms) > 0 {
			parms[0] = p
		}
	case types.Array:
		for i := range min(len(p), len(parms)) {
			if pd, ok := b.resolve(p[i]).(types.Dict); ok {
				parms[i] = pd
			}
		}
	}
	return names, parms
}

// setFilters writes names and parms back into d in their plain form.
func (b *rebuilder) setFilters(d types.Dict, names []string, parms types.Array) {
	delete(d, "Filter")
	delete(d, "DecodeParms")
	switch len(names) {
	case 0:
		return
	case 1:
		d["Filter"] = types.Name(names[0])
		if parms[0] != nil {
			d["DecodeParms"] = parms[0]
		}
		return
	}
	arr := make(types.Array, len(names))
	for i, n := range names {
		arr[i] = types.Name(n)
	}
	d["Filter"] = arr
	if slices.ContainsFunc(parms, func(o types.Object) bool { return o != nil }) {
		d["DecodeParms"] = parms
	}
}

func isObjectStream(o *robj) bool {
	d, ok := o.val.(types.Dict)
	if !ok || !o.stream {
		return false
	}
	if t := d.Type(); t != nil && *t == "ObjStm" {
		return true
	}
	// A wrong /Type (qpdf's bad35) still has /N and /First.
	_, n := d["N"].(types.Integer)
	_, f := d["First"].(types.Integer)
	if !n || !f {
		return false
	}
	t := d.Type()
	return t == nil || *t != "XRef" && *t != "XObject" && *t != "Metadata"
}

// numbers are the object numbers found, in order.
func (b *rebuilder) numbers() []int {
	nrs := make([]int, 0, len(b.objs))
	for nr := range b.objs {
		nrs = append(nrs, nr)
	}
	slices.Sort(nrs)
	return nrs
}

// expandObjectStreams adds the objects of every object stream, decoded
// within the budget; a damaged one gives what can be read of it.
func (b *rebuilder) expandObjectStreams() {
	var oss []*robj
	for _, nr := range b.numbers() {
		if o := b.objs[nr]; isObjectStream(o) {
			oss = append(oss, o)
		}
	}
	slices.SortFunc(oss, func(x, y *robj) int { return x.pos - y.pos })
	for _, os := range oss {
		delete(b.objs, os.nr)
		content, err := b.decode(os)
		if err != nil {
			b.hide(os.nr, "cannot be decoded")
			continue
		}
		d := os.val.(types.Dict)
		first := intEntry(d, "First", 0)
		if first < 0 || first > len(content) {
			b.hide(os.nr, "is damaged")
			continue
		}
		prolog := bytes.ReplaceAll(content[:first], []byte{0}, []byte{' '})
		if i := bytes.IndexByte(prolog, '%'); i >= 0 {
			prolog = prolog[:i]
		}
		fields := strings.Fields(string(prolog))
		var entries [][2]int
		for i := 0; i+1 < len(fields) && len(entries) < b.l.MaxObjects; i += 2 {
			nr, err1 := strconv.Atoi(fields[i])
			off, err2 := strconv.Atoi(fields[i+1])
			if err1 != nil || err2 != nil || off < 0 || first+off > len(content) {
				b.hide(os.nr, "is damaged")
				break
			}
			entries = append(entries, [2]int{nr, first + off})
		}
		starts := make([]int, len(entries))
		for i, e := range entries {
			starts[i] = e[1]
		}
		slices.Sort(starts)
		// Entries that share an offset share its parse: each segment of
		// the content is parsed once, whatever the prolog lists.
		type parsed struct {
			val    types.Object
			stream bool
			data   []byte
		}
		seen := map[int]*parsed{}
		for i, e := range entries {
			nr, start := e[0], e[1]
			if nr < 1 || nr >= b.l.MaxObjects || nr == os.nr {
				continue
			}
			p := seen[start]
			if p == nil {
				end := len(content)
				if j := nextAt(starts, start+1); j >= 0 {
					end = j
				}
				p = &parsed{}
				seen[start] = p
				val, rest, err := b.parseValue(content[start:end])
				if err == nil {
					p.val = val
				}
				if d, ok := val.(types.Dict); ok && err == nil {
					// pdfTeX 1.40.13-15 put whole streams (page
					// thumbnails) into object streams.
					if seg := []byte(rest); bytes.HasPrefix(bytes.TrimLeft(seg, " \t\r\n\f\x00"), []byte("stream")) {
						k := bytes.Index(seg, []byte("stream")) + len("stream")
						if bytes.HasPrefix(seg[k:], []byte("\r\n")) {
							k += 2
						} else if k < len(seg) && (seg[k] == '\n' || seg[k] == '\r') {
							k++
						}
						dataEnd, _ := streamEnd(seg, d, k, nil, keyword(seg, "endstream"), nil)
						p.stream, p.data = true, seg[k:dataEnd]
					}
				}
			}
			if p.val == nil {
				b.note("object %d in object stream %d cannot be parsed", nr, os.nr)
				b.unparsable(&robj{nr: nr, pos: os.pos, sub: i + 1})
				continue
			}
			o := &robj{nr: nr, pos: os.pos, sub: i + 1, val: p.val, compressed: true, stream: p.stream, data: p.data}
			// A second number for the same bytes shares the value (a
			// copy each would make memory quadratic): what is changed in
			// place later (/Parent, /Kids, /Filter, references) is
			// changed alike for both, and fixPageTree bounds its work.
			if p.stream {
				b.note("object %d is a stream inside object stream %d", nr, os.nr)
			}
			b.put(o)
		}
	}
}

// decode decodes stream o's data, within what remains of the budget.
func (b *rebuilder) decode(o *robj) ([]byte, error) {
	d := o.val.(types.Dict)
	names, parms := b.filters(d)
	sd := types.StreamDict{Dict: d, Raw: o.data}
	for i, n := range names {
		f := types.PDFFilter{Name: n}
		if p, ok := parms[i].(types.Dict); ok {
			f.DecodeParms = p
		}
		sd.FilterPipeline = append(sd.FilterPipeline, f)
	}
	if len(names) == 0 {
		return o.data, nil
	}
	if b.budget <= 0 {
		return nil, errors.New("decode budget spent")
	}
	if err := sd.DecodeWithLimit(b.budget); err != nil {
		return nil, err
	}
	b.budget -= int64(len(sd.Content))
	return sd.Content, nil
}

// catalog chooses the catalog, repairs its page tree and returns its
// object number.
func (b *rebuilder) catalog() (int, error) {
	// The trailer's /Root, the latest first.
	for i := len(b.trailers) - 1; i >= 0; i-- {
		switch r := b.trailers[i].d["Root"].(type) {
		case types.IndirectRef:
			if nr := r.ObjectNumber.Value(); b.usableCatalog(b.dict(nr)) {
				return nr, b.fixPageTree(nr)
			}
		case types.Dict: // a direct catalog
			if b.usableCatalog(r) {
				nr := b.add(r)
				b.note("the trailer's catalog is a direct object: made object %d", nr)
				return nr, b.fixPageTree(nr)
			}
		}
	}
	// The last object that looks like a catalog.
	var best *robj
	for _, nr := range b.numbers() {
		o := b.objs[nr]
		if d := b.dict(nr); d != nil && b.usableCatalog(d) {
			if t := d.Type(); t != nil && *t == "Catalog" && (best == nil || o.after(best)) {
				best = o
			}
		}
	}
	if best != nil {
		b.note("no usable /Root in a trailer: took catalog object %d", best.nr)
		return best.nr, b.fixPageTree(best.nr)
	}
	// A catalog over the page objects, in file order; only in a file with
	// a trailer, which a file cut short before its end has not: its page
	// objects may be some of its pages only.
	if len(b.trailers) == 0 {
		return 0, errors.New("no catalog and no trailer: the file looks incomplete")
	}
	var pages []*robj
	for _, nr := range b.numbers() {
		if d := b.dict(nr); d != nil {
			if t := d.Type(); t != nil && *t == "Page" {
				pages = append(pages, b.objs[nr])
			}
		}
	}
	if len(pages) == 0 {
		return 0, errors.New("no catalog and no page objects found")
	}
	if err := b.treeFound(pages); err != nil {
		return 0, err
	}
	slices.SortFunc(pages, func(x, y *robj) int {
		if x.after(y) {
			return 1
		}
		return -1
	})
	kids := make(types.Array, len(pages))
	tree := b.add(types.Dict{"Type": types.Name("Pages")})
	for i, p := range pages {
		d := p.val.(types.Dict)
		b.inherit(d)
		d["Parent"] = *types.NewIndirectRef(tree, 0)
		kids[i] = *types.NewIndirectRef(p.nr, p.gen)
	}
	b.dict(tree)["Kids"] = kids
	b.dict(tree)["Count"] = types.Integer(len(kids))
	nr := b.add(types.Dict{"Type": types.Name("Catalog"), "Pages": *types.NewIndirectRef(tree, 0)})
	b.note("no catalog found: synthesized one over the %d page objects in file order", len(kids))
	return nr, nil
}

// treeFound checks, before a catalog is synthesized over pages, that the
// page tree nodes they name were all found, and every kid those nodes
// list: a node or kid the scan did not find (a header it could not read)
// may hold pages of the document, and a catalog over the pages found
// would publish it with those pages missing, as fixPageTree refuses to.
func (b *rebuilder) treeFound(pages []*robj) error {
	seen := map[int]bool{}
	for _, p := range pages {
		parent := p.val.(types.Dict)["Parent"]
		for depth := 0; depth < b.l.MaxDepth; depth++ {
			ref, ok := parent.(types.IndirectRef)
			if !ok || seen[ref.ObjectNumber.Value()] {
				break
			}
			nr := ref.ObjectNumber.Value()
			seen[nr] = true
			pd := b.dict(nr)
			if pd == nil {
				return fmt.Errorf("page %d: its page tree node %d is missing or not a dictionary", p.nr, nr)
			}
			kids, _ := b.resolve(pd["Kids"]).(types.Array)
			for _, k := range kids {
				if kr, ok := k.(types.IndirectRef); ok && b.dict(kr.ObjectNumber.Value()) == nil {
					return fmt.Errorf("page tree node %d: kid %d is missing or not a dictionary", nr, kr.ObjectNumber.Value())
				}
			}
			parent = pd["Parent"]
		}
	}
	return nil
}

// usableCatalog: d has a /Pages that is a dictionary.
func (b *rebuilder) usableCatalog(d types.Dict) bool {
	if d == nil {
		return false
	}
	switch p := d["Pages"].(type) {
	case types.IndirectRef:
		return b.dict(p.ObjectNumber.Value()) != nil
	case types.Dict:
		return true
	}
	return false
}

// add makes d a new object and returns its number.
func (b *rebuilder) add(d types.Dict) int {
	b.maxNr++
	b.objs[b.maxNr] = &robj{nr: b.maxNr, pos: len(b.src), val: d}
	return b.maxNr
}

// inherit copies into page d the attributes it inherits from its /Parent
// chain, for a page moved into a synthesized tree.
func (b *rebuilder) inherit(d types.Dict) {
	seen := map[int]bool{}
	parent := d["Parent"]
	for depth := 0; depth < b.l.MaxDepth; depth++ {
		ref, ok := parent.(types.IndirectRef)
		if !ok || seen[ref.ObjectNumber.Value()] {
			return
		}
		seen[ref.ObjectNumber.Value()] = true
		pd := b.dict(ref.ObjectNumber.Value())
		if pd == nil {
			return
		}
		for _, k := range inheritable {
			if _, has := d[k]; !has && pd[k] != nil {
				d[k] = pd[k]
			}
		}
		parent = pd["Parent"]
	}
}

// fixPageTree makes catalog nr's page tree one a strict reader walks:
// every node and page an indirect dictionary reached once, with its
// /Parent, /Kids and /Count set to what it holds. Direct kids are made
// objects of their own and a page reached twice is copied (as qpdf does);
// a kid that is missing or not a dictionary, or a cycle, fails the repair:
// dropping it would publish the document with pages missing.
func (b *rebuilder) fixPageTree(catalog int) error {
	cd := b.dict(catalog)
	var top int
	switch p := cd["Pages"].(type) {
	case types.IndirectRef:
		top = p.ObjectNumber.Value()
	case types.Dict:
		top = b.add(p)
		cd["Pages"] = b.ref(top)
		b.note("the catalog's page tree is a direct object: made object %d", top)
	}
	if t := b.dict(top).Type(); t != nil && pageType(*t) {
		// /Pages names a page: give it a tree. Only a typed one: an
		// untyped dictionary there, empty or not, is no page to qpdf or
		// poppler, and was published as a blank one (pdfium's
		// bug_709793.pdf, whose /Pages is "<< >>").
		page := top
		top = b.add(types.Dict{"Type": types.Name("Pages"), "Kids": types.Array{b.ref(page)}})
		cd["Pages"] = b.ref(top)
		b.note("the catalog's /Pages is a page: made it the kid of a new node %d", top)
	}
	nodes, pages := map[int]bool{}, map[int]bool{}
	// work counts the kids visited and the entries of copied pages: nodes
	// that share one dictionary (numbers of one object stream entry) would
	// otherwise make the walk quadratic.
	work := 0
	var walk func(nr, depth int) (int, error)
	walk = func(nr, depth int) (int, error) {
		node := b.dict(nr)
		nodes[nr] = true
		kids, _ := b.resolve(node["Kids"]).(types.Array)
		fixed := types.Array{}
		count := 0
		for _, kid := range kids {
			if work++; work > b.l.MaxObjects {
				return 0, fmt.Errorf("the page tree has more than %d entries", b.l.MaxObjects)
			}
			var knr int
			switch k := kid.(type) {
			case types.IndirectRef:
				knr = k.ObjectNumber.Value()
				if b.dict(knr) == nil {
					return 0, fmt.Errorf("page tree node %d: kid %d is missing or not a dictionary", nr, knr)
				}
			case types.Dict:
				knr = b.add(k)
				b.note("page tree node %d: a direct kid made object %d", nr, knr)
			default:
				return 0, fmt.Errorf("page tree node %d: a kid is not a dictionary", nr)
			}
			kd := b.dict(knr)
			if t := kd.Type(); t != nil && *t != "Pages" && !pageType(*t) {
				// An action or a font where a page belongs: a damaged
				// tree, refused as the page tree walk refuses it, never
				// dropped or published as a page.
				return 0, fmt.Errorf("the page tree lists object %d, a /%s dictionary, as a page", knr, *t)
			}
			if kd.Type() == nil && isAction(kd) {
				return 0, fmt.Errorf("the page tree lists object %d, an action dictionary (it has /S), as a page", knr)
			}
			if isPage(kd) {
				if len(pages) >= b.l.MaxPages {
					return 0, fmt.Errorf("more than %d pages", b.l.MaxPages)
				}
				if pages[knr] {
					if work += len(kd); work > b.l.MaxObjects {
						return 0, fmt.Errorf("the page tree has more than %d entries", b.l.MaxObjects)
					}
					copied := types.Dict{}
					for k, v := range kd {
						copied[k] = v
					}
					b.note("page %d appears twice in the page tree: copied to object %d", knr, b.maxNr+1)
					knr, kd = b.add(copied), copied
				}
				pages[knr] = true
				kd["Parent"] = b.ref(nr)
				fixed = append(fixed, b.ref(knr))
				count++
				continue
			}
			if nodes[knr] {
				return 0, fmt.Errorf("the page tree has a cycle at object %d", knr)
			}
			if depth >= b.l.MaxDepth {
				return 0, fmt.Errorf("the page tree is deeper than %d levels", b.l.MaxDepth)
			}
			kd["Parent"] = b.ref(nr)
			fixed = append(fixed, b.ref(knr))
			n, err := walk(knr, depth+1)
			if err != nil {
				return 0, err
			}
			count += n
		}
		node["Kids"] = fixed
		node["Count"] = types.Integer(count)
		if node.Type() == nil {
			node["Type"] = types.Name("Pages")
		}
		return count, nil
	}
	if _, err := walk(top, 0); err != nil {
		return err
	}
	delete(b.dict(top), "Parent")
	return nil
}

// isPage: d is a page, not a page tree node.
func isPage(d types.Dict) bool {
	if d == nil {
		return false
	}
	if t := d.Type(); t != nil {
		return pageType(*t)
	}
	_, kids := d["Kids"]
	return !kids && !isAction(d)
}

// isAction: d has the /S an action dictionary requires (ISO 32000-1
// 12.6.2, Table 193), which no page or page tree node has. An untyped
// JavaScript action where a page belongs (pdf.js's issue15590.pdf, the
// catalog's /Pages) is not taken for a page.
func isAction(d types.Dict) bool {
	_, ok := d["S"].(types.Name)
	return ok
}

// ref is a reference to object nr with its generation.
func (b *rebuilder) ref(nr int) types.IndirectRef {
	gen := 0
	if o := b.objs[nr]; o != nil {
		gen = o.gen
	}
	return *types.NewIndirectRef(nr, gen)
}

// write serializes what root and the trailer's /Info reach. References
// to objects that do not exist become null; generations follow the
// objects'.
func (b *rebuilder) write(root int, version string) []byte {
	reach := map[int]bool{root: true}
	todo := []int{root}
	info := 0
	if ref, ok := b.trailer("Info").(types.IndirectRef); ok && b.dict(ref.ObjectNumber.Value()) != nil {
		info = ref.ObjectNumber.Value()
		reach[info] = true
		todo = append(todo, info)
	}
	for len(todo) > 0 {
		nr := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		o := b.objs[nr]
		if o.stream {
			b.normalizeStream(o)
		}
		o.val = b.relink(o.val, func(n int) {
			if !reach[n] {
				reach[n] = true
				todo = append(todo, n)
			}
		})
	}
	nrs := make([]int, 0, len(reach))
	for nr := range reach {
		nrs = append(nrs, nr)
	}
	slices.Sort(nrs)

	out := bytes.NewBuffer(make([]byte, 0, len(b.src)+4096))
	fmt.Fprintf(out, "%%PDF-%s\n%%\xe2\xe3\xcf\xd3\n", version)
	offs := make([]int, len(nrs))
	for i, nr := range nrs {
		o := b.objs[nr]
		offs[i] = out.Len()
		fmt.Fprintf(out, "%d %d obj\n", nr, o.gen)
		if o.stream {
			data := o.data
			if o.crypt != cryptNone {
				data = b.sec.decrypt(o.crypt, o.nr, o.gen, data)
			}
			d := o.val.(types.Dict)
			d["Length"] = types.Integer(len(data))
			out.WriteString(d.PDFString())
			out.WriteString("\nstream\n")
			out.Write(data)
			out.WriteString("\nendstream")
		} else if o.val == nil {
			out.WriteString("null")
		} else {
			out.WriteString(o.val.PDFString())
		}
		out.WriteString("\nendobj\n")
	}
	xref := out.Len()
	out.WriteString("xref\n0 1\n0000000000 65535 f \n")
	for i := 0; i < len(nrs); {
		j := i + 1
		for j < len(nrs) && nrs[j] == nrs[j-1]+1 {
			j++
		}
		fmt.Fprintf(out, "%d %d\n", nrs[i], j-i)
		for k := i; k < j; k++ {
			fmt.Fprintf(out, "%010d %05d n \n", offs[k], b.objs[nrs[k]].gen)
		}
		i = j
	}
	trailer := types.Dict{"Size": types.Integer(nrs[len(nrs)-1] + 1), "Root": b.ref(root)}
	if info != 0 {
		trailer["Info"] = b.ref(info)
	}
	if id, ok := b.resolve(b.trailer("ID")).(types.Array); ok && len(id) == 2 {
		a, c := stringData(b.resolve(id[0])), stringData(b.resolve(id[1]))
		if a != nil && c != nil {
			trailer["ID"] = types.Array{types.NewHexLiteral(a), types.NewHexLiteral(c)}
		}
	}
	fmt.Fprintf(out, "trailer\n%s\nstartxref\n%d\n%%%%EOF\n", trailer.PDFString(), xref)
	return out.Bytes()
}

// normalizeStream gives stream o a dictionary pdfcpu reads: /Filter and
// /DecodeParms direct and of one length. /Length is set when written.
func (b *rebuilder) normalizeStream(o *robj) {
	d := o.val.(types.Dict)
	names, parms := b.filters(d)
	b.setFilters(d, names, parms)
	delete(d, "Length")
}

// relink returns o with every reference to a missing object replaced by
// null (ISO 32000-1 7.3.10), except to a lost one, or to any missing one
// while an object stream could not be read (it may hold it): those are
// kept, to be refused where a page uses them. Every other reference is
// given its object's generation; visit is called with each object number
// referred to that exists.
func (b *rebuilder) relink(o types.Object, visit func(int)) types.Object {
	switch v := o.(type) {
	case types.IndirectRef:
		nr := v.ObjectNumber.Value()
		if b.lostNrs[nr] {
			return v
		}
		if b.objs[nr] == nil {
			if b.hidden == "" {
				return nil
			}
			if b.unread == nil {
				b.unread = map[int]bool{}
			}
			b.unread[nr] = true
			return v
		}
		visit(nr)
		return b.ref(nr)
	case types.Dict:
		for k, e := range v {
			v[k] = b.relink(e, visit)
		}
	case types.Array:
		for i, e := range v {
			v[i] = b.relink(e, visit)
		}
	}
	return o
}
