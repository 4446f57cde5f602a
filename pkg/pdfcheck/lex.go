package pdfcheck

// Character classes of ISO 32000-1 7.2.2: white-space (Table 1), delimiters
// (Table 2); every other byte is a regular character.
const (
	clSpace = 1 << iota
	clDelim
	clDigit
	clHex
)

var class = func() (t [256]uint8) {
	for _, c := range []byte{0, '\t', '\n', '\f', '\r', ' '} {
		t[c] |= clSpace
	}
	for _, c := range []byte("()<>[]{}/%") {
		t[c] |= clDelim
	}
	for c := '0'; c <= '9'; c++ {
		t[c] |= clDigit | clHex
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] |= clHex
		t[c-'a'+'A'] |= clHex
	}
	return t
}()

func isSpace(c byte) bool   { return class[c]&clSpace != 0 }
func isDigit(c byte) bool   { return class[c]&clDigit != 0 }
func isRegular(c byte) bool { return class[c]&(clSpace|clDelim) == 0 }

func hexVal(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// bigNumber is where integer values saturate: far above any offset, length
// or object number a page can have, and far below overflow.
const bigNumber = 1 << 62

// skip returns the first position at or after pos in b that is neither
// white-space nor inside a comment. A comment runs to the end of its line, so
// a comment that crosses a bound the caller cares about shows as a position
// past that bound.
func skip(b []byte, pos int) int {
	for pos < len(b) {
		c := b[pos]
		if class[c]&clSpace != 0 {
			pos++
			continue
		}
		if c != '%' {
			return pos
		}
		for pos < len(b) && b[pos] != '\n' && b[pos] != '\r' {
			pos++
		}
	}
	return pos
}

// spaces returns the first position at or after pos that is not white-space
// (comments are not skipped) and whether the run held an end-of-line.
func spaces(b []byte, pos int) (int, bool) {
	eol := false
	for pos < len(b) && isSpace(b[pos]) {
		eol = eol || b[pos] == '\n' || b[pos] == '\r'
		pos++
	}
	return pos, eol
}

// boundary reports whether a token ending at p ends there: p is the end of
// the file or a white-space or delimiter byte. It always looks at the whole
// file, so "endobj" directly followed by the next object's number is one
// token, as a reader scanning the file would see it.
func (c *checker) boundary(p int) bool {
	return p >= len(c.all) || !isRegular(c.all[p])
}

// keyword reports whether the keyword kw is the token at pos in b.
func (c *checker) keyword(b []byte, pos int, kw string) bool {
	return len(b)-pos >= len(kw) && string(b[pos:pos+len(kw)]) == kw && c.boundary(pos+len(kw))
}

// uint scans an unsigned integer token (digits only) at pos in b. Values
// saturate at bigNumber.
func (c *checker) uint(b []byte, pos int) (end int, v int64, ok bool) {
	end = pos
	for end < len(b) && isDigit(b[end]) {
		v = v*10 + int64(b[end]-'0') // wraps past 18 digits; replaced below
		end++
	}
	if end-pos > 18 {
		v = bigNumber
	}
	return end, v, end > pos && c.boundary(end)
}

// number scans a numeric token at pos in b (7.3.3): an optional sign, then
// digits with at most one period, at least one digit. Integer values
// saturate at ±bigNumber.
func (c *checker) number(b []byte, pos int) (end int, isInt bool, v int64, ok bool) {
	end = pos
	neg := false
	if end < len(b) && (b[end] == '+' || b[end] == '-') {
		neg = b[end] == '-'
		end++
	}
	digits, dot := 0, false
	for ; end < len(b); end++ {
		ch := b[end]
		if isDigit(ch) {
			digits++
			if !dot && v < bigNumber {
				v = v*10 + int64(ch-'0')
			}
			continue
		}
		if ch == '.' && !dot {
			dot = true
			continue
		}
		break
	}
	if v > bigNumber {
		v = bigNumber
	}
	if neg {
		v = -v
	}
	return end, !dot, v, digits > 0 && c.boundary(end)
}

// name scans a name token whose solidus is at pos in b (7.3.5). It returns
// the end, whether it holds #xx escapes, and an empty reason when it is well
// formed: every # followed by two hexadecimal digits, none of them #00.
func name(b []byte, pos int) (end int, esc bool, bad string) {
	end = pos + 1
	for end < len(b) && isRegular(b[end]) {
		if b[end] == '#' {
			if len(b)-end < 3 || class[b[end+1]]&clHex == 0 || class[b[end+2]]&clHex == 0 {
				return end, true, "# in a name is not followed by two hexadecimal digits"
			}
			if b[end+1] == '0' && b[end+2] == '0' {
				return end, true, "a name holds #00"
			}
			esc = true
			end += 2
		}
		end++
	}
	return end, esc, ""
}

// decodeName appends the decoded bytes of the well-formed name b[start:end]
// (solidus excluded) to dst.
func decodeName(dst, name []byte) []byte {
	for i := 0; i < len(name); i++ {
		if name[i] == '#' {
			dst = append(dst, hexVal(name[i+1])<<4|hexVal(name[i+2]))
			i += 2
			continue
		}
		dst = append(dst, name[i])
	}
	return dst
}

// literal scans a literal string whose opening parenthesis is at pos in b
// (7.3.4.2): parentheses balance unless escaped; a backslash escapes the
// byte after it (octal digits that follow are ordinary bytes here). It
// returns the end, or -1 when the string does not close within b.
func literal(b []byte, pos int) int {
	depth := 0
	for i := pos; i < len(b); i++ {
		switch b[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '\\':
			i++
		}
	}
	return -1
}

// hexString scans a hexadecimal string whose '<' is at pos in b (7.3.4.3):
// hexadecimal digits and white-space up to '>'. It returns the end, or the
// position of the offending byte and false.
func hexString(b []byte, pos int) (int, bool) {
	for i := pos + 1; i < len(b); i++ {
		ch := b[i]
		if ch == '>' {
			return i + 1, true
		}
		if class[ch]&(clHex|clSpace) == 0 {
			return i, false
		}
	}
	return len(b), false
}
