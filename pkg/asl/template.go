package asl

import (
	"fmt"
	"strings"
)

// A tmpl is a parsed payload template (Parameters, ItemSelector,
// ResultSelector): fields whose name ends in ".$" take their value from a
// path or an intrinsic function; everything else is copied as is.
type tmpl struct {
	lit    any // the whole value, when nothing below is dynamic
	static bool
	keys   []string // object: output keys
	vals   []*tmpl
	elems  []*tmpl // array
	isArr  bool
	field  string // the ".$" field name, for messages
	path   *path
	call   *call
}

func parseTemplate(v any) (*tmpl, error) {
	switch x := v.(type) {
	case map[string]any:
		t := &tmpl{static: true}
		for _, k := range sortedKeys(x) {
			var sub *tmpl
			if name, ok := strings.CutSuffix(k, ".$"); ok {
				s, isStr := x[k].(string)
				if !isStr {
					return nil, fmt.Errorf("field %q: the value of a field ending in \".$\" must be a string, got %s", k, typeName(x[k]))
				}
				sub = &tmpl{field: k}
				var err error
				if isIntrinsic(s) {
					sub.call, err = parseIntrinsic(s)
				} else {
					sub.path, err = parsePath(s)
				}
				if err != nil {
					return nil, fmt.Errorf("field %q: %v", k, err)
				}
				if _, dup := x[name]; dup {
					return nil, fmt.Errorf("fields %q and %q collide", name, k)
				}
				k = name
			} else {
				var err error
				if sub, err = parseTemplate(x[k]); err != nil {
					return nil, err
				}
			}
			t.static = t.static && sub.static
			t.keys = append(t.keys, k)
			t.vals = append(t.vals, sub)
		}
		if t.static {
			return &tmpl{lit: x, static: true}, nil
		}
		return t, nil
	case []any:
		t := &tmpl{isArr: true, static: true}
		for _, e := range x {
			sub, err := parseTemplate(e)
			if err != nil {
				return nil, err
			}
			t.static = t.static && sub.static
			t.elems = append(t.elems, sub)
		}
		if t.static {
			return &tmpl{lit: x, static: true}, nil
		}
		return t, nil
	}
	return &tmpl{lit: v, static: true}, nil
}

func (t *tmpl) eval(e *env) (any, error) {
	switch {
	case t.static:
		return t.lit, nil
	case t.call != nil:
		return t.call.eval(e)
	case t.path != nil:
		v, ok := e.resolve(t.path)
		if !ok {
			return nil, &failure{Name: ErrRuntime, Cause: fmt.Sprintf("The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", t.path.src, t.field, e.inputText(t.path))}
		}
		return v, nil
	case t.isArr:
		out := make([]any, len(t.elems))
		for i, sub := range t.elems {
			v, err := sub.eval(e)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	out := make(map[string]any, len(t.keys))
	for i, k := range t.keys {
		v, err := t.vals[i].eval(e)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// env is what paths and expressions are evaluated against: the state's
// effective input, the context object ($$), the variables in scope and,
// for JSONata, the rest of $states.
type env struct {
	input any
	ctx   *ctxObj
	vars  *varScope

	result, errorOutput  any  // $states.result, $states.errorOutput
	hasResult, hasErrOut bool // whether they are bound
	bindings             map[string]any
}

func (e *env) resolve(p *path) (any, bool) {
	switch {
	case p.context:
		return p.eval(e.ctx.value())
	case p.variable != "":
		v, ok := e.vars.lookup(p.variable)
		if !ok {
			return nil, false
		}
		return p.eval(v)
	}
	return p.eval(e.input)
}

func (e *env) inputText(p *path) string {
	switch {
	case p.context:
		return marshalString(e.ctx.value())
	case p.variable != "":
		v, ok := e.vars.lookup(p.variable)
		if !ok {
			return "(variable $" + p.variable + " is not assigned)"
		}
		return marshalString(v)
	}
	return marshalString(e.input)
}

// jsonataBindings are the JSONata variables of the state: $states and
// every workflow variable in scope, in jsonata-go's value model.
func (e *env) jsonataBindings() map[string]any {
	if e.bindings == nil {
		e.bindings = bindingsOf(e.jsonataVars())
	}
	return e.bindings
}

// jsonataVars are the variables of a JSONata expression, in this
// package's model: the visible variables, and $states.
func (e *env) jsonataVars() map[string]any {
	vars := map[string]any{}
	for k, v := range e.vars.visible() {
		vars[k] = v
	}
	states := map[string]any{"input": e.input}
	if e.ctx != nil {
		states["context"] = e.ctx.value()
	}
	if e.hasResult {
		states["result"] = e.result
	}
	if e.hasErrOut {
		states["errorOutput"] = e.errorOutput
	}
	vars["states"] = states
	return vars
}

// bindingsOf is vars in the model jsonata-go computes on.
func bindingsOf(vars map[string]any) map[string]any {
	b := make(map[string]any, len(vars))
	for k, v := range vars {
		b[k] = toJSONata(v)
	}
	return b
}
