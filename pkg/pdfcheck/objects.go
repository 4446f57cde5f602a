package pdfcheck

// objects parses the objects in use in file order: each where the table
// says, each within the bytes before the next, with nothing but white-space
// and comments between them. Free entries have no object.
func (c *checker) objects() *Error {
	n := c.size
	c.ends, c.objs = grow(c.ends, n), grow(c.objs, n)
	c.refStart = grow(c.refStart, n+1)
	c.record = true
	prev, prevNum := 0, 0 // end of the previous object (or of nothing: the header is a comment)
	next := 1             // the first object in use at or after num
	for num := 1; num < n; num++ {
		c.refStart[num] = int32(len(c.refs))
		off := c.offs[num]
		if off == 0 {
			continue
		}
		if off < prev {
			return c.fail(ReasonOverlap, num, off, "object %d starts inside object %d (which ends at byte %d)", num, prevNum, prev)
		}
		bound := c.xrefAt
		for next = max(next, num+1); next < n && c.offs[next] == 0; next++ {
		}
		if next < n {
			bound = c.offs[next]
		}
		// "num 0 obj" first: an offset that misses its object says so,
		// rather than calling the object's own bytes garbage.
		c.b, c.cur = c.all[:bound], num
		at, e := c.objHeader(num, off)
		if e != nil {
			return e
		}
		if e := c.gap(prev, off, num); e != nil {
			return e
		}
		end, e := c.object(num, at)
		if e != nil {
			return e
		}
		c.ends[num], prev, prevNum = end, end, num
	}
	c.refStart[n] = int32(len(c.refs))
	return c.gap(prev, c.xrefAt, 0)
}

// gap checks that c.all[from:to] is white-space and comments only, and that
// no comment runs on past to (an offset pointing into a comment).
func (c *checker) gap(from, to, num int) *Error {
	s := skip(c.all, from)
	switch {
	case s < to && num > 0:
		return c.fail(ReasonGarbage, num, s, "unexpected %q before object %d: only white-space and comments may lie between objects", token(c.all, s), num)
	case s < to:
		return c.fail(ReasonGarbage, 0, s, "unexpected %q before the xref table: only white-space and comments may lie between objects", token(c.all, s))
	case s > to && num > 0:
		return c.fail(ReasonOffset, num, to, "the offset of object %d lies inside white-space or a comment", num)
	case s > to:
		return c.fail(ReasonStartxref, 0, to, "startxref points inside a comment")
	}
	return nil
}

// objHeader checks that "num 0 obj" is at off and returns where the
// object's value starts.
func (c *checker) objHeader(num, off int) (int, *Error) {
	b := c.b
	e, nr, ok := c.uint(b, off)
	if ok && nr == int64(num) {
		p := skip(b, e)
		var gen int64
		e, gen, ok = c.uint(b, p)
		ok = ok && gen == 0
		if ok {
			p = skip(b, e)
			ok = c.keyword(b, p, "obj")
			e = p + len("obj")
		}
	} else {
		ok = false
	}
	if !ok {
		return 0, c.fail(ReasonOffset, num, off, "the xref offset of object %d does not point at \"%d 0 obj\" (found %q)", num, num, token(b, off))
	}
	return e, nil
}

// object parses object num's value at e and what follows it, "endobj" or a
// stream, within c.b, and returns the end of its endobj.
func (c *checker) object(num, e int) (int, *Error) {
	b := c.b
	end, v, err := c.value(e)
	if err != nil {
		return 0, err
	}
	// Keep what the page tree and the filters by reference will ask of
	// this object, so nothing is parsed twice.
	info := &c.objs[num]
	info.v = v
	if v.kind == kArray {
		info.arr = c.topArr
	}
	if v.kind == kDict {
		info.first, info.n = int32(len(c.saved)), int32(len(c.top))
		c.saved = append(c.saved, c.top...)
		if t := c.get("Type"); t != nil && (c.is(t.v, "ObjStm") || c.is(t.v, "XRef")) {
			return 0, c.fail(ReasonObjectStream, num, t.v.at()-1, "object %d is /Type /%s: a page holds no object or cross-reference streams", num, c.all[t.v.start:t.v.end])
		}
	}
	q := skip(b, end)
	switch {
	case c.keyword(b, q, "endobj"):
		return q + len("endobj"), nil
	case c.keyword(b, q, "stream") && v.kind == kDict:
		info.stream = true
		return c.stream(num, q+len("stream"))
	case c.keyword(b, q, "stream"):
		return 0, c.fail(ReasonStream, num, q, "the stream keyword follows a value that is not a dictionary")
	case q >= len(b):
		return 0, c.fail(ReasonSyntax, num, q, "object %d has no endobj before the next object", num)
	}
	return 0, c.fail(ReasonSyntax, num, q, "unexpected %q after the value of object %d: expected endobj", token(b, q), num)
}

// stream checks a stream whose keyword ends at p and whose dictionary's
// entries are in c.top (7.3.8): an end-of-line of CRLF or LF, exactly
// /Length bytes of data, an end-of-line, endstream, endobj. 7.3.8.1 says
// the end-of-line before endstream "should" be there; the page writer
// always writes it, and requiring it catches a /Length one byte long.
func (c *checker) stream(num, p int) (int, *Error) {
	b := c.b
	switch {
	case p < len(b) && b[p] == '\n':
		p++
	case p+1 < len(b) && b[p] == '\r' && b[p+1] == '\n':
		p += 2
	default:
		return 0, c.fail(ReasonStream, num, p, "the stream keyword is not followed by CRLF or LF")
	}
	ln := c.get("Length")
	switch {
	case ln == nil:
		return 0, c.fail(ReasonStream, num, p, "the stream dictionary has no /Length")
	case ln.v.kind == kRef:
		return 0, c.fail(ReasonStream, num, ln.v.at(), "/Length is an indirect reference: a page's stream lengths are direct")
	case ln.v.kind != kInt || ln.v.num < 0:
		return 0, c.fail(ReasonStream, num, ln.v.at(), "/Length %s is not a non-negative integer", c.text(ln.v))
	case ln.v.num > int64(len(b)-p):
		return 0, c.fail(ReasonStream, num, p, "/Length %d runs past the end of the object at byte %d", ln.v.num, len(b))
	}
	data := b[p : p+int(ln.v.num)]
	r := p + len(data)
	eol := r
	if r < len(b) && b[r] == '\r' {
		r++
	}
	if r < len(b) && b[r] == '\n' {
		r++
	}
	if r == eol || !c.keyword(b, r, "endstream") {
		return 0, c.fail(ReasonStream, num, p+len(data), "the data of /Length %d is not followed by an end-of-line and endstream (found %q)", len(data), token(b, r))
	}
	r = skip(b, r+len("endstream"))
	if !c.keyword(b, r, "endobj") {
		return 0, c.fail(ReasonSyntax, num, r, "endstream is not followed by endobj")
	}
	if c.get("F") != nil {
		// The data is in an external file (7.3.8.2): the bytes here, if
		// any, are ignored and /Filter does not apply to them.
		return r + len("endobj"), nil
	}
	if f := c.get("Filter"); f != nil {
		var first val
		switch f.v.kind {
		case kName:
			first = f.v
		case kArray:
			if !f.arr.isNames() {
				return 0, c.fail(ReasonStream, num, f.v.at(), "/Filter holds something other than names")
			}
			first = f.arr.first
		case kRef:
			// Resolved once every object is parsed.
			c.pending = append(c.pending, pendingProbe{obj: num, filter: int(f.v.num), at: p, n: len(data)})
		default:
			return 0, c.fail(ReasonStream, num, f.v.at(), "/Filter is not a name or an array of names")
		}
		if e := c.filtered(num, first, p, data); e != nil {
			return 0, e
		}
	}
	return r + len("endobj"), nil
}

// pendingProbe is a stream whose /Filter is an indirect object.
type pendingProbe struct {
	obj, filter int
	at, n       int
}

// filtered applies the rules that depend on a stream's first filter: no
// /Crypt (a page is not encrypted), and the Flate probe.
func (c *checker) filtered(num int, first val, at int, data []byte) *Error {
	switch {
	case first.kind != kName:
		return nil
	case c.is(first, "Crypt"):
		return c.fail(ReasonEncrypted, num, first.at()-1, "the stream has a /Crypt filter: its data is encrypted")
	case c.opt.NoProbe || !(c.is(first, "FlateDecode") || c.is(first, "Fl")):
		return nil
	}
	if err := c.inflate(data, c.opt.ProbeBytes); err != nil {
		return c.fail(ReasonFlate, num, at, "the FlateDecode data (%d bytes) is not zlib data within its first %d decoded bytes: %v (left encrypted, or damaged in the source)", len(data), c.opt.ProbeBytes, err)
	}
	return nil
}

// probePending resolves the filters given by reference and applies the
// filter rules to their streams.
func (c *checker) probePending() *Error {
	for _, pp := range c.pending {
		o := &c.objs[pp.filter]
		first := o.v
		switch {
		case o.v.kind == kArray && o.arr.isNames():
			first = o.arr.first
		case o.v.kind != kName:
			return c.fail(ReasonStream, pp.obj, c.offs[pp.obj], "/Filter refers to object %d, which is not a name or an array of names", pp.filter)
		}
		if e := c.filtered(pp.obj, first, pp.at, c.all[pp.at:pp.at+pp.n]); e != nil {
			return e
		}
	}
	return nil
}

// objInfo is what the rules that look across objects need of one object.
type objInfo struct {
	v        val      // its value: the kind, and for a name which one
	arr      arrStats // when v is an array
	first, n int32    // when v is a dictionary: its rule entries, c.saved[first:first+n]
	stream   bool
}

// entries returns the rule entries of object num's dictionary.
func (c *checker) entries(num int) []entry {
	o := &c.objs[num]
	return c.saved[o.first : o.first+o.n]
}
