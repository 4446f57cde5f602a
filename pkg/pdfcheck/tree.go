package pdfcheck

// pageTree: the catalog is a dictionary of /Type /Catalog whose /Pages
// refers to the root of the page tree, a /Type /Pages dictionary with no
// /Parent, /Count 1 and /Kids of exactly one reference, to a /Type /Page
// dictionary whose /Parent refers back and whose /MediaBox is four numbers.
func (c *checker) pageTree() *Error {
	catalog := c.root
	es, e := c.dictOf(catalog, "Catalog", "the catalog (/Root)")
	if e != nil {
		return e
	}
	pg := c.find(es, "Pages")
	if pg == nil || pg.v.kind != kRef {
		return c.fail(ReasonPageTree, catalog, c.offs[catalog], "the catalog has no /Pages reference")
	}
	pages := int(pg.v.num)
	es, e = c.dictOf(pages, "Pages", "the catalog's /Pages")
	if e != nil {
		return e
	}
	if p := c.find(es, "Parent"); p != nil {
		return c.fail(ReasonPageTree, pages, p.key.at()-1, "the root of the page tree has a /Parent")
	}
	if n := c.find(es, "Count"); n == nil || n.v.kind != kInt || n.v.num != 1 {
		var v val
		if n != nil {
			v = n.v
		}
		return c.fail(ReasonPageTree, pages, c.offs[pages], "/Count is %s, not 1", c.text(v))
	}
	kids := c.find(es, "Kids")
	if kids == nil || kids.v.kind != kArray || kids.arr.n != 1 || !kids.arr.isRefs() {
		return c.fail(ReasonPageTree, pages, c.offs[pages], "/Kids is not an array of exactly one reference")
	}
	page := int(kids.arr.first.num)
	es, e = c.dictOf(page, "Page", "the one kid of the page tree")
	if e != nil {
		return e
	}
	if p := c.find(es, "Parent"); p == nil || p.v.kind != kRef || int(p.v.num) != pages {
		return c.fail(ReasonPageTree, page, c.offs[page], "the page's /Parent does not refer to the page tree's root, object %d", pages)
	}
	mb := c.find(es, "MediaBox")
	if mb == nil {
		return c.fail(ReasonPageTree, page, c.offs[page], "the page has no /MediaBox")
	}
	box, arr := mb.v, mb.arr
	if box.kind == kRef {
		// The writer copies a page's entries as the source had them, and a
		// source may hold its box as an indirect array.
		o := &c.objs[box.num]
		box, arr = o.v, o.arr
	}
	if box.kind != kArray || arr.n != 4 || !arr.isNums() {
		return c.fail(ReasonPageTree, page, mb.v.at(), "/MediaBox is not an array of four numbers")
	}
	return c.infoDict()
}

// dictOf checks that object num is a dictionary (not a stream) of /Type
// /typ, and returns its rule entries; what names it in messages.
func (c *checker) dictOf(num int, typ, what string) ([]entry, *Error) {
	if o := &c.objs[num]; o.v.kind != kDict || o.stream {
		return nil, c.fail(ReasonPageTree, num, c.offs[num], "%s, object %d, is not a dictionary", what, num)
	}
	es := c.entries(num)
	t := c.find(es, "Type")
	if t == nil || !c.is(t.v, typ) {
		var v val
		if t != nil {
			v = t.v
		}
		return nil, c.fail(ReasonPageTree, num, c.offs[num], "%s, object %d, has /Type %s, not /%s", what, num, c.text(v), typ)
	}
	return es, nil
}

// infoDict: /Info, when present, is a dictionary.
func (c *checker) infoDict() *Error {
	if c.info == 0 {
		return nil
	}
	if o := &c.objs[c.info]; o.v.kind != kDict || o.stream {
		return c.fail(ReasonTrailer, c.info, c.offs[c.info], "/Info refers to object %d, which is not a dictionary", c.info)
	}
	return nil
}

// reachable: every object is reached from /Root or /Info, walking
// references breadth first (a work list, not recursion).
func (c *checker) reachable() *Error {
	c.seen = grow(c.seen, c.size)
	q := append(c.queue[:0], int32(c.root))
	c.seen[c.root] = true
	if c.info > 0 && !c.seen[c.info] {
		c.seen[c.info] = true
		q = append(q, int32(c.info))
	}
	for i := 0; i < len(q); i++ {
		n := q[i]
		for _, r := range c.refs[c.refStart[n]:c.refStart[n+1]] {
			if !c.seen[r] {
				c.seen[r] = true
				q = append(q, r)
			}
		}
	}
	c.queue = q
	for n := 1; n < c.size; n++ {
		if !c.seen[n] && c.offs[n] != 0 {
			return c.fail(ReasonUnreachable, n, c.offs[n], "object %d is reached from neither /Root nor /Info: a page carries only what it uses", n)
		}
	}
	return nil
}
