package pdfsplit

import (
	"cmp"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// names is a set of PDF names (without the slash, #xx escapes decoded).
type names map[string]struct{}

func (n names) has(s string) bool { _, ok := n[s]; return ok }

// addAll adds every name of o to n and reports whether any was new.
func (n names) addAll(o names) bool {
	grew := false
	for s := range o {
		if _, ok := n[s]; !ok {
			n[s] = struct{}{}
			grew = true
		}
	}
	return grew
}

// contentNames returns every name that appears in a content stream's
// decoded bytes: a superset of the resource names the stream's operators
// use (Tf, Do, gs, cs/CS, scn/SCN, sh, BDC/DP, an inline image's /CS), since
// every such operand is a name token (ISO 32000-1 7.8.3, 8.9.7, 9.3).
//
// It is deliberately not a parser: it takes every '/' followed by regular
// characters, inside strings and inline image data too. A name there that
// is not an operand costs a resource kept for nothing; a parser that lost
// its place in a malformed stream would drop a resource the page draws.
// So no content, however malformed, can make a used resource go missing.
func contentNames(b []byte, into names) {
	for i := 0; i < len(b); i++ {
		if b[i] != '/' {
			continue
		}
		j := i + 1
		for j < len(b) && regular(b[j]) {
			j++
		}
		if j > i+1 {
			name := decodeName(b[i+1 : j])
			into[name] = struct{}{}
			if strayHash(name) && resourceOperand(b[j:]) {
				into[strayKey+name] = struct{}{}
			}
		}
		i = j - 1
	}
}

// strayKey prefixes, in a names set, a name with a stray '#' that is the
// operand of an operator using a resource (see Document.lostName). No PDF
// name holds a NUL byte, so such an entry never matches a resource.
const strayKey = "\x00"

// resourceOperators are the operators whose name operand is a resource
// (ISO 32000-1 8.4.4, 8.6.8, 8.7.4.3, 8.8, 9.3, 14.6).
var resourceOperators = map[string]bool{
	"Do": true, "gs": true, "sh": true, "cs": true, "CS": true, "scn": true,
	"SCN": true, "Tf": true, "BDC": true, "DP": true,
}

// resourceOperand reports whether the bytes after a name are, after white
// space and at most one number (Tf's size), a resource operator.
func resourceOperand(b []byte) bool {
	skip := func(b []byte) []byte {
		for len(b) > 0 && !regular(b[0]) && b[0] != '/' && b[0] != '(' && b[0] != '<' && b[0] != '[' {
			b = b[1:]
		}
		return b
	}
	token := func(b []byte) ([]byte, []byte) {
		k := 0
		for k < len(b) && regular(b[k]) {
			k++
		}
		return b[:k], b[k:]
	}
	t, rest := token(skip(b))
	if len(t) > 0 && (t[0] == '-' || t[0] == '.' || t[0] >= '0' && t[0] <= '9') {
		t, _ = token(skip(rest))
	}
	return resourceOperators[string(t)]
}

// regular reports whether c is a regular character: neither white space
// nor a delimiter (ISO 32000-1 7.2.2).
func regular(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ', '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return false
	}
	return true
}

// decodeName decodes the #xx escapes of a name's characters (ISO 32000-1
// 7.3.5). A malformed escape stays as written, as pdfcpu keeps it.
func decodeName(b []byte) string {
	hasEscape := false
	for _, c := range b {
		if c == '#' {
			hasEscape = true
			break
		}
	}
	if !hasEscape {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '#' && i+2 < len(b) {
			if h, ok := unhex(b[i+1], b[i+2]); ok {
				out = append(out, h)
				i += 2
				continue
			}
		}
		out = append(out, b[i])
	}
	return string(out)
}

// strayHash reports whether the name s (as decodeName left it) holds a '#'
// that does not begin a two-digit hex escape: invalid since PDF 1.2 (ISO
// 32000-1 7.3.5). pdfcpu drops a dictionary entry whose key is such a name,
// so a resource the content names that way is missing from the parsed
// resources (see Document.lostName).
func strayHash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' {
			if i+2 >= len(s) {
				return true
			}
			if _, ok := unhex(s[i+1], s[i+2]); !ok {
				return true
			}
		}
	}
	return false
}

func unhex(a, b byte) (byte, bool) {
	x, ok1 := hexVal(a)
	y, ok2 := hexVal(b)
	return x<<4 | y, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeBound is how many bytes a content stream of raw encoded bytes may
// decode to before it is treated as unreadable: Limits.MaxContentBytes, and
// at most 64 KiB plus 64 times its encoded size. Real content streams
// compress 3–10×; a Flate bomb (about 1000×) stops at the bound, so one
// costs at most 64 bytes decoded per byte of input, and the page keeps its
// whole resource dictionary. The bound depends on the stream alone, so the
// outcome, and the page's bytes, are the same in every process.
func (d *Document) decodeBound(raw int) int64 {
	return min(d.limits.MaxContentBytes, 64<<10+64*int64(raw))
}

// streamNames returns the names in the content of the stream object nr
// (decoded within decodeBound), or ok false when it cannot be decoded (an
// unknown filter, damaged data, over the bound). Results are cached per
// object: pages that share a form XObject decode it once.
func (d *Document) streamNames(nr int, sd types.StreamDict) (n names, ok bool) {
	if c, hit := d.names[nr]; hit && nr > 0 {
		return c.names, c.ok
	}
	n, ok = d.decodeNames(sd)
	if nr > 0 {
		d.names[nr] = cachedNames{n, ok}
	}
	return n, ok
}

type cachedNames struct {
	names names
	ok    bool
}

func (d *Document) decodeNames(sd types.StreamDict) (names, bool) {
	probe := sd
	probe.Content = nil
	if _, ok := d.isStored(sd); ok {
		// Read for this decode only (names are cached, the data not).
		raw, err := d.appendData(nil, sd)
		if err != nil {
			// Not "cannot be decoded", which keeps the whole resource
			// dictionary: a page that failed to read is not written.
			d.readErr = cmp.Or(d.readErr, err)
			return nil, false
		}
		probe.Raw = raw
	}
	// DecodeWithLimit sets probe.Content; probe is a copy, so the parsed
	// document keeps only the encoded bytes it had.
	if err := probe.DecodeWithLimit(d.decodeBound(len(probe.Raw))); err != nil {
		return nil, false
	}
	n := names{}
	contentNames(probe.Content, n)
	return n, true
}
