package asl

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	// The JSONata evaluator. github.com/blues/jsonata-go v1.5.4 was chosen
	// over its fork github.com/xiatechs/jsonata-go v1.8.8 because it
	// computes with IEEE doubles as jsonata-js (and so Step Functions) does:
	// the fork rounds arithmetic (22/7 is 3.14285715, 0.1+0.2 is 0.3) and,
	// run against the original's port of the jsonata-js test cases
	// (jsonata_test.go, 174 tests), fails 34 of them (13 wrong values, the
	// rest different error texts), where the original passes all. It also
	// has no dependencies; the fork brings four.
	jsonata "github.com/blues/jsonata-go"
	"github.com/blues/jsonata-go/jlib"
	"github.com/blues/jsonata-go/jlib/jxpath"
	"github.com/blues/jsonata-go/jtypes"
)

// ErrQueryEvaluation is a JSONata expression that failed or produced no
// value (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html,
// "States.QueryEvaluationError"). Unlike States.Runtime, Retry and Catch
// see it.
const ErrQueryEvaluation = "States.QueryEvaluationError"

// A jexpr is one {% ... %} expression, parsed at Parse. It is compiled
// again for each evaluation because jsonata-go binds variables into the
// compiled expression, and one state may run in many Map iterations at
// once.
type jexpr struct {
	src string // the text between {% and %}
}

// jsonataExpr reports whether s is a JSONata expression: a string that
// begins with "{%" and ends with "%}", with nothing outside them
// (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html).
func jsonataExpr(s string) (string, bool) {
	if len(s) >= 4 && strings.HasPrefix(s, "{%") && strings.HasSuffix(s, "%}") {
		return s[2 : len(s)-2], true
	}
	return "", false
}

// MaxJSONataBytes is the longest JSONata expression a definition may hold,
// in bytes between "{%" and "%}". jsonata-go's parser recurses once per
// token at most, with no depth limit of its own, and it runs in the
// process that loads the definition (serve's, at CreateStateMachine and at
// every restart), where Go's stack overflow is fatal: 4 MB of "-" ended
// serve. At this length the parser's stack stays under about 32 MB.
// AWS documents no limit; jsonata-js, which it runs, overflows its own
// stack far sooner on such nesting.
const MaxJSONataBytes = 64 << 10

func parseJexpr(src string) (*jexpr, error) {
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("empty JSONata expression")
	}
	if len(src) > MaxJSONataBytes {
		return nil, fmt.Errorf("JSONata expression of %d bytes: at most %d are accepted", len(src), MaxJSONataBytes)
	}
	if _, err := compileJSONata(src); err != nil {
		return nil, fmt.Errorf("JSONata expression {%%%s%%}: %v", src, err)
	}
	return &jexpr{src: src}, nil
}

// compileJSONata is jsonata.Compile with a panic of its parser returned as
// a syntax error. jsonata-go v1.5.4's lexer slices out of range on "!"
// followed by a multi-byte character ("!é"), which FuzzParse found; a
// definition is user input, and serve must not go down with it.
func compileJSONata(src string) (ex *jsonata.Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			ex, err = nil, fmt.Errorf("syntax error: the JSONata parser failed on it (%v)", r)
		}
	}()
	return jsonata.Compile(src)
}

// A jtmpl is a JSON value in a JSONata field (Arguments, Output, Assign's
// values, Items, ItemSelector, Error, Cause): any string in it that is
// entirely {% expr %} is evaluated; everything else is literal.
type jtmpl struct {
	lit   any
	expr  *jexpr
	keys  []string
	vals  []*jtmpl
	elems []*jtmpl
	isArr bool
	isObj bool
}

func parseJtmpl(v any) (*jtmpl, error) {
	switch x := v.(type) {
	case string:
		if src, ok := jsonataExpr(x); ok {
			e, err := parseJexpr(src)
			if err != nil {
				return nil, err
			}
			return &jtmpl{expr: e}, nil
		}
	case map[string]any:
		t := &jtmpl{isObj: true}
		dynamic := false
		for _, k := range sortedKeys(x) {
			sub, err := parseJtmpl(x[k])
			if err != nil {
				return nil, fmt.Errorf("field %q: %v", k, err)
			}
			dynamic = dynamic || !sub.static()
			t.keys = append(t.keys, k)
			t.vals = append(t.vals, sub)
		}
		if dynamic {
			return t, nil
		}
	case []any:
		t := &jtmpl{isArr: true}
		dynamic := false
		for i, e := range x {
			sub, err := parseJtmpl(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %v", i, err)
			}
			dynamic = dynamic || !sub.static()
			t.elems = append(t.elems, sub)
		}
		if dynamic {
			return t, nil
		}
	}
	return &jtmpl{lit: v}, nil
}

func (t *jtmpl) static() bool { return t.expr == nil && !t.isArr && !t.isObj }

func (t *jtmpl) eval(e *env, field string) (any, error) {
	switch {
	case t.expr != nil:
		return t.expr.eval(e, field)
	case t.isArr:
		out := make([]any, len(t.elems))
		for i, sub := range t.elems {
			v, err := sub.eval(e, field)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case t.isObj:
		out := make(map[string]any, len(t.keys))
		for i, k := range t.keys {
			v, err := t.vals[i].eval(e, field)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	}
	return t.lit, nil
}

func queryError(e *env, field, format string, a ...any) error {
	where := ""
	if e.ctx != nil {
		where = fmt.Sprintf("An error occurred while executing the state '%s'. ", e.ctx.st.name)
	}
	return &failure{Name: ErrQueryEvaluation, Cause: fmt.Sprintf("%sThe JSONata expression in the field '%s': %s", where, field, fmt.Sprintf(format, a...))}
}

// jsonataMu serialises evaluations: jsonata-go v1.5.4 names its shared
// built-in functions on every call (callableName.SetName), a data race when
// Map iterations, Parallel branches or child executions evaluate at once.
var jsonataMu sync.Mutex

// eval runs the expression with $states and the visible variables bound,
// in this process or through Options.JSONata. There is no context value:
// like Step Functions, `$` and bare field names at the top of an
// expression select nothing.
func (x *jexpr) eval(e *env, field string) (any, error) {
	var v any
	var err error
	if e.ctx != nil && e.ctx.x.jsonata != nil {
		v, err = x.evalElsewhere(e)
	} else {
		v, err = evalLocal(x.src, e.jsonataBindings())
	}
	var je *JSONataError
	switch {
	case err == nil:
		return v, nil
	case errors.As(err, &je):
		if je.Name != "" {
			return nil, &failure{Name: je.Name, Cause: je.Cause}
		}
		return nil, queryError(e, field, "%s", je.Cause)
	case e.ctx != nil && e.ctx.ctx.Err() != nil:
		// Stopped while a worker evaluated: the execution is aborting,
		// not failing.
		return nil, e.ctx.ctx.Err()
	}
	return nil, queryError(e, field, "{%%%s%%}: %v", x.src, err)
}

// evalElsewhere evaluates through Options.JSONata.
func (x *jexpr) evalElsewhere(e *env) (any, error) {
	vars, err := json.Marshal(e.jsonataVars())
	if err != nil {
		return nil, err
	}
	out, err := e.ctx.x.jsonata(e.ctx.ctx, x.src, vars)
	if err != nil {
		return nil, err
	}
	return decode(out)
}

// A JSONataError is why a JSONata expression has no value. Cause is the
// text of the state's States.QueryEvaluationError (after "The JSONata
// expression in the field 'F': "); Name, when set, is another ASL error
// the expression raised, with Cause its cause.
type JSONataError struct {
	Name  string `json:"error,omitempty"`
	Cause string `json:"cause"`
}

func (e *JSONataError) Error() string { return e.Cause }

// EvalJSONata evaluates expr with vars (a JSON object: a variable's name,
// without "$", to its value; "states" is $states) as an execution of this
// process would, and returns the value as JSON. A failure of the
// expression is a *JSONataError. It is what a JSONataFunc computes, in
// another process.
func EvalJSONata(expr string, vars json.RawMessage) (json.RawMessage, error) {
	v, err := decode(vars)
	obj, ok := v.(map[string]any)
	if err != nil || !ok {
		return nil, fmt.Errorf("the variables are not a JSON object")
	}
	out, err := evalLocal(expr, bindingsOf(obj))
	if err != nil {
		return nil, err
	}
	return marshal(out), nil
}

// evalLocal evaluates src in this process with bindings (jsonata-go's
// model) and returns its value in this package's model, or a
// *JSONataError.
func evalLocal(src string, bindings map[string]any) (any, error) {
	ex, err := compileJSONata(src)
	if err == nil {
		err = ex.RegisterExts(stepFunctionsExts)
	}
	if err == nil {
		err = ex.RegisterVars(bindings)
	}
	if err != nil {
		return nil, &JSONataError{Cause: err.Error()}
	}
	v, err := evalJSONata(ex)
	if errors.Is(err, jsonata.ErrUndefined) {
		return nil, &JSONataError{Cause: fmt.Sprintf("{%%%s%%} evaluated to undefined, which is not a JSON value", src)}
	}
	if err != nil {
		var f *failure
		if errors.As(err, &f) {
			return nil, &JSONataError{Name: f.Name, Cause: f.Cause}
		}
		return nil, &JSONataError{Cause: fmt.Sprintf("{%%%s%%}: %v", src, err)}
	}
	out, err := fromJSONata(v)
	if err != nil {
		return nil, &JSONataError{Cause: fmt.Sprintf("{%%%s%%}: %v", src, err)}
	}
	if jsonSizeOver(out, MaxJSONataValue) {
		return nil, &JSONataError{Name: ErrDataLimitExceeded, Cause: fmt.Sprintf(
			"The JSONata expression {%%%s%%} evaluated to a value of more than %d bytes.", src, MaxJSONataValue)}
	}
	return out, nil
}

// MaxJSONataValue is the largest value, in bytes of JSON, a JSONata
// expression may evaluate to: a larger one is States.DataLimitExceeded.
// No state input, output or variable may exceed MaxPayload, so such a
// value could only fail later; but serve's worker (Options.JSONata) sends
// it to serve's process, which holds several copies of it while decoding,
// and a few $pad("a", 1e9) at once would exhaust serve's memory instead of
// failing their executions. The limit is the same in process, so a value
// does not depend on where it was computed.
const MaxJSONataValue = 16 << 20

// jsonSizeOver reports whether v's JSON encoding has more than limit
// bytes (counting keys, U+2028, U+2029 and invalid UTF-8 as their bytes, not
// their longer escapes); it stops counting once over.
func jsonSizeOver(v any, limit int) bool {
	n := 0
	var walk func(v any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case string:
			n += len(x) + 2
			for i := 0; i < len(x) && n <= limit; i++ {
				switch c := x[i]; {
				case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
					n++
				case c < 0x20:
					n += 5 // \u00XX
				}
			}
		case json.Number:
			n += len(x)
		case []any:
			n += 2 + max(len(x)-1, 0)
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		case map[string]any:
			n += 2 + max(len(x)-1, 0)
			for k, e := range x {
				n += len(k) + 3
				if walk(e) {
					return true
				}
			}
		case bool:
			n += 5
			if x {
				n--
			}
		default: // nil
			n += 4
		}
		return n > limit
	}
	return walk(v)
}

// evalJSONata is ex.Eval under jsonataMu, with a panic of the evaluator
// returned as an error. jsonata-go v1.5.4's built-in functions panic on
// some arguments ($pad("a", 1e308) makes a slice of that length; its
// $distinct hashed arrays, see distinct); the expression and the data are
// user input, and one execution must not take the process and every other
// execution down with it, nor leave jsonataMu locked.
func evalJSONata(ex *jsonata.Expr) (v any, err error) {
	jsonataMu.Lock()
	defer jsonataMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("the JSONata evaluator failed on it (%v)", r)
		}
	}()
	return ex.Eval(nil)
}

// toJSONata converts a value of this package (numbers as json.Number) to
// the model jsonata-go computes on (numbers as float64).
func toJSONata(v any) any {
	switch x := v.(type) {
	case nil:
		// jsonata-go's null is a nil *interface{} (its evaluation of the
		// literal null); a plain nil is a missing field, so a null in
		// the input would read as undefined.
		return jsonataNull
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil
		}
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toJSONata(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toJSONata(e)
		}
		return out
	}
	return v
}

// jsonataNull is JSON null as jsonata-go represents it.
var jsonataNull *any

// jsonString is s as it is after a JSON round trip: each byte that is not
// valid UTF-8 becomes U+FFFD, as encoding/json writes it. jsonata-go makes
// such strings ($base64decode("/w==")); a value becomes JSON between
// states in Step Functions and on its way back from serve's JSONata
// workers, so it must not depend on whether it was.
func jsonString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // an invalid byte ranges as utf8.RuneError
	}
	return b.String()
}

// fromJSONata converts a jsonata-go result back to this package's model.
func fromJSONata(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return jsonString(x), nil
	case nil, bool:
		return x, nil
	case *any:
		if x == nil {
			return nil, nil
		}
		return fromJSONata(*x)
	case json.Number:
		return x, nil
	case float64:
		return floatNumber(x)
	case float32:
		return floatNumber(float64(x))
	case int:
		return intNumber(int64(x)), nil
	case int64:
		return intNumber(x), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var err error
			// JSON.stringify writes a function in an array as null.
			if out[i], err = fromJSONata(e); err != nil && err != errFunction {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			j, err := fromJSONata(e)
			if err == errFunction {
				continue // JSON.stringify leaves a function member out
			}
			if err != nil {
				return nil, err
			}
			out[jsonString(k)] = j
		}
		return out, nil
	}
	// A function is no JSON value: JSON.stringify makes it undefined (null
	// in an array, no member in an object), where jsonata-go's encoding
	// of a function is "".
	if jtypes.IsCallable(reflect.ValueOf(v)) {
		return nil, errFunction
	}
	// Anything else (a Go value jsonata-go made) goes through its JSON
	// encoding, as jsonata-js's JSON.stringify would.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("the result is not a JSON value (%T)", v)
	}
	return decode(b)
}

// errFunction is fromJSONata's answer for a JSONata function.
var errFunction = errors.New("the result is a function, which is not a JSON value")

func floatNumber(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("the result %v is not a JSON number", f)
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	return json.Number(b), nil
}

// stepFunctionsExts are the functions Step Functions adds to JSONata
// (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html,
// "JSONata functions provided by Step Functions"). They share their
// implementation with the intrinsic functions they stand for.
var stepFunctionsExts = map[string]jsonata.Extension{
	"partition": {Func: func(a, size any) (any, error) {
		return callExt("$partition", "States.ArrayPartition", a, size)
	}},
	"range": {Func: func(start, end, step any) (any, error) {
		return callExt("$range", "States.ArrayRange", start, end, step)
	}},
	"hash": {Func: func(data, alg any) (any, error) {
		return callExt("$hash", "States.Hash", data, alg)
	}},
	"uuid": {Func: func() string { return newUUID() }},
	// $random([seed]) is a number in [0, 1); with a seed, always the same
	// one for that seed.
	"random": {Func: func(seed jtypes.OptionalFloat64) float64 {
		if seed.IsSet() {
			return mrand.New(mrand.NewPCG(uint64(int64(seed.Float64)), 0)).Float64()
		}
		return mrand.Float64()
	}},
	// $formatNumber is jsonata-go's, less the arguments it never returns
	// on (see formatNumber).
	"formatNumber": {
		Func:             formatNumber,
		UndefinedHandler: jtypes.ArgUndefined(0),
		// As jsonata-go's: called with one or two arguments, the first
		// a string, the evaluation context is the number.
		EvalContextHandler: func(argv []reflect.Value) bool {
			return (len(argv) == 1 || len(argv) == 2) && jtypes.IsString(argv[0])
		},
	},
	// $distinct compares as jsonata-js does (see distinct).
	"distinct": {Func: distinct, UndefinedHandler: jtypes.ArgUndefined(0)},
	// $keys, $each and $spread walk an object's keys in sorted order
	// (sortedMapKeys).
	"keys":   {Func: keys, UndefinedHandler: jtypes.ArgUndefined(0), EvalContextHandler: jtypes.ArgCountEquals(0)},
	"each":   {Func: each, UndefinedHandler: jtypes.ArgUndefined(0), EvalContextHandler: jtypes.ArgCountEquals(0)},
	"spread": {Func: spread, UndefinedHandler: jtypes.ArgUndefined(0), EvalContextHandler: jtypes.ArgCountEquals(0)},
	// $parse(text) is the JSON value text holds (JSONata's $eval, which
	// Step Functions does not offer).
	"parse": {Func: func(s string) (any, error) {
		v, err := decode([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("$parse: invalid JSON: %v", err)
		}
		return toJSONata(v), nil
	}},
}

// formatNumber is jsonata-go's $formatNumber, except that a zero or
// negative number with a picture that has an exponent
// ($formatNumber(0, "0e0"), $formatNumber(-1, "0.0e0")) is an error:
// jsonata-go scales the number by 10 until it reaches the mantissa's
// minimum, which zero never does and a negative number never does either
// (it reaches -Inf and stays there), so the evaluation never returned,
// holding jsonataMu, and every JSONata evaluation of the process waited
// behind it. jsonata-js has the same loop; Step Functions documents no
// answer for it.
func formatNumber(value float64, picture string, options jtypes.OptionalValue) (string, error) {
	if value <= 0 && !math.IsInf(value, -1) && pictureHasExponent(value < 0, picture, options) {
		return "", fmt.Errorf("$formatNumber: the picture %q has an exponent, which cannot format %v (the evaluation would not end)", picture, value)
	}
	return jlib.FormatNumber(value, picture, options)
}

// distinct is $distinct as jsonata-js defines it: an array less the
// elements deep-equal to an earlier one, anything else as it is.
// jsonata-go v1.5.4 hashes each element: an array element panicked
// ($distinct([[1],[1]])), and objects were compared by their fmt.Sprint
// text, so {"a":1} and {"a":"1"} were one; a number came back null.
func distinct(v reflect.Value) any {
	v = jtypes.Resolve(v)
	if !v.IsValid() {
		return nil
	}
	if !jtypes.IsArray(v) {
		return v.Interface()
	}
	out := make([]any, 0, v.Len())
	var seen []any // the JSON values of out's elements that have one
	for i := range v.Len() {
		item := v.Index(i).Interface()
		j, err := fromJSONata(item)
		if err != nil {
			out = append(out, item)
			continue
		}
		if !slices.ContainsFunc(seen, func(s any) bool { return jsonEqual(s, j) }) {
			out = append(out, item)
			seen = append(seen, j)
		}
	}
	return out
}

// pictureHasExponent reports whether the subpicture $formatNumber formats
// a number of that sign with has an exponent part, as jsonata-go's
// jxpath.FormatNumber reads it: the exponent separator between the first
// and the last active character (a digit or a separator). A picture or
// options it would refuse report false; it refuses them itself.
func pictureHasExponent(negative bool, picture string, options jtypes.OptionalValue) bool {
	f := jxpath.NewDecimalFormat()
	if options.IsSet() {
		opts := jtypes.Resolve(options.Value)
		if !jtypes.IsMap(opts) {
			return false
		}
		for _, key := range opts.MapKeys() {
			k, ok1 := jtypes.AsString(key)
			v, ok2 := jtypes.AsString(opts.MapIndex(key))
			if !ok1 || !ok2 {
				return false
			}
			field, ok := map[string]*rune{
				"decimal-separator":  &f.DecimalSeparator,
				"grouping-separator": &f.GroupSeparator,
				"exponent-separator": &f.ExponentSeparator,
				"zero-digit":         &f.ZeroDigit,
				"digit":              &f.OptionalDigit,
				"pattern-separator":  &f.PatternSeparator,
			}[k]
			if !ok {
				continue
			}
			r, w := utf8.DecodeRuneInString(v)
			if r == utf8.RuneError || w != len(v) {
				return false
			}
			*field = r
		}
	}
	sub, rest, two := strings.Cut(picture, string(f.PatternSeparator))
	if strings.ContainsRune(rest, f.PatternSeparator) {
		return false
	}
	if two && negative && rest != "" {
		sub = rest
	}
	active := func(r rune) bool {
		if r == f.ExponentSeparator {
			return false
		}
		switch r {
		case f.DecimalSeparator, f.GroupSeparator, f.PatternSeparator, f.OptionalDigit:
			return true
		}
		return r-f.ZeroDigit >= 0 && r-f.ZeroDigit <= 9
	}
	first, last := strings.IndexFunc(sub, active), strings.LastIndexFunc(sub, active)
	if first < 0 {
		return false
	}
	return strings.ContainsRune(sub[first:last], f.ExponentSeparator)
}

func callExt(name, intrinsic string, args ...any) (any, error) {
	vals := make([]any, len(args))
	for i, a := range args {
		var err error
		if vals[i], err = fromJSONata(a); err != nil {
			return nil, fmt.Errorf("%s: argument %d: %v", name, i+1, err)
		}
	}
	v, err := callIntrinsic(intrinsic, vals)
	if err != nil {
		var f *failure
		if errors.As(err, &f) {
			return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(f.Cause, "The function "+intrinsic+" failed: "))
		}
		return nil, err
	}
	return toJSONata(v), nil
}

// sortedMapKeys is an object's keys in sorted order. jsonata-go walks an
// object, a Go map, in Go's random map order, so $keys, $each and $spread
// answered in a different order at each evaluation, and a redrive could
// take another branch than the run it redrives. jsonata-js keeps the
// order the keys were inserted in; efspipe keeps that order nowhere (state
// data is written with its keys sorted, as encoding/json writes a map),
// so sorted is the order it can keep everywhere. The wildcards * and **
// still walk an object in jsonata-go's order: its evaluator does that
// itself, where no extension reaches.
func sortedMapKeys(obj reflect.Value) []reflect.Value {
	keys := obj.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	return keys
}

// keys is jsonata-go's $keys (jlib.Keys) with the keys sorted: those of an
// object, or the union of those of an array's objects.
func keys(v reflect.Value) (any, error) {
	out, err := jlib.Keys(v)
	if ks, ok := out.([]string); ok {
		slices.Sort(ks)
	}
	return out, err
}

// each is jsonata-go's $each (jlib.Each) over an object's keys in sorted
// order: fn's results, those that are not undefined, in an array (one
// alone as it is, none undefined).
func each(obj reflect.Value, fn jtypes.Callable) (any, error) {
	obj = jtypes.Resolve(obj)
	if !jtypes.IsMap(obj) {
		return jlib.Each(obj, fn)
	}
	var results []any
	argv := make([]reflect.Value, fn.ParamCount())
	for _, k := range sortedMapKeys(obj) {
		for i := range argv {
			switch i {
			case 0:
				argv[i] = obj.MapIndex(k)
			case 1:
				argv[i] = k
			case 2:
				argv[i] = obj
			}
		}
		res, err := fn.Call(argv)
		if err != nil {
			return nil, err
		}
		if res.IsValid() && res.CanInterface() {
			results = append(results, res.Interface())
		}
	}
	switch len(results) {
	case 0:
		return nil, jtypes.ErrUndefined
	case 1:
		return results[0], nil
	}
	return results, nil
}

// spread is jsonata-go's $spread (jlib.Spread) with an object's keys in
// sorted order: an array of one-key objects, an array's objects spread in
// turn and flattened; anything else as it is.
func spread(v reflect.Value) (any, error) {
	r := jtypes.Resolve(v)
	switch {
	case jtypes.IsMap(r):
		var out []any
		for _, k := range sortedMapKeys(r) {
			if e := r.MapIndex(k); e.CanInterface() {
				out = append(out, map[string]any{k.String(): e.Interface()})
			}
		}
		return out, nil
	case jtypes.IsArray(r):
		var out []any
		for i := range r.Len() {
			res, err := spread(r.Index(i))
			if err != nil {
				return nil, err
			}
			if a, ok := res.([]any); ok {
				out = append(out, a...)
			} else if res != nil { // as jlib.Spread: nothing for an undefined
				out = append(out, res)
			}
		}
		return out, nil
	}
	return jlib.Spread(v)
}
