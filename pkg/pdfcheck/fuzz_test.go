package pdfcheck

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
)

// FuzzPage checks that Page never panics, answers the same on the same
// bytes (pooled state leaks nothing between calls), and never accepts a file
// that an independent oracle finds breaking the xref rules (2), the
// reference rule (5) or the page tree rules (7), free list included.
func FuzzPage(f *testing.F) {
	for _, tc := range pageCases() {
		f.Add(tc.pdf)
	}
	// Small pages, so the fuzzer spends its time on structure.
	f.Add(makePage(pageOpts{}).bytes())
	f.Add(makePage(pageOpts{Annots: 2, Info: true, Nest: 3, TreeLast: true}).bytes())
	other := makePage(pageOpts{Annots: 1})
	other.eol, other.xrefEOL, other.streamEOL, other.sep = "\r", "\r\n", "\r\n", "%c\r"
	f.Add(other.bytes())
	// Pages of the writer's: form fields, catalog entries, free entries.
	for _, src := range [][]byte{pdftest.FormFields(), pdftest.CatalogEntries(), sharedFonts(2)} {
		pages, err := split(src, "")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pages[0])
	}
	small := typical().bytes()
	f.Fuzz(func(t *testing.T, pdf []byte) {
		err := Page(pdf, Options{})
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("not an *Error: %v", err)
		}
		if e != nil && e.Reason == ReasonInternal {
			t.Fatalf("internal error: %v", err)
		}
		_ = Page(small, Options{})
		if again := Page(pdf, Options{}); fmt.Sprint(again) != fmt.Sprint(err) {
			t.Fatalf("two answers for the same bytes:\n%v\n%v", err, again)
		}
		if err != nil {
			return
		}
		if msg := oracle(pdf); msg != "" {
			t.Fatalf("Page accepts a file the oracle refuses: %s", msg)
		}
	})
}

// TestOracle: the oracle refuses what breaks rules 2, 5 and 7 and accepts
// the valid pages; without this, a FuzzPage that never fails would prove
// nothing.
func TestOracle(t *testing.T) {
	for _, tc := range pageCases() {
		msg := oracle(tc.pdf)
		switch tc.want {
		case "":
			if msg != "" {
				t.Errorf("%s: the oracle refuses a valid page: %s", tc.name, msg)
			}
		case ReasonXref, ReasonOffset, ReasonOverlap, ReasonTooManyObjects, ReasonReference, ReasonPageTree:
			// The oracle reads objects where the table says and never
			// between them, so it cannot see an offset into a comment.
			if msg == "" && tc.opts == (Options{}) && tc.name != "offset-inside-comment" {
				t.Errorf("%s: the oracle accepts a page that breaks a rule it checks (%s)", tc.name, tc.want)
			}
		}
	}
}

// The oracle is a second, deliberately simple reading of the rules it
// checks: regular expressions for the table, a recursive parser into Go
// values for objects. It trusts nothing Page computed. It is meant for
// small files that Page already accepted, so it need not be fast or defend
// against depth.

type oRef struct{ n, g int64 }

type oName string

// oParser reads values; it stops after one value, so stream data (which
// follows a dictionary) is never read as syntax.
type oParser struct {
	b    []byte
	p    int
	err  string
	refs []oRef
}

var (
	oStartxref = regexp.MustCompile(`startxref[\x00\t\n\f\r ]+(\d+)[\x00\t\n\f\r ]+%%EOF(\r\n|\r|\n)?$`)
	oXrefHead  = regexp.MustCompile(`^xref[\x00\t\n\f\r ]*?(\r\n|\r|\n)[\x00\t\n\f\r ]*0[ \t]+(\d+)[ \t]*(\r\n|\r|\n)[\x00\t\n\f\r ]*`)
	oEntry     = regexp.MustCompile(`^(\d{10}) (\d{5}) ([nf])( \r| \n|\r\n)`)
)

// oracle returns "" when pdf keeps rules 2, 5 and 7, or what it breaks.
func oracle(pdf []byte) string {
	m := oStartxref.FindSubmatch(pdf)
	if m == nil {
		return "no startxref … %%EOF at the end"
	}
	x, _ := strconv.Atoi(string(m[1]))
	if x >= len(pdf) {
		return "startxref past the end"
	}
	h := oXrefHead.FindSubmatch(pdf[x:])
	if h == nil {
		return "no \"xref 0 N\" at startxref"
	}
	n, err := strconv.Atoi(string(h[2]))
	if err != nil || n < 1 || n > 8_388_608 {
		return "bad object count " + string(h[2])
	}
	at := x + len(h[0])
	offs := make([]int, n) // 0 for a free entry
	links := map[int]int{} // free entry → the next it names
	last := 0              // the offset of the last object in use
	for i := range n {
		e := oEntry.FindSubmatch(pdf[min(at, len(pdf)):])
		if e == nil {
			return fmt.Sprintf("xref entry %d malformed", i)
		}
		at += 20
		off, _ := strconv.Atoi(string(e[1]))
		gen := string(e[2])
		switch {
		case string(e[3]) == "f" && (i == 0 && gen == "65535" || i > 0 && gen == "00001"):
			links[i] = off
		case i == 0 || string(e[3]) == "f":
			return fmt.Sprintf("entry %d is free with generation %s, or entry 0 in use", i, gen)
		case gen != "00000":
			return fmt.Sprintf("entry %d of generation %s", i, gen)
		case off <= last:
			return fmt.Sprintf("object %d not after the object before it", i)
		default:
			offs[i], last = off, off
		}
	}
	// The free list: from entry 0, every free entry in ascending order,
	// then 0.
	for i, walked := 0, 1; ; walked++ {
		next := links[i]
		if next == 0 {
			if walked != len(links) {
				return fmt.Sprintf("the free list visits %d of %d free entries", walked, len(links))
			}
			break
		}
		if _, free := links[next]; !free || next <= i {
			return fmt.Sprintf("free entry %d links to %d", i, next)
		}
		i = next
	}
	tp := &oParser{b: pdf, p: at}
	if tok := tp.token(); tok != "trailer" {
		return fmt.Sprintf("after %d entries comes %q, not trailer", n, tok)
	}
	trailer, ok := tp.value().(map[oName]any)
	if tp.err != "" || !ok {
		return "trailer: " + tp.err
	}
	objs := make([]any, n)
	var refs []oRef
	for i := 1; i < n; i++ {
		if offs[i] == 0 {
			continue
		}
		p := &oParser{b: pdf, p: offs[i]}
		if p.token() != strconv.Itoa(i) || p.token() != "0" || p.token() != "obj" {
			return fmt.Sprintf("object %d is not at its offset", i)
		}
		objs[i] = p.value()
		if p.err != "" {
			return fmt.Sprintf("object %d: %s", i, p.err)
		}
		refs = append(refs, p.refs...)
	}
	refs = append(refs, tp.refs...)
	for _, r := range refs {
		if r.n <= 0 || r.n >= int64(n) || r.g != 0 || offs[r.n] == 0 {
			return fmt.Sprintf("reference %d %d R does not resolve", r.n, r.g)
		}
	}
	deref := func(v any) any {
		if r, ok := v.(oRef); ok {
			return objs[r.n]
		}
		return v
	}
	root, ok := trailer["Root"].(oRef)
	if !ok {
		return "no /Root"
	}
	catalog, _ := objs[root.n].(map[oName]any)
	if catalog["Type"] != oName("Catalog") {
		return "catalog without /Type /Catalog"
	}
	pagesRef, ok := catalog["Pages"].(oRef)
	if !ok {
		return "no /Pages"
	}
	pages, _ := objs[pagesRef.n].(map[oName]any)
	kids, _ := pages["Kids"].([]any)
	if pages["Type"] != oName("Pages") || pages["Count"] != int64(1) || len(kids) != 1 || pages["Parent"] != nil {
		return "the page tree root is not /Type /Pages, /Count 1, one kid, no /Parent"
	}
	pageRef, ok := kids[0].(oRef)
	if !ok {
		return "the kid is not a reference"
	}
	page, _ := objs[pageRef.n].(map[oName]any)
	if page["Type"] != oName("Page") || page["Parent"] != pagesRef {
		return "the kid is not a /Type /Page whose /Parent is the root"
	}
	box, _ := deref(page["MediaBox"]).([]any)
	if len(box) != 4 {
		return "no /MediaBox of four"
	}
	for _, v := range box {
		switch v.(type) {
		case int64, float64:
		default:
			return "a /MediaBox element is not a number"
		}
	}
	return ""
}

func (p *oParser) fail(format string, args ...any) {
	if p.err == "" {
		p.err = fmt.Sprintf(format, args...) + fmt.Sprintf(" (byte %d)", p.p)
	}
}

func oSpace(c byte) bool { return bytes.IndexByte([]byte("\x00\t\n\f\r "), c) >= 0 }

func oDelim(c byte) bool { return bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0 }

// token returns the next token's text: a delimiter, "<<", ">>", a name with
// its solidus, a whole string, or a run of regular characters.
func (p *oParser) token() string {
	b := p.b
	for p.p < len(b) {
		if oSpace(b[p.p]) {
			p.p++
		} else if b[p.p] == '%' {
			for p.p < len(b) && b[p.p] != '\r' && b[p.p] != '\n' {
				p.p++
			}
		} else {
			break
		}
	}
	if p.p >= len(b) {
		return ""
	}
	start := p.p
	switch c := b[p.p]; {
	case c == '<' || c == '>':
		if p.p+1 < len(b) && b[p.p+1] == c {
			p.p += 2
			return string(b[start:p.p])
		}
		if c == '<' {
			end := bytes.IndexByte(b[p.p:], '>')
			if end < 0 {
				p.fail("open hex string")
				return ""
			}
			p.p += end + 1
			return string(b[start:p.p])
		}
		p.p++
		return ">"
	case c == '(':
		depth := 0
		for ; p.p < len(b); p.p++ {
			switch b[p.p] {
			case '\\':
				p.p++
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth == 0 {
				p.p++
				return string(b[start:p.p])
			}
		}
		p.fail("open string")
		return ""
	case c == '/':
		p.p++
	case oDelim(c):
		p.p++
		return string(c)
	}
	for p.p < len(b) && !oSpace(b[p.p]) && !oDelim(b[p.p]) {
		p.p++
	}
	return string(b[start:p.p])
}

func (p *oParser) peek() string {
	save := p.p
	t := p.token()
	p.p = save
	return t
}

var oInt = regexp.MustCompile(`^[+-]?\d+$`)
var oReal = regexp.MustCompile(`^[+-]?(\d+\.\d*|\.\d+)$`)
var oUint = regexp.MustCompile(`^\d+$`)

func (p *oParser) value() any {
	t := p.token()
	switch {
	case p.err != "":
		return nil
	case t == "<<":
		d := map[oName]any{}
		for p.err == "" {
			k := p.token()
			if k == ">>" {
				break
			}
			if len(k) == 0 || k[0] != '/' {
				p.fail("key %q", k)
				return nil
			}
			d[oDecode(k)] = p.value()
		}
		return d
	case t == "[":
		var a []any
		for p.err == "" && p.peek() != "]" {
			if p.peek() == "" {
				p.fail("open array")
				return nil
			}
			a = append(a, p.value())
		}
		p.token()
		if a == nil {
			a = []any{}
		}
		return a
	case len(t) > 0 && t[0] == '/':
		return oDecode(t)
	case len(t) > 0 && (t[0] == '(' || t[0] == '<'):
		return t
	case t == "true" || t == "false":
		return t == "true"
	case t == "null":
		return nil
	case oUint.MatchString(t):
		save := p.p
		g := p.token()
		if oUint.MatchString(g) && p.token() == "R" {
			n, _ := strconv.ParseInt(t, 10, 64)
			gen, _ := strconv.ParseInt(g, 10, 64)
			r := oRef{n, gen}
			p.refs = append(p.refs, r)
			return r
		}
		p.p = save
		n, _ := strconv.ParseInt(t, 10, 64)
		return n
	case oInt.MatchString(t):
		n, _ := strconv.ParseInt(t, 10, 64)
		return n
	case oReal.MatchString(t):
		v, _ := strconv.ParseFloat(t, 64)
		return v
	}
	p.fail("unexpected %q", t)
	return nil
}

func oDecode(name string) oName {
	var out []byte
	for i := 1; i < len(name); i++ {
		if name[i] == '#' && i+2 < len(name) {
			v, err := strconv.ParseUint(name[i+1:i+3], 16, 8)
			if err == nil {
				out = append(out, byte(v))
				i += 2
				continue
			}
		}
		out = append(out, name[i])
	}
	return oName(out)
}
