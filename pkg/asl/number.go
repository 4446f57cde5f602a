package asl

import (
	"fmt"
	"strings"
)

// A numField is a numeric setting of a state that the definition may give
// three ways: a literal (TimeoutSeconds: 30), in a JSONPath state a
// reference path into the input (TimeoutSecondsPath: "$.timeout"), or in a
// JSONata state an expression in the literal field (TimeoutSeconds:
// "{% $timeout %}"). Step Functions dropped the *Path fields from JSONata
// for that reason (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html,
// "No more Path fields"). The fields that take one are TimeoutSeconds,
// MaxConcurrency, ToleratedFailurePercentage, ToleratedFailureCount,
// ItemBatcher's MaxItemsPerBatch and MaxInputBytesPerBatch, and
// ReaderConfig's MaxItems.
type numField struct {
	name string  // the literal field's name: TimeoutSeconds, ...
	rule numRule // the values it accepts
	lit  num     // the literal's value, when path and expr are nil
	path *path   // NamePath (JSONPath)
	expr *jexpr  // Name: "{% ... %}" (JSONata)
}

// A num is a field's value: an integer field's exactly (an int64 does not
// survive a float64 past 2^53), any field's as a float64.
type num struct {
	f float64
	i int64
}

// A numRule is the range of values a numeric field accepts.
type numRule struct {
	integer bool
	min     float64 // inclusive
	max     float64 // inclusive; 0: no upper bound
}

var (
	positiveInteger    = numRule{integer: true, min: 1}
	nonNegativeInteger = numRule{integer: true}
	percentage         = numRule{max: 100}
	// timeoutSeconds: a Task's TimeoutSeconds, at most the 99999999 AWS
	// gives as its default (https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html);
	// more would overflow a time.Duration past 9,223,372,036 seconds and
	// time out at once.
	timeoutSeconds = numRule{integer: true, min: 1, max: 99999999}
	// waitSeconds: a Wait state's Seconds, "from 0 up to 99999999"
	// (https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html);
	// unbounded, 10000000000 overflowed the time.Duration and the Wait
	// ended at once.
	waitSeconds = numRule{integer: true, max: 99999999}
)

func (r numRule) String() string {
	kind := "a number"
	if r.integer {
		kind = "an integer"
	}
	switch {
	case r.max > 0 && r.integer:
		return fmt.Sprintf("%s from %.0f to %.0f", kind, r.min, r.max)
	case r.max > 0:
		return fmt.Sprintf("%s from %g to %g", kind, r.min, r.max)
	case r.min == 1 && r.integer:
		return "a positive integer"
	case r.min == 0 && r.integer:
		return "a non-negative integer"
	}
	return fmt.Sprintf("%s of at least %g", kind, r.min)
}

// accepts reports the value of v when it is a JSON number the rule allows.
func (r numRule) accepts(v any) (num, bool) {
	var n num
	if r.integer {
		i, ok := toInt(v)
		if !ok {
			return n, false
		}
		n = num{f: float64(i), i: i}
	} else {
		f, ok := toFloat(v)
		if !ok {
			return n, false
		}
		n = num{f: f, i: int64(f)}
	}
	return n, n.f >= r.min && (r.max == 0 || n.f <= r.max)
}

// parseNumField reads the field name, and its name+"Path" form, from m,
// the object that holds them (a state, an ItemBatcher, a ReaderConfig).
// It returns nil when neither is given. bad reports a definition error
// under the field it names; jsonata is the query language of the state.
func parseNumField(m map[string]any, name string, rule numRule, jsonata bool, bad badFunc) (*numField, error) {
	f := &numField{name: name, rule: rule}
	v, hasLit := m[name]
	pv, hasPath := m[name+"Path"]
	switch {
	case hasLit && hasPath:
		return nil, bad(name+"Path", "%s and %sPath are mutually exclusive", name, name)
	case hasPath && jsonata:
		return nil, bad(name+"Path", "%sPath belongs to the JSONPath query language; give %s: \"{%% ... %%}\"", name, name)
	case hasPath:
		s, _ := pv.(string)
		p, err := parseRefPath(s)
		if err != nil {
			return nil, bad(name+"Path", "%v", err)
		}
		f.path = p
		return f, nil
	case !hasLit:
		return nil, nil
	}
	if s, isStr := v.(string); isStr && jsonata {
		src, isExpr := jsonataExpr(s)
		if !isExpr {
			return nil, bad(name, "must be %s or a {%% %%} expression", rule)
		}
		e, err := parseJexpr(src)
		if err != nil {
			return nil, bad(name, "%v", err)
		}
		f.expr = e
		return f, nil
	}
	n, ok := rule.accepts(v)
	if !ok {
		return nil, bad(name, "must be %s", rule)
	}
	f.lit = n
	return f, nil
}

// value is the field's value for one run of state st: the literal, the
// path evaluated on pathInput, or the expression evaluated in e; zero for
// a field not given (nil). A path
// that selects no acceptable value is States.Runtime, as for every
// reference path; an expression, States.QueryEvaluationError, which Retry
// and Catch see ("JSONata Runtime Errors", transforming-data.html).
func (f *numField) value(st *state, e *env, pathInput any) (num, error) {
	switch {
	case f == nil:
		return num{}, nil
	case f.path != nil:
		v, ok := f.path.eval(pathInput)
		n, accepted := f.rule.accepts(v)
		if !ok || !accepted {
			return num{}, runtimeErr("An error occurred while executing the state '%s'. %sPath %s does not reference %s", st.name, f.name, f.path.src, f.rule)
		}
		return n, nil
	case f.expr != nil:
		v, err := f.expr.eval(e, f.name)
		if err != nil {
			return num{}, err
		}
		n, accepted := f.rule.accepts(v)
		if !accepted {
			return num{}, queryError(e, f.name, "{%%%s%%} evaluated to %s; %s must be %s", f.expr.src, truncate(marshalString(v), 100), f.name, f.rule)
		}
		return n, nil
	}
	return f.lit, nil
}

// intValue is value for a field whose rule is integral.
func (f *numField) intValue(st *state, e *env, pathInput any) (int64, error) {
	n, err := f.value(st, e, pathInput)
	return n.i, err
}

// truncate shortens s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}
