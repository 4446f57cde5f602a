package asl

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"math/big"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"
)

// intrinsicArity gives the allowed argument counts of each supported
// intrinsic function: min and max (-1: unbounded).
var intrinsicArity = map[string][2]int{
	"States.Format":         {1, -1},
	"States.StringToJson":   {1, 1},
	"States.JsonToString":   {1, 1},
	"States.Array":          {0, -1},
	"States.ArrayPartition": {2, 2},
	"States.ArrayContains":  {2, 2},
	"States.ArrayRange":     {3, 3},
	"States.ArrayGetItem":   {2, 2},
	"States.ArrayLength":    {1, 1},
	"States.ArrayUnique":    {1, 1},
	"States.Base64Encode":   {1, 1},
	"States.Base64Decode":   {1, 1},
	"States.Hash":           {2, 2},
	"States.JsonMerge":      {3, 3},
	"States.MathRandom":     {2, 3},
	"States.MathAdd":        {2, 2},
	"States.StringSplit":    {2, 2},
	"States.UUID":           {0, 0},
}

// A call is a parsed intrinsic function invocation.
type call struct {
	fn   string
	args []arg
}

type arg struct {
	lit  any // a literal, when path and call are nil
	path *path
	call *call
}

func isIntrinsic(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "States.") }

func parseIntrinsic(s string) (*call, error) {
	p := &intrinsicParser{s: s}
	p.space()
	c, err := p.call()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("intrinsic %q: unexpected text after ')' at offset %d", s, p.i)
	}
	return c, nil
}

type intrinsicParser struct {
	s string
	i int
}

func (p *intrinsicParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *intrinsicParser) errorf(format string, a ...any) error {
	return fmt.Errorf("intrinsic %q: %s at offset %d", p.s, fmt.Sprintf(format, a...), p.i)
}

func (p *intrinsicParser) call() (*call, error) {
	j := p.i
	for j < len(p.s) && p.s[j] != '(' {
		j++
	}
	name := strings.TrimSpace(p.s[p.i:j])
	ar, ok := intrinsicArity[name]
	if !ok {
		return nil, p.errorf("unknown or unsupported function %q", name)
	}
	if j >= len(p.s) {
		return nil, p.errorf("missing '('")
	}
	p.i = j + 1
	c := &call{fn: name}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
	} else {
		for {
			p.space()
			a, err := p.arg()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
			p.space()
			if p.i >= len(p.s) {
				return nil, p.errorf("missing ')'")
			}
			if p.s[p.i] == ')' {
				p.i++
				break
			}
			if p.s[p.i] != ',' {
				return nil, p.errorf("expected ',' or ')'")
			}
			p.i++
		}
	}
	if len(c.args) < ar[0] || (ar[1] >= 0 && len(c.args) > ar[1]) {
		return nil, fmt.Errorf("intrinsic %q: %s takes %s arguments, got %d", p.s, name, arityText(ar), len(c.args))
	}
	return c, nil
}

func arityText(ar [2]int) string {
	switch {
	case ar[1] < 0:
		return fmt.Sprintf("at least %d", ar[0])
	case ar[0] == ar[1]:
		return strconv.Itoa(ar[0])
	}
	return fmt.Sprintf("%d to %d", ar[0], ar[1])
}

func (p *intrinsicParser) arg() (arg, error) {
	if p.i >= len(p.s) {
		return arg{}, p.errorf("missing argument")
	}
	rest := p.s[p.i:]
	switch {
	case rest[0] == '\'':
		return p.str()
	case rest[0] == '$':
		// A path runs to the next ',' or ')' outside brackets and quotes.
		j, depth, quote := p.i, 0, byte(0)
		for ; j < len(p.s); j++ {
			c := p.s[j]
			if quote != 0 {
				if c == quote {
					quote = 0
				}
				continue
			}
			if c == '[' {
				depth++
			} else if c == ']' {
				depth--
			} else if (c == '\'' || c == '"') && depth > 0 {
				quote = c
			} else if depth == 0 && (c == ',' || c == ')') {
				break
			}
		}
		pt, err := parsePath(strings.TrimSpace(p.s[p.i:j]))
		if err != nil {
			return arg{}, err
		}
		p.i = j
		return arg{path: pt}, nil
	case strings.HasPrefix(rest, "States."):
		c, err := p.call()
		if err != nil {
			return arg{}, err
		}
		return arg{call: c}, nil
	case strings.HasPrefix(rest, "true"):
		p.i += 4
		return arg{lit: true}, nil
	case strings.HasPrefix(rest, "false"):
		p.i += 5
		return arg{lit: false}, nil
	case strings.HasPrefix(rest, "null"):
		p.i += 4
		return arg{lit: nil}, nil
	}
	j := p.i
	for j < len(p.s) && strings.IndexByte("+-0123456789.eE", p.s[j]) >= 0 {
		j++
	}
	num := p.s[p.i:j]
	if _, err := strconv.ParseFloat(num, 64); num == "" || err != nil {
		return arg{}, p.errorf("bad argument")
	}
	p.i = j
	return arg{lit: json.Number(strings.TrimPrefix(num, "+"))}, nil
}

// str parses a single-quoted literal. \' and \\ are unescaped; \{ and \}
// are kept for States.Format, which treats them as literal braces.
func (p *intrinsicParser) str() (arg, error) {
	var b strings.Builder
	for j := p.i + 1; j < len(p.s); j++ {
		c := p.s[j]
		switch {
		case c == '\\' && j+1 < len(p.s) && (p.s[j+1] == '\'' || p.s[j+1] == '\\'):
			j++
			b.WriteByte(p.s[j])
		case c == '\'':
			p.i = j + 1
			return arg{lit: b.String()}, nil
		default:
			b.WriteByte(c)
		}
	}
	return arg{}, p.errorf("unterminated string")
}

// intrinsicError is a States.Runtime failure in an intrinsic function.
func intrinsicError(fn string, format string, a ...any) error {
	return &failure{Name: ErrRuntime, Cause: fmt.Sprintf("The function %s failed: %s", fn, fmt.Sprintf(format, a...))}
}

func (c *call) eval(e *env) (any, error) {
	vals := make([]any, len(c.args))
	for i, a := range c.args {
		switch {
		case a.call != nil:
			v, err := a.call.eval(e)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		case a.path != nil:
			v, ok := e.resolve(a.path)
			if !ok {
				return nil, &failure{Name: ErrRuntime, Cause: fmt.Sprintf("The JSONPath %s in function %s could not be found in the input %s", a.path.src, c.fn, e.inputText(a.path))}
			}
			vals[i] = v
		default:
			vals[i] = a.lit
		}
	}
	return callIntrinsic(c.fn, vals)
}

func callIntrinsic(fn string, v []any) (any, error) {
	str := func(i int) (string, error) {
		s, ok := v[i].(string)
		if !ok {
			return "", intrinsicError(fn, "argument %d must be a string, got %s", i+1, typeName(v[i]))
		}
		return s, nil
	}
	integer := func(i int) (int64, error) {
		n, ok := toInt(v[i])
		if !ok {
			return 0, intrinsicError(fn, "argument %d must be an integer, got %s", i+1, marshalString(v[i]))
		}
		return n, nil
	}
	// rounded is argument i as the nearest integer: AWS rounds the
	// non-integer numbers given to States.ArrayPartition, ArrayRange,
	// MathRandom and MathAdd ("If you specify a non-integer value ...,
	// Step Functions will round it off to the nearest integer",
	// https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html).
	// Halves round away from zero (math.Round); the page does not say.
	rounded := func(i int) (int64, error) {
		if n, ok := toInt(v[i]); ok {
			return n, nil
		}
		f, ok := toFloat(v[i])
		if !ok || math.IsNaN(f) || math.Abs(f) > 1<<53 {
			return 0, intrinsicError(fn, "argument %d must be a number, got %s", i+1, marshalString(v[i]))
		}
		return int64(math.Round(f)), nil
	}
	array := func(i int) ([]any, error) {
		a, ok := v[i].([]any)
		if !ok {
			return nil, intrinsicError(fn, "argument %d must be an array, got %s", i+1, typeName(v[i]))
		}
		return a, nil
	}
	switch fn {
	case "States.Format":
		tmpl, err := str(0)
		if err != nil {
			return nil, err
		}
		return format(tmpl, v[1:])
	case "States.StringToJson":
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		out, err := decode([]byte(s))
		if err != nil {
			return nil, intrinsicError(fn, "invalid JSON: %v", err)
		}
		return out, nil
	case "States.JsonToString":
		return marshalString(v[0]), nil
	case "States.Array":
		return append([]any{}, v...), nil
	case "States.ArrayPartition":
		a, err := array(0)
		if err != nil {
			return nil, err
		}
		n, err := rounded(1)
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return nil, intrinsicError(fn, "chunk size must be positive, got %d", n)
		}
		out := []any{}
		for i := 0; i < len(a); i += int(n) {
			out = append(out, append([]any{}, a[i:min(len(a), i+int(n))]...))
		}
		return out, nil
	case "States.ArrayContains":
		a, err := array(0)
		if err != nil {
			return nil, err
		}
		for _, x := range a {
			if jsonEqual(x, v[1]) {
				return true, nil
			}
		}
		return false, nil
	case "States.ArrayRange":
		var n [3]int64
		for i := range n {
			x, err := rounded(i)
			if err != nil {
				return nil, err
			}
			n[i] = x
		}
		start, end, step := n[0], n[1], n[2]
		if step == 0 {
			return nil, intrinsicError(fn, "step must not be 0")
		}
		// The distance and the step as unsigned magnitudes: end-start
		// overflows int64 for far apart ends (States.ArrayRange(
		// -9223372036854775808, 9223372036854775807, 1) was a count of 0).
		count := int64(0)
		var span, stride uint64
		switch {
		case step > 0 && end >= start:
			span, stride = uint64(end)-uint64(start), uint64(step)
		case step < 0 && end <= start:
			span, stride = uint64(start)-uint64(end), -uint64(step)
		}
		if stride != 0 {
			q := span / stride
			if q >= 1000 {
				n := new(big.Int).SetUint64(q)
				return nil, intrinsicError(fn, "the array would have %s elements; at most 1000 are allowed", n.Add(n, big.NewInt(1)))
			}
			count = int64(q) + 1
		}
		out := make([]any, 0, count)
		for i := range count {
			out = append(out, intNumber(start+i*step))
		}
		return out, nil
	case "States.ArrayGetItem":
		a, err := array(0)
		if err != nil {
			return nil, err
		}
		i, err := integer(1)
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= int64(len(a)) {
			return nil, intrinsicError(fn, "index %d out of bounds for an array of %d", i, len(a))
		}
		return a[i], nil
	case "States.ArrayLength":
		a, err := array(0)
		if err != nil {
			return nil, err
		}
		return intNumber(int64(len(a))), nil
	case "States.ArrayUnique":
		a, err := array(0)
		if err != nil {
			return nil, err
		}
		out := []any{}
	next:
		for _, x := range a {
			for _, y := range out {
				if jsonEqual(x, y) {
					continue next
				}
			}
			out = append(out, x)
		}
		return out, nil
	case "States.Base64Encode":
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		if len(s) > 10000 {
			return nil, intrinsicError(fn, "input longer than 10000 characters")
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		if len(s) > 10000 {
			return nil, intrinsicError(fn, "input longer than 10000 characters")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, intrinsicError(fn, "invalid base64: %v", err)
		}
		if !utf8.Valid(b) {
			return nil, intrinsicError(fn, "decoded data is not UTF-8 text")
		}
		return string(b), nil
	case "States.Hash":
		var data string
		if s, ok := v[0].(string); ok {
			data = s
		} else {
			data = marshalString(v[0])
		}
		alg, err := str(1)
		if err != nil {
			return nil, err
		}
		var h hash.Hash
		switch alg {
		case "MD5":
			h = md5.New()
		case "SHA-1":
			h = sha1.New()
		case "SHA-256":
			h = sha256.New()
		case "SHA-384":
			h = sha512.New384()
		case "SHA-512":
			h = sha512.New()
		default:
			return nil, intrinsicError(fn, "unsupported algorithm %q (MD5, SHA-1, SHA-256, SHA-384, SHA-512)", alg)
		}
		h.Write([]byte(data))
		return hex.EncodeToString(h.Sum(nil)), nil
	case "States.JsonMerge":
		a, ok1 := v[0].(map[string]any)
		b, ok2 := v[1].(map[string]any)
		if !ok1 || !ok2 {
			return nil, intrinsicError(fn, "the first two arguments must be objects")
		}
		if deep, ok := v[2].(bool); !ok || deep {
			return nil, intrinsicError(fn, "the third argument must be false (deep merge is not supported)")
		}
		out := make(map[string]any, len(a)+len(b))
		for k, x := range a {
			out[k] = x
		}
		for k, x := range b {
			out[k] = x
		}
		return out, nil
	case "States.MathRandom":
		lo, err := rounded(0)
		if err != nil {
			return nil, err
		}
		hi, err := rounded(1)
		if err != nil {
			return nil, err
		}
		if hi <= lo {
			return nil, intrinsicError(fn, "end %d must be greater than start %d", hi, lo)
		}
		var r *mrand.Rand
		if len(v) == 3 {
			seed, err := rounded(2)
			if err != nil {
				return nil, err
			}
			r = mrand.New(mrand.NewPCG(uint64(seed), 0))
		} else {
			r = mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64()))
		}
		// hi-lo as unsigned: it overflows int64 for far apart ends, and
		// Int64N panics on the negative result.
		return intNumber(lo + int64(r.Uint64N(uint64(hi)-uint64(lo)))), nil
	case "States.MathAdd":
		a, err := rounded(0)
		if err != nil {
			return nil, err
		}
		b, err := rounded(1)
		if err != nil {
			return nil, err
		}
		sum := a + b
		if (b > 0 && sum < a) || (b < 0 && sum > a) {
			return nil, intrinsicError(fn, "the sum of %d and %d is out of range", a, b)
		}
		return intNumber(sum), nil
	case "States.StringSplit":
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		d, err := str(1)
		if err != nil {
			return nil, err
		}
		// Every character of the delimiter separates, and empty tokens are dropped.
		parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(d, r) })
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	case "States.UUID":
		return newUUID(), nil
	}
	return nil, intrinsicError(fn, "not supported")
}

// format implements States.Format: each {} takes the next argument; \{ and
// \} are literal braces.
func format(tmpl string, args []any) (any, error) {
	var b strings.Builder
	used := 0
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		switch {
		case c == '\\' && i+1 < len(tmpl) && (tmpl[i+1] == '{' || tmpl[i+1] == '}' || tmpl[i+1] == '\\'):
			i++
			b.WriteByte(tmpl[i])
		case c == '{' && i+1 < len(tmpl) && tmpl[i+1] == '}':
			if used >= len(args) {
				return nil, intrinsicError("States.Format", "more placeholders than arguments")
			}
			switch a := args[used].(type) {
			case string:
				b.WriteString(a)
			case json.Number:
				b.WriteString(string(a))
			case bool, nil:
				b.WriteString(marshalString(a))
			default:
				return nil, intrinsicError("States.Format", "argument %d is an %s; only strings, numbers, booleans and null can be formatted", used+2, typeName(a))
			}
			used++
			i++
		case c == '{' || c == '}':
			return nil, intrinsicError("States.Format", "unescaped %q in template", c)
		default:
			b.WriteByte(c)
		}
	}
	if used != len(args) {
		return nil, intrinsicError("States.Format", "%d arguments for %d placeholders", len(args), used)
	}
	return b.String(), nil
}

func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
