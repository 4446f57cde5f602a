package asl

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// A rule is one Choice rule: a boolean combination or a comparison.
type rule struct {
	and, or []*rule
	not     *rule
	varPath *path
	op      string // comparison operator without the "Path" suffix
	lit     any    // the literal operand
	opPath  *path  // the operand of a *Path comparison
	next    string // top-level rules only

	assign *assigner // top-level rules only: Assign when the rule matches
	cond   *jexpr    // JSONata: Condition
}

// parseJSONataRule parses a Choice rule of a JSONata state: Condition,
// Next and, optionally, Assign
// (https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html).
func parseJSONataRule(raw any) (*rule, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a choice rule must be an object")
	}
	r := &rule{}
	for _, k := range sortedKeys(m) {
		v := m[k]
		switch k {
		case "Comment":
		case "Next":
			if r.next, ok = v.(string); !ok || r.next == "" {
				return nil, fmt.Errorf("field Next must be a non-empty string")
			}
		case "Condition":
			s, _ := v.(string)
			src, isExpr := jsonataExpr(s)
			if !isExpr {
				return nil, fmt.Errorf("Condition must be a {%% %%} expression")
			}
			var err error
			if r.cond, err = parseJexpr(src); err != nil {
				return nil, fmt.Errorf("Condition: %v", err)
			}
		case "Assign":
			var err error
			if r.assign, err = parseAssign(v, true); err != nil {
				return nil, fmt.Errorf("Assign: %v", err)
			}
		default:
			if _, isOp := comparisonKind[k]; isOp || k == "Variable" || k == "And" || k == "Or" || k == "Not" || strings.HasSuffix(k, "Path") {
				return nil, fmt.Errorf("field %q belongs to JSONPath choice rules; a JSONata rule has a Condition", k)
			}
			return nil, fmt.Errorf("unknown field %q in choice rule", k)
		}
	}
	if r.cond == nil {
		return nil, fmt.Errorf("a JSONata choice rule needs a Condition")
	}
	if r.next == "" {
		return nil, fmt.Errorf("a top-level choice rule needs Next")
	}
	return r, nil
}

var comparisonKind = map[string]string{
	"StringEquals": "string", "StringLessThan": "string", "StringGreaterThan": "string",
	"StringLessThanEquals": "string", "StringGreaterThanEquals": "string", "StringMatches": "string",
	"NumericEquals": "number", "NumericLessThan": "number", "NumericGreaterThan": "number",
	"NumericLessThanEquals": "number", "NumericGreaterThanEquals": "number",
	"BooleanEquals":   "boolean",
	"TimestampEquals": "timestamp", "TimestampLessThan": "timestamp", "TimestampGreaterThan": "timestamp",
	"TimestampLessThanEquals": "timestamp", "TimestampGreaterThanEquals": "timestamp",
	"IsNull": "test", "IsPresent": "test", "IsNumeric": "test", "IsString": "test",
	"IsBoolean": "test", "IsTimestamp": "test",
}

func parseRule(raw any, top bool) (*rule, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a choice rule must be an object")
	}
	r := &rule{}
	if n, ok := m["Next"]; ok {
		if !top {
			return nil, fmt.Errorf("field Next is only allowed in a top-level choice rule")
		}
		if r.next, ok = n.(string); !ok || r.next == "" {
			return nil, fmt.Errorf("field Next must be a non-empty string")
		}
	} else if top {
		return nil, fmt.Errorf("a top-level choice rule needs Next")
	}
	if a, ok := m["Assign"]; ok {
		if !top {
			return nil, fmt.Errorf("field Assign is only allowed in a top-level choice rule")
		}
		var err error
		if r.assign, err = parseAssign(a, false); err != nil {
			return nil, fmt.Errorf("Assign: %v", err)
		}
	}
	ops := 0
	for k, v := range m {
		switch k {
		case "Next", "Comment", "Variable", "Assign":
			continue
		case "And", "Or":
			arr, ok := v.([]any)
			if !ok || len(arr) == 0 {
				return nil, fmt.Errorf("%s must be a non-empty array of rules", k)
			}
			for _, e := range arr {
				sub, err := parseRule(e, false)
				if err != nil {
					return nil, err
				}
				if k == "And" {
					r.and = append(r.and, sub)
				} else {
					r.or = append(r.or, sub)
				}
			}
		case "Not":
			sub, err := parseRule(v, false)
			if err != nil {
				return nil, err
			}
			r.not = sub
		default:
			base, isPath := strings.CutSuffix(k, "Path")
			kind, known := comparisonKind[base]
			if !known || (isPath && (kind == "test" || base == "StringMatches")) {
				if _, known = comparisonKind[k]; !known {
					return nil, fmt.Errorf("unknown field %q in choice rule", k)
				}
				base, isPath, kind = k, false, comparisonKind[k]
			}
			r.op = base
			if isPath {
				s, ok := v.(string)
				if !ok {
					return nil, fmt.Errorf("%s must be a path string", k)
				}
				p, err := parsePath(s)
				if err != nil {
					return nil, fmt.Errorf("%s: %v", k, err)
				}
				r.opPath = p
			} else {
				if err := checkOperand(k, kind, v); err != nil {
					return nil, err
				}
				r.lit = v
			}
		}
		ops++
	}
	if ops != 1 {
		return nil, fmt.Errorf("a choice rule needs exactly one of And, Or, Not or a comparison operator, found %d", ops)
	}
	if r.op != "" {
		s, ok := m["Variable"].(string)
		if !ok {
			return nil, fmt.Errorf("comparison %s needs a Variable", r.op)
		}
		p, err := parsePath(s)
		if err != nil {
			return nil, fmt.Errorf("field Variable: %v", err)
		}
		r.varPath = p
	} else if _, ok := m["Variable"]; ok {
		return nil, fmt.Errorf("field Variable is not allowed with And, Or or Not")
	}
	return r, nil
}

func checkOperand(op, kind string, v any) error {
	ok := false
	switch kind {
	case "string":
		_, ok = v.(string)
	case "number":
		_, ok = toFloat(v)
	case "boolean", "test":
		_, ok = v.(bool)
	case "timestamp":
		if s, isStr := v.(string); isStr {
			_, ok = parseTimestamp(s)
		}
	}
	if !ok {
		return fmt.Errorf("%s needs a %s operand, got %s", op, kind, marshalString(v))
	}
	return nil
}

// parseTimestamp accepts the RFC 3339 profile of ISO 8601 that Step
// Functions requires: an uppercase T and an explicit Z or offset.
func parseTimestamp(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil && strings.ContainsRune(s, 'T')
}

func (r *rule) eval(e *env) (bool, error) {
	switch {
	case r.cond != nil:
		v, err := r.cond.eval(e, "Condition")
		if err != nil {
			return false, err
		}
		b, ok := v.(bool)
		if !ok {
			return false, queryError(e, "Condition", "must evaluate to a boolean, got %s", marshalString(v))
		}
		return b, nil
	case r.and != nil:
		for _, sub := range r.and {
			ok, err := sub.eval(e)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.or != nil:
		for _, sub := range r.or {
			ok, err := sub.eval(e)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.not != nil:
		ok, err := r.not.eval(e)
		return !ok, err
	}
	v, found := e.resolve(r.varPath)
	if r.op == "IsPresent" {
		return found == r.lit.(bool), nil
	}
	if !found {
		return false, &failure{Name: ErrRuntime, Cause: fmt.Sprintf("Invalid path '%s': The choice state's condition path references an invalid value.", r.varPath.src)}
	}
	operand := r.lit
	if r.opPath != nil {
		var ok bool
		if operand, ok = e.resolve(r.opPath); !ok {
			return false, &failure{Name: ErrRuntime, Cause: fmt.Sprintf("Invalid path '%s': The choice state's condition path references an invalid value.", r.opPath.src)}
		}
	}
	return compare(r.op, v, operand), nil
}

func compare(op string, v, operand any) bool {
	switch op {
	case "IsNull":
		return (v == nil) == operand.(bool)
	case "IsNumeric":
		_, ok := v.(json.Number)
		return ok == operand.(bool)
	case "IsString":
		_, ok := v.(string)
		return ok == operand.(bool)
	case "IsBoolean":
		_, ok := v.(bool)
		return ok == operand.(bool)
	case "IsTimestamp":
		s, ok := v.(string)
		if ok {
			_, ok = parseTimestamp(s)
		}
		return ok == operand.(bool)
	case "BooleanEquals":
		a, ok1 := v.(bool)
		b, ok2 := operand.(bool)
		return ok1 && ok2 && a == b
	case "StringMatches":
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		return ok1 && ok2 && stringMatches(a, b)
	}
	var c int
	switch kind := comparisonKind[op]; kind {
	case "string":
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false
		}
		c = strings.Compare(a, b)
	case "number":
		a, ok1 := toFloat(v)
		b, ok2 := toFloat(operand)
		if !ok1 || !ok2 {
			return false
		}
		c = cmpFloat(a, b)
	case "timestamp":
		as, ok1 := v.(string)
		bs, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false
		}
		a, ok1 := parseTimestamp(as)
		b, ok2 := parseTimestamp(bs)
		if !ok1 || !ok2 {
			return false
		}
		c = a.Compare(b)
	default:
		return false
	}
	switch {
	case strings.HasSuffix(op, "LessThanEquals"):
		return c <= 0
	case strings.HasSuffix(op, "GreaterThanEquals"):
		return c >= 0
	case strings.HasSuffix(op, "LessThan"):
		return c < 0
	case strings.HasSuffix(op, "GreaterThan"):
		return c > 0
	}
	return c == 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// stringMatches implements StringMatches: '*' matches any run of
// characters; "\*" is a literal star and "\\" a literal backslash.
func stringMatches(s, pattern string) bool {
	type tok struct {
		star bool
		c    rune
	}
	var toks []tok
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs):
			i++
			toks = append(toks, tok{c: rs[i]})
		case rs[i] == '*':
			toks = append(toks, tok{star: true})
		default:
			toks = append(toks, tok{c: rs[i]})
		}
	}
	str := []rune(s)
	// Greedy glob matching with backtracking to the last star.
	si, ti, starTi, starSi := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case ti < len(toks) && !toks[ti].star && toks[ti].c == str[si]:
			si++
			ti++
		case ti < len(toks) && toks[ti].star:
			starTi, starSi = ti, si
			ti++
		case starTi >= 0:
			starSi++
			si = starSi
			ti = starTi + 1
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}
