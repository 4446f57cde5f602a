package asl

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type segKind uint8

const (
	segName   segKind = iota // .name or ['name']
	segIndex                 // [3] or [-1]
	segWild                  // .* or [*]
	segSlice                 // [a:b]
	segDeep                  // ..name
	segFilter                // [?(...)]
)

type seg struct {
	kind   segKind
	name   string
	index  int
	lo, hi *int
	filter filterExpr
}

// A path is a parsed JSONPath: the subset of Jayway JsonPath that Step
// Functions users write, filters included (filter.go). Scripts and unions
// are refused at Parse.
type path struct {
	src      string
	context  bool   // $$: the context object
	variable string // $name: the workflow variable name, "" for the input
	segs     []seg
	definite bool // only names and indexes: selects at most one node
}

func parsePath(s string) (*path, error) {
	p := &path{src: s, definite: true}
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("path %q must begin with '$'", s)
	}
	i := 1
	if strings.HasPrefix(s, "$$") {
		p.context = true
		i = 2
	} else if j := varNameEnd(s, 1); j > 1 {
		// $name: a workflow variable (workflow-variables.html).
		p.variable = s[1:j]
		i = j
	}
	for i < len(s) {
		switch s[i] {
		case '.':
			i++
			deep := false
			if i < len(s) && s[i] == '.' {
				deep = true
				i++
			}
			if deep && i < len(s) && s[i] == '[' {
				return nil, fmt.Errorf("path %q: deep scan with brackets is not supported", s)
			}
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			name := s[i:j]
			if name == "" || strings.TrimSpace(name) != name || strings.ContainsAny(name, "]'\"") {
				return nil, fmt.Errorf("path %q: bad name at offset %d", s, i)
			}
			i = j
			switch {
			case deep && name == "*":
				return nil, fmt.Errorf("path %q: '..*' is not supported", s)
			case deep:
				p.segs = append(p.segs, seg{kind: segDeep, name: name})
				p.definite = false
			case name == "*":
				p.segs = append(p.segs, seg{kind: segWild})
				p.definite = false
			default:
				p.segs = append(p.segs, seg{kind: segName, name: name})
			}
		case '[':
			end, sg, err := parseBracket(s, i)
			if err != nil {
				return nil, err
			}
			i = end
			if sg.kind != segName && sg.kind != segIndex {
				p.definite = false
			}
			p.segs = append(p.segs, sg)
		default:
			return nil, fmt.Errorf("path %q: unexpected %q at offset %d", s, s[i], i)
		}
	}
	return p, nil
}

// parseBracket parses the bracket expression starting at s[i] == '['
// and returns the offset after the closing bracket.
func parseBracket(s string, i int) (int, seg, error) {
	i++
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i >= len(s) {
		return 0, seg{}, fmt.Errorf("path %q: unterminated '['", s)
	}
	var sg seg
	switch c := s[i]; {
	case c == '\'' || c == '"':
		var b strings.Builder
		j := i + 1
		for ; j < len(s) && s[j] != c; j++ {
			if s[j] == '\\' && j+1 < len(s) {
				j++
			}
			b.WriteByte(s[j])
		}
		if j >= len(s) {
			return 0, seg{}, fmt.Errorf("path %q: unterminated quoted name", s)
		}
		sg = seg{kind: segName, name: b.String()}
		i = j + 1
	case c == '*':
		sg = seg{kind: segWild}
		i++
	case c == '?':
		f, end, err := parseFilter(s, i)
		if err != nil {
			return 0, seg{}, err
		}
		sg = seg{kind: segFilter, filter: f}
		i = end
	case c == '(':
		return 0, seg{}, fmt.Errorf("path %q: script expressions are not supported", s)
	default:
		j := i
		for j < len(s) && s[j] != ']' {
			j++
		}
		if j >= len(s) {
			return 0, seg{}, fmt.Errorf("path %q: unterminated '['", s)
		}
		body := strings.TrimSpace(s[i:j])
		if lo, hi, ok := strings.Cut(body, ":"); ok {
			sg = seg{kind: segSlice}
			for k, part := range []string{lo, hi} {
				part = strings.TrimSpace(part)
				if part == "" {
					continue
				}
				n, err := strconv.Atoi(part)
				if err != nil {
					return 0, seg{}, fmt.Errorf("path %q: bad slice %q", s, body)
				}
				if k == 0 {
					sg.lo = &n
				} else {
					sg.hi = &n
				}
			}
		} else {
			n, err := strconv.Atoi(body)
			if err != nil {
				return 0, seg{}, fmt.Errorf("path %q: bad index %q (unions are not supported)", s, body)
			}
			sg = seg{kind: segIndex, index: n}
		}
		i = j
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i >= len(s) || s[i] != ']' {
		return 0, seg{}, fmt.Errorf("path %q: expected ']'", s)
	}
	return i + 1, sg, nil
}

// varNameEnd returns the end of the variable name that starts at s[i],
// or i when none does.
func varNameEnd(s string, i int) int {
	j := i
	for j < len(s) {
		r, n := utf8.DecodeRuneInString(s[j:])
		if !(r == '_' || unicode.IsLetter(r) || (j > i && unicode.IsDigit(r))) {
			break
		}
		j += n
	}
	return j
}

// parseRefPath parses a reference path: one that names a single node and
// can therefore be written to (ResultPath).
func parseRefPath(s string) (*path, error) {
	p, err := parsePath(s)
	if err != nil {
		return nil, err
	}
	if p.context || !p.definite {
		return nil, fmt.Errorf("%q is not a reference path (only names and indexes are allowed)", s)
	}
	if p.variable != "" {
		return nil, fmt.Errorf("%q: a variable cannot be used in this field, only in Parameters, ResultSelector, ItemSelector, Assign, Choice rules, ErrorPath and CausePath", s)
	}
	return p, nil
}

// parseItemsPath parses a Map state's ItemsPath: a reference path that may
// also filter, as the paths page's reference path $.jar[?(@.a >= 5)] does
// (amazon-states-language-paths.html).
func parseItemsPath(s string) (*path, error) {
	p, err := parsePath(s)
	if err != nil {
		return nil, err
	}
	for _, sg := range p.segs {
		if sg.kind != segName && sg.kind != segIndex && sg.kind != segFilter {
			return nil, fmt.Errorf("%q is not a reference path (only names, indexes and filters are allowed)", s)
		}
	}
	if p.context || p.variable != "" {
		return nil, fmt.Errorf("%q: ItemsPath must be a path into the state input", s)
	}
	return p, nil
}

// eval applies p to root (the input, or the context object for $$ paths).
// A definite path yields its node; an indefinite one the array of matches.
// ok is false when a definite path matches nothing.
func (p *path) eval(root any) (v any, ok bool) {
	if p.definite {
		v = root
		for _, sg := range p.segs {
			switch sg.kind {
			case segName:
				m, isMap := v.(map[string]any)
				if !isMap {
					return nil, false
				}
				if v, ok = m[sg.name]; !ok {
					return nil, false
				}
			case segIndex:
				a, isArr := v.([]any)
				if !isArr {
					return nil, false
				}
				i := sg.index
				if i < 0 {
					i += len(a)
				}
				if i < 0 || i >= len(a) {
					return nil, false
				}
				v = a[i]
			}
		}
		return v, true
	}
	cur := []any{root}
	for _, sg := range p.segs {
		var next []any
		for _, v := range cur {
			next = sg.apply(v, next)
		}
		cur = next
	}
	if cur == nil {
		cur = []any{}
	}
	return cur, true
}

func (sg seg) apply(v any, out []any) []any {
	switch sg.kind {
	case segName:
		if m, ok := v.(map[string]any); ok {
			if w, ok := m[sg.name]; ok {
				out = append(out, w)
			}
		}
	case segIndex:
		if a, ok := v.([]any); ok {
			i := sg.index
			if i < 0 {
				i += len(a)
			}
			if i >= 0 && i < len(a) {
				out = append(out, a[i])
			}
		}
	case segWild:
		switch x := v.(type) {
		case []any:
			out = append(out, x...)
		case map[string]any:
			for _, k := range sortedKeys(x) {
				out = append(out, x[k])
			}
		}
	case segSlice:
		if a, ok := v.([]any); ok {
			lo, hi := 0, len(a)
			if sg.lo != nil {
				lo = clampIndex(*sg.lo, len(a))
			}
			if sg.hi != nil {
				hi = clampIndex(*sg.hi, len(a))
			}
			if lo < hi {
				out = append(out, a[lo:hi]...)
			}
		}
	case segFilter:
		out = applyFilter(sg.filter, v, out)
	case segDeep:
		switch x := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				if k == sg.name {
					out = append(out, x[k])
				}
				out = sg.apply(x[k], out)
			}
		case []any:
			for _, w := range x {
				out = sg.apply(w, out)
			}
		}
	}
	return out
}

func clampIndex(i, n int) int {
	if i < 0 {
		i += n
	}
	return max(0, min(i, n))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// set returns a copy of root with val stored at the reference path p,
// creating intermediate objects as needed. Only the nodes along the path
// are copied.
func (p *path) set(root any, val any) (any, error) {
	return setSegs(root, p.segs, val, p.src)
}

func setSegs(v any, segs []seg, val any, src string) (any, error) {
	if len(segs) == 0 {
		return val, nil
	}
	sg := segs[0]
	switch sg.kind {
	case segName:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("unable to apply ResultPath %q: %s is not an object", src, typeName(v))
		}
		child, exists := m[sg.name]
		if !exists && len(segs) > 1 {
			child = map[string]any{}
		}
		nv, err := setSegs(child, segs[1:], val, src)
		if err != nil {
			return nil, err
		}
		cp := make(map[string]any, len(m)+1)
		for k, w := range m {
			cp[k] = w
		}
		cp[sg.name] = nv
		return cp, nil
	case segIndex:
		a, ok := v.([]any)
		i := sg.index
		if ok && i < 0 {
			i += len(a)
		}
		if !ok || i < 0 || i >= len(a) {
			return nil, fmt.Errorf("unable to apply ResultPath %q: index %d is not in an array", src, sg.index)
		}
		nv, err := setSegs(a[i], segs[1:], val, src)
		if err != nil {
			return nil, err
		}
		cp := slices.Clone(a)
		cp[i] = nv
		return cp, nil
	}
	return nil, fmt.Errorf("ResultPath %q is not a reference path", src)
}
