package pdfcheck

// entryLen is the fixed size of a cross-reference entry (7.5.4), its
// end-of-line included.
const entryLen = 20

// xref: "xref" EOL "0 N" EOL, then N 20-byte entries (7.5.4), then the
// trailer: one subsection. The entries in use have generation 0 and
// offsets before the table, ascending with the object number. The others
// are free, the way the page writer leaves a shared object's number the
// page does not use: entry 0, generation 65535, and every other free
// entry, generation 1, form the linked list of 7.5.4, each holding the
// next free number above it and the last 0.
func (c *checker) xref() *Error {
	b := c.all[:c.startx]
	p := eol(b, c.xrefAt+len("xref"))
	if p < 0 {
		return c.fail(ReasonXref, 0, c.xrefAt+len("xref"), "the xref keyword is not followed by an end-of-line")
	}
	e, first, ok := c.uint(b, p)
	if !ok {
		return c.fail(ReasonXref, 0, p, "no subsection after the xref keyword")
	}
	if first != 0 {
		return c.fail(ReasonXref, 0, p, "the subsection starts at object %d, not 0", first)
	}
	// 7.5.4: "two numbers separated by a SPACE".
	if e >= len(b) || b[e] != ' ' {
		return c.fail(ReasonXref, 0, e, "the subsection line is not \"0 N\" (one space between)")
	}
	p = e + 1
	e, n, ok := c.uint(b, p)
	if !ok {
		return c.fail(ReasonXref, 0, p, "the subsection line is not \"0 N\"")
	}
	if n > int64(c.opt.MaxObjects) {
		return c.fail(ReasonTooManyObjects, 0, p, "%d objects, more than the limit of %d", n, c.opt.MaxObjects)
	}
	if n < 1 {
		return c.fail(ReasonXref, 0, p, "the subsection is empty")
	}
	if p = eol(b, e); p < 0 {
		return c.fail(ReasonXref, 0, e, "the subsection line does not end after \"0 %d\"", n)
	}
	size := int(n)
	if (len(b)-p)/entryLen < size {
		return c.fail(ReasonXref, 0, p, "%d entries of 20 bytes do not fit before startxref", size)
	}
	c.size = size
	c.offs = grow(c.offs, size)
	// link is the number the last free entry read links to, freeAt that
	// entry; prev is the last object in use.
	link, freeAt, prev := 0, 0, 0
	for i := range size {
		at := p + i*entryLen
		ent := b[at : at+entryLen]
		if !allDigits(ent[:10]) || !allDigits(ent[11:16]) {
			return c.fail(ReasonXref, 0, at, "entry %d is not \"nnnnnnnnnn ggggg n\"", i)
		}
		if ent[10] != ' ' || ent[16] != ' ' || !(string(ent[18:]) == " \r" || string(ent[18:]) == " \n" || string(ent[18:]) == "\r\n") {
			return c.fail(ReasonXref, 0, at, "entry %d is not \"nnnnnnnnnn ggggg n\" and a two-byte end-of-line", i)
		}
		off := 0
		for _, d := range ent[:10] {
			off = off*10 + int(d-'0')
		}
		gen := ent[11:16]
		if i == 0 {
			if string(gen) != "65535" || ent[17] != 'f' {
				return c.fail(ReasonXref, 0, at, "entry 0 is not \"nnnnnnnnnn 65535 f\", the head of the free list")
			}
			link = off
			continue
		}
		switch ent[17] {
		case 'f':
			switch {
			case link != i:
				return c.fail(ReasonXref, i, at, "entry %d is free but the free list goes from %d to %d: each free entry must link to the next one", i, freeAt, link)
			case string(gen) != "00001":
				return c.fail(ReasonXref, i, at, "free entry %d has generation %s, not 1", i, gen)
			case off != 0 && off <= i:
				return c.fail(ReasonXref, i, at, "free entry %d links back to %d: the free list must ascend", i, off)
			}
			link, freeAt = off, i
			continue
		case 'n':
		default:
			return c.fail(ReasonXref, i, at, "entry %d is neither in use (n) nor free (f) but %q", i, ent[17])
		}
		switch {
		case link == i:
			return c.fail(ReasonXref, i, at, "free entry %d links to entry %d, which is in use", freeAt, i)
		case string(gen) != "00000":
			return c.fail(ReasonXref, i, at, "entry %d has generation %s, not 0", i, gen)
		case off >= c.xrefAt:
			return c.fail(ReasonXref, i, at, "entry %d: offset %d is not before the xref table at %d", i, off, c.xrefAt)
		case off == 0:
			return c.fail(ReasonOffset, i, at, "entry %d: object %d at offset 0, where the header is", i, i)
		case prev > 0 && off <= c.offs[prev]:
			return c.fail(ReasonOverlap, i, off, "object %d starts at or before object %d (byte %d): objects must be in ascending order", i, prev, c.offs[prev])
		}
		c.offs[i], prev = off, i
	}
	if link != 0 {
		return c.fail(ReasonXref, freeAt, p+freeAt*entryLen, "free entry %d links to %d, which is not a free entry of the table", freeAt, link)
	}
	if prev == 0 {
		return c.fail(ReasonXref, 0, p, "the table holds no object in use")
	}
	c.last = prev
	end := p + size*entryLen
	q := skip(b, end)
	if q < len(b) && isDigit(b[q]) {
		return c.fail(ReasonXref, 0, q, "a second subsection: the table must be one subsection 0..%d", size-1)
	}
	if !c.keyword(b, q, "trailer") {
		return c.fail(ReasonXref, 0, q, "the xref table is not followed by the trailer keyword")
	}
	c.trailAt = q
	return nil
}

// trailer: a dictionary with /Size N, /Root a reference, /ID two strings,
// optionally /Info a reference; no /Encrypt, /Prev or /XRefStm; then only
// white-space and comments up to startxref.
func (c *checker) trailer() *Error {
	c.b, c.cur, c.record = c.all[:c.startx], 0, false
	p := c.trailAt + len("trailer")
	end, v, e := c.value(p)
	if e != nil {
		return e
	}
	if v.kind != kDict {
		return c.fail(ReasonTrailer, 0, v.at(), "the trailer is not a dictionary")
	}
	if q := skip(c.all, end); q != c.startx {
		return c.fail(ReasonTrailer, 0, q, "unexpected bytes between the trailer and startxref")
	}
	if en := c.get("Encrypt"); en != nil {
		return c.fail(ReasonEncrypted, 0, en.key.at()-1, "the trailer has /Encrypt: the page is encrypted")
	}
	for _, k := range [...]string{"Prev", "XRefStm"} {
		if en := c.get(k); en != nil {
			return c.fail(ReasonTrailer, 0, en.key.at()-1, "the trailer has /%s: a page has one xref table and no update sections", k)
		}
	}
	size := c.get("Size")
	switch {
	case size == nil:
		return c.fail(ReasonTrailer, 0, v.at(), "the trailer has no /Size")
	case size.v.kind != kInt || size.v.num != int64(c.size):
		return c.fail(ReasonTrailer, 0, size.v.at(), "/Size is %s, the xref table holds %d entries", c.text(size.v), c.size)
	}
	root := c.get("Root")
	if root == nil || root.v.kind != kRef {
		return c.fail(ReasonTrailer, 0, v.at(), "the trailer has no /Root reference")
	}
	c.root = int(root.v.num)
	if info := c.get("Info"); info != nil {
		if info.v.kind != kRef {
			return c.fail(ReasonTrailer, 0, info.v.at(), "/Info is not a reference")
		}
		c.info = int(info.v.num)
	}
	id := c.get("ID")
	if id == nil || id.v.kind != kArray || id.arr.n != 2 || !id.arr.isStrs() {
		return c.fail(ReasonTrailer, 0, v.at(), "the trailer has no /ID array of two strings")
	}
	return nil
}

func allDigits(b []byte) bool {
	for _, d := range b {
		if !isDigit(d) {
			return false
		}
	}
	return true
}

// eol returns the position after the end-of-line (CR LF, LF or CR) at pos
// in b, or -1 when there is none: the lines of the xref table's head are
// a keyword or two numbers and an end-of-line, nothing else (7.5.4).
func eol(b []byte, pos int) int {
	switch {
	case pos+1 < len(b) && b[pos] == '\r' && b[pos+1] == '\n':
		return pos + 2
	case pos < len(b) && (b[pos] == '\n' || b[pos] == '\r'):
		return pos + 1
	}
	return -1
}
