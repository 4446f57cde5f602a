package asl

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
)

// JsonPath filter expressions, [?(...)], as Step Functions evaluates them
// with Jayway JsonPath. The paths page
// (https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html)
// gives $.jar[?(@.a >= 5)] => [{"a": 5}, {"a": 7}], says that @ "does not
// match scalar values. It only matches objects", and that "filtering by
// regular expression or by referencing another value in the JSON
// structure isn't supported".
//
// Jayway's semantics, which this file follows for the rest:
//   - on an array the predicate is tested on each object element and the
//     matches are kept; on an object it is tested on the object itself,
//     which is kept when it matches; any other value yields nothing;
//   - a path whose value is absent compares unequal to everything, and
//     every ordering comparison with it is false;
//   - == and != compare numbers by value, and a number with a string
//     holding a number as numbers; < <= > >= compare two numbers or two
//     strings and are false otherwise;
//   - a path alone tests existence (a null value exists).
//
// What the page refuses ($ inside a filter, =~ and /regex/) and Jayway's
// other operators (in, nin, subsetof, anyof, noneof, size, empty) and
// functions (length(), ...) are refused when the path is parsed.

type filterExpr interface {
	test(cur any) bool
}

type (
	orExpr  struct{ l, r filterExpr }
	andExpr struct{ l, r filterExpr }
	notExpr struct{ x filterExpr }
	// existsExpr is a path alone: true when it selects a value.
	existsExpr struct{ p operand }
	cmpExpr    struct {
		op   string
		l, r operand
	}
)

// An operand is a path relative to the current node (@) or a literal.
type operand struct {
	path    *path
	literal any
}

func (o operand) value(cur any) (any, bool) {
	if o.path == nil {
		return o.literal, true
	}
	return o.path.eval(cur)
}

func (e orExpr) test(cur any) bool  { return e.l.test(cur) || e.r.test(cur) }
func (e andExpr) test(cur any) bool { return e.l.test(cur) && e.r.test(cur) }
func (e notExpr) test(cur any) bool { return !e.x.test(cur) }
func (e existsExpr) test(cur any) bool {
	_, ok := e.p.value(cur)
	return ok
}

func (e cmpExpr) test(cur any) bool {
	l, lok := e.l.value(cur)
	r, rok := e.r.value(cur)
	switch e.op {
	case "==":
		return lok && rok && filterEqual(l, r)
	case "!=":
		return !(lok && rok && filterEqual(l, r))
	}
	if !lok || !rok {
		return false
	}
	var c int
	switch {
	case isNumber(l) && isNumber(r):
		c = numCmp(l.(json.Number), r.(json.Number))
	case isString(l) && isString(r):
		c = strings.Compare(l.(string), r.(string))
	default:
		return false
	}
	switch e.op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

func isNumber(v any) bool { _, ok := v.(json.Number); return ok }
func isString(v any) bool { _, ok := v.(string); return ok }

// numCmp compares two JSON numbers, to 256 bits of precision (big.Float
// rather than big.Rat: a hostile 1e999999999 costs nothing).
func numCmp(a, b json.Number) int {
	x, okx := parseNum(string(a))
	y, oky := parseNum(string(b))
	if !okx || !oky {
		return strings.Compare(string(a), string(b))
	}
	return x.Cmp(y)
}

func parseNum(s string) (*big.Float, bool) {
	f, ok := new(big.Float).SetPrec(256).SetString(s)
	return f, ok && !strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "0x")
}

// filterEqual is Jayway's equality: JSON equality, except that a number
// equals a string that holds the same number (Jayway's NumberNode and
// StringNode convert to each other when compared).
func filterEqual(a, b any) bool {
	if s, ok := a.(string); ok && isNumber(b) {
		a, b = b, s
	}
	if n, ok := a.(json.Number); ok {
		switch w := b.(type) {
		case json.Number:
			return numCmp(n, w) == 0
		case string:
			if _, ok := parseNum(strings.TrimSpace(w)); !ok {
				return false
			}
			return numCmp(n, json.Number(strings.TrimSpace(w))) == 0
		}
		return false
	}
	return jsonEqual(a, b)
}

// applyFilter keeps the object elements of an array, or the object
// itself, that match f.
func applyFilter(f filterExpr, v any, out []any) []any {
	switch x := v.(type) {
	case []any:
		for _, w := range x {
			if m, ok := w.(map[string]any); ok && f.test(m) {
				out = append(out, w)
			}
		}
	case map[string]any:
		if f.test(x) {
			out = append(out, x)
		}
	}
	return out
}

// filterParser parses the filter that begins at s[i] == '?'.
type filterParser struct {
	s     string // the whole path, for messages
	i     int
	depth int // of "!" and "(" being parsed, at most maxFilterNesting
}

// maxFilterNesting bounds how deeply "!" and "(" nest in a filter: parsing
// and evaluating recurse once per level, in the process that loads the
// definition, where Go's stack overflow is fatal (1.3 million levels ended
// serve). A thousand is far beyond any filter a person writes.
const maxFilterNesting = 1000

// parseFilter parses "?(expr)" at s[i] and returns the offset after it.
func parseFilter(s string, i int) (filterExpr, int, error) {
	p := &filterParser{s: s, i: i + 1}
	p.ws()
	if !p.eat("(") {
		return nil, 0, p.errf("a filter must be written [?(...)]")
	}
	e, err := p.or()
	if err != nil {
		return nil, 0, err
	}
	p.ws()
	if !p.eat(")") {
		return nil, 0, p.errf("expected ')'")
	}
	return e, p.i, nil
}

func (p *filterParser) errf(format string, a ...any) error {
	return fmt.Errorf("path %q: filter at offset %d: %s", p.s, p.i, fmt.Sprintf(format, a...))
}

func (p *filterParser) ws() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *filterParser) eat(tok string) bool {
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *filterParser) or() (filterExpr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for {
		p.ws()
		if !p.eat("||") {
			return l, nil
		}
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orExpr{l, r}
	}
}

func (p *filterParser) and() (filterExpr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		p.ws()
		if !p.eat("&&") {
			return l, nil
		}
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = andExpr{l, r}
	}
}

func (p *filterParser) unary() (filterExpr, error) {
	p.ws()
	if p.depth++; p.depth > maxFilterNesting {
		return nil, p.errf("nested more than %d levels deep", maxFilterNesting)
	}
	defer func() { p.depth-- }()
	if strings.HasPrefix(p.s[p.i:], "!") && !strings.HasPrefix(p.s[p.i:], "!=") {
		p.i++
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notExpr{x}, nil
	}
	if p.eat("(") {
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		p.ws()
		if !p.eat(")") {
			return nil, p.errf("expected ')'")
		}
		return e, nil
	}
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.ws()
	if strings.HasPrefix(p.s[p.i:], "=~") {
		return nil, p.errf("regular expressions (=~) are not supported")
	}
	for _, op := range []string{"==", "!=", "<=", ">=", "<", ">"} {
		if p.eat(op) {
			if strings.HasPrefix(p.s[p.i:], "=") {
				return nil, p.errf("operator %q is not supported", op+"=")
			}
			r, err := p.operand()
			if err != nil {
				return nil, err
			}
			return cmpExpr{op: op, l: l, r: r}, nil
		}
	}
	if rest := p.s[p.i:]; rest != "" && rest[0] != ')' && rest[0] != '&' && rest[0] != '|' {
		word := rest
		if j := strings.IndexAny(rest, " )"); j > 0 {
			word = rest[:j]
		}
		return nil, p.errf("operator %q is not supported (only ==, !=, <, <=, >, >=, &&, || and !)", word)
	}
	if l.path == nil {
		return nil, p.errf("a literal alone is not a condition")
	}
	return existsExpr{l}, nil
}

func (p *filterParser) operand() (operand, error) {
	p.ws()
	rest := p.s[p.i:]
	if rest == "" {
		return operand{}, p.errf("unexpected end")
	}
	switch c := rest[0]; {
	case c == '$':
		return operand{}, p.errf("a filter cannot refer to another value of the document ($); only @ is supported")
	case c == '@':
		j := p.i + 1
		depth := 0
		var quote byte
	scan:
		for ; j < len(p.s); j++ {
			ch := p.s[j]
			switch {
			case quote != 0:
				if ch == '\\' && j+1 < len(p.s) {
					j++
				} else if ch == quote {
					quote = 0
				}
			case ch == '\'' || ch == '"':
				quote = ch
			case ch == '[':
				depth++
			case ch == ']':
				if depth == 0 {
					break scan
				}
				depth--
			case ch == '(':
				return operand{}, p.errf("functions are not supported in filters")
			case depth == 0 && strings.IndexByte(" \t)=!<>&|", ch) >= 0:
				break scan
			}
		}
		if quote != 0 {
			return operand{}, p.errf("%s: a quoted name does not end", p.s[p.i:])
		}
		text := p.s[p.i:j]
		pt, err := parsePath("$" + text[1:])
		if err != nil {
			return operand{}, p.errf("%s: %v", text, err)
		}
		if pt.variable != "" || pt.context || !pt.definite {
			return operand{}, p.errf("%s: a path in a filter must select one value", text)
		}
		p.i = j
		return operand{path: pt}, nil
	case c == '\'' || c == '"':
		var b strings.Builder
		j := p.i + 1
		for ; j < len(p.s) && p.s[j] != c; j++ {
			if p.s[j] == '\\' && j+1 < len(p.s) {
				j++
			}
			b.WriteByte(p.s[j])
		}
		if j >= len(p.s) {
			return operand{}, p.errf("unterminated string")
		}
		p.i = j + 1
		return operand{literal: b.String()}, nil
	case c == '/':
		return operand{}, p.errf("regular expressions are not supported")
	case c == '[' || c == '{':
		return operand{}, p.errf("array and object literals are not supported")
	}
	for _, kw := range []struct {
		s string
		v any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if strings.HasPrefix(rest, kw.s) {
			p.i += len(kw.s)
			return operand{literal: kw.v}, nil
		}
	}
	j := p.i
	for j < len(p.s) && strings.IndexByte("+-.eE0123456789", p.s[j]) >= 0 {
		j++
	}
	num := p.s[p.i:j]
	if num == "" {
		return operand{}, p.errf("expected @, $, a string, a number, true, false or null")
	}
	if _, ok := parseNum(num); !ok {
		return operand{}, p.errf("bad number %q", num)
	}
	p.i = j
	return operand{literal: json.Number(num)}, nil
}
