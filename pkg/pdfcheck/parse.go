package pdfcheck

import (
	"bytes"
	"hash/maphash"
)

// kind is the type of a parsed value (7.3).
type kind uint8

const (
	kNone kind = iota
	kBool
	kNull
	kInt
	kReal
	kString
	kName
	kArray
	kDict
	kRef
)

// val is a parsed value: where it is and, for the kinds the rules look at,
// what it is. Offsets are 32 bits (Page refuses larger files) to keep the
// values the parser copies small.
type val struct {
	start, end int32 // its bytes; for a name, without the solidus
	num        int64 // kInt: the value (saturated); kRef: the object number
	kind       kind
	esc        bool // kName: holds #xx escapes
}

func (v val) at() int { return int(v.start) }

// arrStats summarises an array's elements, enough for the rules (/Kids,
// /MediaBox, /ID, /Filter) without keeping the elements.
type arrStats struct {
	first val
	n     int32
	all   uint8 // the element kinds every element has so far (elemBits)
}

const (
	allNum uint8 = 1 << iota
	allStr
	allRef
	allName
)

// elemBits is what an element of each kind leaves set in arrStats.all.
var elemBits = [...]uint8{kInt: allNum, kReal: allNum, kString: allStr, kRef: allRef, kName: allName, kDict: 0}

func (a arrStats) isNums() bool  { return a.all&allNum != 0 }
func (a arrStats) isStrs() bool  { return a.all&allStr != 0 }
func (a arrStats) isRefs() bool  { return a.all&allRef != 0 }
func (a arrStats) isNames() bool { return a.all&allName != 0 }

// entry is one entry of the top-level dictionary of the value just parsed.
type entry struct {
	key val
	v   val
	arr arrStats // when v is an array
}

// frame is an open array or dictionary.
type frame struct {
	arr  arrStats
	open int32 // offset of '[' or '<<'
	keys int32 // dictionary: its keys are c.keys[keys:]
	dict bool
}

// keyEnt is a key of an open dictionary, for the duplicate check.
type keyEnt struct {
	h          uint64
	start, end int32
	esc        bool
}

// value parses one direct object starting at or after pos in c.b, without
// recursion: open arrays and dictionaries live on a stack, at most
// opt.MaxDepth+1 of them. It returns the end of the value and the value; the
// entries of a top-level dictionary that a rule reads (ruleKey) are left in
// c.top, and a top-level array's summary in c.topArr. Every reference is checked against the
// table and, when c.record, appended to c.refs.
//
// The stack, keys and entries are local slices while it runs, written back
// when it returns a value (keeping their capacity for the next call):
// appending to fields of c would store through c on every token. There is
// no defer: with this many returns Go cannot open-code it, and it would
// cost more than a small object's parse.
func (c *checker) value(pos int) (end int, v val, e *Error) {
	b := c.b
	stack, keys, top := c.stack[:0], c.keys[:0], c.top[:0]
	// la remembers the integer the reference lookahead scanned last, so
	// the integers of a long array are scanned once, not twice.
	laPos, laEnd, laNum := -1, 0, int64(0)
	// The lookahead also remembers where the white-space after the two
	// integers it read ends (skip(aFrom) == aTo, skip(bFrom) == bTo).
	aFrom, aTo, bFrom, bTo := -1, 0, -1, 0
	// inKey: the innermost open container is a dictionary awaiting a key.
	// pending: the top-level key just read went into top and awaits its
	// value.
	inKey, pending := false, false
	for {
		switch pos {
		case aFrom:
			pos = aTo
		case bFrom:
			pos = bTo
		default:
			pos = skip(b, pos)
		}
		if pos >= len(b) {
			c.stack = stack
			return 0, val{}, c.unexpectedEnd(pos)
		}
		start, ch := pos, b[pos]
		if inKey {
			n := len(stack)
			if ch == '>' && pos+1 < len(b) && b[pos+1] == '>' {
				f := &stack[n-1]
				if e := c.checkDup(keys[f.keys:]); e != nil {
					return 0, val{}, e
				}
				keys = keys[:f.keys]
				v = val{kind: kDict, start: f.open, end: int32(pos + 2)}
				pos += 2
				stack = stack[:n-1]
				// The enclosing container decides: done sets inKey
				// again when it is a dictionary.
				inKey = false
				goto done
			}
			if ch != '/' {
				return 0, val{}, c.fail(ReasonSyntax, c.cur, pos, "a dictionary key is not a name")
			}
			end, esc, bad := name(b, pos)
			if bad != "" {
				return 0, val{}, c.fail(ReasonSyntax, c.cur, end, "%s", bad)
			}
			keys = append(keys, keyEnt{start: int32(pos + 1), end: int32(end), esc: esc})
			if n == 1 && (esc || ruleKey(b[pos+1:end])) {
				top = append(top, entry{key: val{kind: kName, esc: esc, start: int32(pos + 1), end: int32(end)}})
				pending = true
			}
			inKey = false
			pos = end
			continue
		}
		switch tokClass[ch] {
		case tokName:
			end, esc, bad := name(b, pos)
			if bad != "" {
				return 0, val{}, c.fail(ReasonSyntax, c.cur, end, "%s", bad)
			}
			v, pos = val{kind: kName, esc: esc, start: int32(pos + 1), end: int32(end)}, end
		case tokString:
			end := literal(b, pos)
			if end < 0 {
				return 0, val{}, c.fail(ReasonSyntax, c.cur, pos, "a literal string does not close (unbalanced parentheses) within the object")
			}
			v, pos = val{kind: kString, start: int32(pos), end: int32(end)}, end
		case tokArray, tokLess:
			dict := ch == '<'
			if dict && (pos+1 >= len(b) || b[pos+1] != '<') {
				end, ok := hexString(b, pos)
				if !ok {
					if end >= len(b) {
						return 0, val{}, c.fail(ReasonSyntax, c.cur, pos, "a hexadecimal string does not close within the object")
					}
					return 0, val{}, c.fail(ReasonSyntax, c.cur, end, "a hexadecimal string holds %q", b[end])
				}
				v, pos = val{kind: kString, start: int32(pos), end: int32(end)}, end
				break
			}
			if len(stack) > c.opt.MaxDepth {
				return 0, val{}, c.fail(ReasonDepth, c.cur, pos, "arrays and dictionaries nest deeper than %d levels", c.opt.MaxDepth)
			}
			stack = append(stack, frame{open: int32(pos), dict: dict, keys: int32(len(keys)),
				arr: arrStats{all: allNum | allStr | allRef | allName}})
			inKey = dict
			pos++
			if dict {
				pos++
			}
			continue
		case tokArrayEnd:
			n := len(stack)
			if n == 0 || stack[n-1].dict {
				return 0, val{}, c.fail(ReasonSyntax, c.cur, pos, "']' closes no array")
			}
			c.topArr = stack[n-1].arr
			v, pos = val{kind: kArray, start: stack[n-1].open, end: int32(pos + 1)}, pos+1
			stack = stack[:n-1]
		case tokGreater:
			if pos+1 < len(b) && b[pos+1] == '>' && len(stack) > 0 && stack[len(stack)-1].dict {
				return 0, val{}, c.fail(ReasonSyntax, c.cur, pos, "a dictionary key has no value")
			}
			return 0, val{}, c.fail(ReasonSyntax, c.cur, pos, "unexpected '>'")
		case tokNumber:
			var end int
			var num int64
			isInt, ok := true, true
			if pos == laPos {
				end, num = laEnd, laNum
			} else {
				end, isInt, num, ok = c.number(b, pos)
			}
			if !ok {
				return 0, val{}, c.fail(ReasonSyntax, c.cur, pos, "malformed number %q", token(b, pos))
			}
			v, pos = val{kind: kReal, start: int32(pos), end: int32(end), num: num}, end
			if !isInt {
				break
			}
			v.kind = kInt
			if !isDigit(ch) {
				break
			}
			// "n g R": an unsigned integer, an unsigned integer, R.
			p2 := bTo
			if end != bFrom {
				p2 = skip(b, end)
			}
			aFrom, aTo = end, p2
			if p2 >= len(b) || !isDigit(b[p2]) {
				break
			}
			e2, gen, ok := c.uint(b, p2)
			if !ok {
				break
			}
			p3 := skip(b, e2)
			laPos, laEnd, laNum = p2, e2, gen
			bFrom, bTo = e2, p3
			if p3 >= len(b) || b[p3] != 'R' || !c.boundary(p3+1) {
				break
			}
			if num <= 0 || num >= int64(c.size) || gen != 0 {
				return 0, val{}, c.fail(ReasonReference, c.cur, start, "reference %d %d R: the table holds objects 1..%d, generation 0", num, gen, c.size-1)
			}
			if c.offs[num] == 0 {
				return 0, val{}, c.fail(ReasonReference, c.cur, start, "reference %d 0 R: entry %d of the table is free", num, num)
			}
			if c.record {
				c.refs = append(c.refs, int32(num))
			}
			v, pos = val{kind: kRef, start: int32(start), end: int32(p3 + 1), num: num}, p3+1
		case tokBad:
			return 0, val{}, c.fail(ReasonSyntax, c.cur, pos, "unexpected %q", ch)
		default:
			end := pos
			for end < len(b) && isRegular(b[end]) {
				end++
			}
			switch string(b[pos:end]) {
			case "true", "false":
				v = val{kind: kBool, start: int32(pos), end: int32(end)}
			case "null":
				v = val{kind: kNull, start: int32(pos), end: int32(end)}
			default:
				if n := len(stack); n > 0 {
					return 0, val{}, c.fail(ReasonSyntax, c.cur, pos, "unexpected keyword %q inside %s", token(b, pos), inside(stack[n-1]))
				}
				return 0, val{}, c.fail(ReasonSyntax, c.cur, pos, "unexpected keyword %q where a value belongs", token(b, pos))
			}
			pos = end
		}
	done:
		n := len(stack)
		if n == 0 {
			c.stack, c.keys, c.top = stack, keys, top
			return pos, v, nil
		}
		f := &stack[n-1]
		if f.dict {
			inKey = true
			if n == 1 && pending {
				t := &top[len(top)-1]
				t.v = v
				if v.kind == kArray {
					t.arr = c.topArr
				}
				pending = false
			}
			continue
		}
		a := &f.arr
		a.n++
		if a.n == 1 {
			a.first = v
		}
		a.all &= elemBits[v.kind]
	}
}

// Token classes by first byte, for the parser's dispatch.
const (
	tokKeyword uint8 = iota // a regular character other than the below
	tokName
	tokString
	tokArray
	tokLess // "<<" or a hexadecimal string
	tokArrayEnd
	tokGreater
	tokNumber
	tokBad
)

var tokClass = func() (t [256]uint8) {
	t['/'], t['('], t['['], t['<'], t[']'], t['>'] = tokName, tokString, tokArray, tokLess, tokArrayEnd, tokGreater
	t['{'], t['}'], t[')'] = tokBad, tokBad, tokBad
	for _, c := range []byte("0123456789+-.") {
		t[c] = tokNumber
	}
	return t
}()

// ruleKey reports whether a rule reads the top-level entry with this
// (unescaped) key; only those are kept in c.top, so get must ask for no
// other.
func ruleKey(name []byte) bool {
	switch string(name) {
	case "Type", "Length", "Filter", "F", // every object, streams
		"Size", "Root", "Info", "ID", "Encrypt", "Prev", "XRefStm", // the trailer
		"Pages", "Kids", "Count", "Parent", "MediaBox": // the page tree
		return true
	}
	return false
}

func inside(f frame) string {
	if f.dict {
		return "a dictionary"
	}
	return "an array"
}

func (c *checker) unexpectedEnd(pos int) *Error {
	if n := len(c.stack); n > 0 {
		return c.fail(ReasonSyntax, c.cur, int(c.stack[n-1].open), "%s opened here does not close within the object", inside(c.stack[n-1]))
	}
	return c.fail(ReasonSyntax, c.cur, pos, "a value is missing")
}

// token is the token at pos, shortened, for messages.
func token(b []byte, pos int) string {
	end := pos + 1
	for end < len(b) && end-pos < 24 && isRegular(b[end]) {
		end++
	}
	return string(b[pos:min(end, len(b))])
}

// checkDup fails when the dictionary whose keys are ks holds a key twice
// (7.3.7: a reader would pick one of the values, and readers differ). Small
// dictionaries compare pairwise; large ones go through an open-addressing
// table of twice their size, cleared per dictionary, under a hash seeded
// per process, so a crafted dictionary cannot make the check quadratic. The
// key reported is the first that repeats an earlier one, whatever the hash.
func (c *checker) checkDup(ks []keyEnt) *Error {
	if len(ks) < 2 {
		return nil
	}
	if len(ks) <= 16 {
		for i := 1; i < len(ks); i++ {
			for j := range i {
				a, b := ks[i], ks[j]
				if (a.esc || b.esc || a.end-a.start == b.end-b.start) && c.sameName(a, b) {
					return c.dupErr(ks[i])
				}
			}
		}
		return nil
	}
	size := 1
	for size < 2*len(ks) {
		size <<= 1
	}
	if cap(c.dupTab) < size {
		c.dupTab = make([]int32, size)
	}
	tab := c.dupTab[:size]
	clear(tab)
	mask := uint64(size - 1)
	for i := range ks {
		k := &ks[i]
		raw := c.all[k.start:k.end]
		if k.esc {
			c.nbuf = decodeName(c.nbuf[:0], raw)
			raw = c.nbuf
		}
		k.h = maphash.Bytes(hashSeed, raw)
		for j := k.h & mask; ; j = (j + 1) & mask {
			if tab[j] == 0 {
				tab[j] = int32(i + 1)
				break
			}
			if o := ks[tab[j]-1]; o.h == k.h && c.sameName(o, *k) {
				return c.dupErr(*k)
			}
		}
	}
	return nil
}

var hashSeed = maphash.MakeSeed()

func (c *checker) dupErr(k keyEnt) *Error {
	return c.fail(ReasonDuplicateKey, c.cur, int(k.start-1), "a dictionary holds /%s twice", c.all[k.start:k.end])
}

func (c *checker) sameName(a, b keyEnt) bool {
	if !a.esc && !b.esc {
		return a.end-a.start == b.end-b.start && string(c.all[a.start:a.end]) == string(c.all[b.start:b.end])
	}
	c.nbuf = decodeName(c.nbuf[:0], c.all[a.start:a.end])
	c.nbuf2 = decodeName(c.nbuf2[:0], c.all[b.start:b.end])
	return bytes.Equal(c.nbuf, c.nbuf2)
}

// is reports whether v is the name lit (without solidus).
func (c *checker) is(v val, lit string) bool {
	if v.kind != kName {
		return false
	}
	if !v.esc {
		return string(c.all[v.start:v.end]) == lit
	}
	c.nbuf = decodeName(c.nbuf[:0], c.all[v.start:v.end])
	return string(c.nbuf) == lit
}

// get returns the entry of the top-level dictionary just parsed whose key is
// lit (one of ruleKey's), or nil.
func (c *checker) get(lit string) *entry { return c.find(c.top, lit) }

// find returns the entry of es whose key is lit, or nil.
func (c *checker) find(es []entry, lit string) *entry {
	for i := range es {
		if c.is(es[i].key, lit) {
			return &es[i]
		}
	}
	return nil
}

// text is v's source text, shortened, for messages.
func (c *checker) text(v val) string {
	if v.kind == kNone {
		return "missing"
	}
	s, e := v.start, v.end
	if v.kind == kName {
		s--
	}
	if e-s > 40 {
		return string(c.all[s:s+40]) + "…"
	}
	return string(c.all[s:e])
}
