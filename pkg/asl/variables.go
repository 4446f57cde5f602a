package asl

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Workflow variables (https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html).
//
// A varScope holds the variables of one thread: the top level, one Map
// iteration or one Parallel branch. A thread reads its own variables and,
// read-only, those of the scopes around it; what it assigns never leaves
// it. A scope is written only by its own thread, one state at a time, and
// the scopes around it do not change while it runs (their thread is
// waiting in the Map or Parallel state), so no lock is needed.
type varScope struct {
	parent *varScope
	vals   map[string]any
}

func (s *varScope) lookup(name string) (any, bool) {
	for ; s != nil; s = s.parent {
		if v, ok := s.vals[name]; ok {
			return v, true
		}
	}
	return nil, false
}

// visible returns every variable the scope can read, inner names first.
func (s *varScope) visible() map[string]any {
	out := map[string]any{}
	for ; s != nil; s = s.parent {
		for k, v := range s.vals {
			if _, shadowed := out[k]; !shadowed {
				out[k] = v
			}
		}
	}
	return out
}

// set applies assignments after the state that made them finished: every
// expression of a state saw the values from when it was entered.
func (s *varScope) set(vals map[string]any) {
	if len(vals) == 0 {
		return
	}
	if s.vals == nil {
		s.vals = make(map[string]any, len(vals))
	}
	for k, v := range vals {
		s.vals[k] = v
	}
}

func (s *varScope) child() *varScope { return &varScope{parent: s} }

// checkVarName applies the naming rules of the workflow-variables page:
// letters, digits and underscores, not starting with a digit, at most 80
// characters, and not the reserved name "states".
func checkVarName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 80 {
		return fmt.Errorf("variable name %q must be 1 to 80 characters", name)
	}
	if name == "states" {
		return fmt.Errorf("variable name \"states\" is reserved")
	}
	for i, r := range name {
		if !(r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))) {
			return fmt.Errorf("variable name %q: only letters, digits and '_' are allowed, and it must not start with a digit", name)
		}
	}
	return nil
}

// An assigner is a parsed Assign field. In a JSONPath state its keys may
// end in ".$" (a path, a $variable or an intrinsic); in a JSONata state its
// values may hold {% expressions %}.
type assigner struct {
	names []string
	jp    *tmpl
	ja    *jtmpl
}

func parseAssign(v any, jsonataQL bool) (*assigner, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("must be an object")
	}
	a := &assigner{}
	for _, k := range sortedKeys(m) {
		name := k
		if jsonataQL {
			if strings.HasSuffix(k, ".$") {
				return nil, fmt.Errorf("%q: keys ending in \".$\" belong to JSONPath; a JSONata state uses {%% %%} expressions", k)
			}
		} else {
			name = strings.TrimSuffix(k, ".$")
		}
		if err := checkVarName(name); err != nil {
			return nil, err
		}
		a.names = append(a.names, name)
	}
	var err error
	if jsonataQL {
		a.ja, err = parseJtmpl(m)
	} else {
		a.jp, err = parseTemplate(m)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (a *assigner) eval(e *env) (map[string]any, error) {
	if a == nil {
		return nil, nil
	}
	var v any
	var err error
	if a.ja != nil {
		v, err = a.ja.eval(e, "Assign")
	} else {
		v, err = a.jp.eval(e)
	}
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// evalAssigns evaluates a state's Assign and a Choice rule's
// together: both see the values from state entry.
func evalAssigns(e *env, as ...*assigner) (map[string]any, error) {
	var out map[string]any
	for _, a := range as {
		m, err := a.eval(e)
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			if out == nil {
				out = map[string]any{}
			}
			out[k] = v
		}
	}
	return out, nil
}

// assignedNames lists the variables a state may assign, with the field
// that assigns each.
func (st *state) assignedNames() map[string]string {
	out := map[string]string{}
	add := func(a *assigner, field string) {
		if a == nil {
			return
		}
		for _, n := range a.names {
			if _, ok := out[n]; !ok {
				out[n] = field
			}
		}
	}
	add(st.assign, "Assign")
	for i, r := range st.choices {
		add(r.assign, fmt.Sprintf("Choices[%d]", i))
	}
	for i, c := range st.catch {
		add(c.assign, fmt.Sprintf("Catch[%d]", i))
	}
	return out
}

// checkScopes refuses a state inside a Map or Parallel that assigns a
// variable already assigned in a scope around it: "you can't assign a
// variable in an inner scope with the same name as a variable in an outer
// scope" (workflow-variables.html, "Variable scope").
func checkScopes(sc *scope, outer map[string]bool) error {
	mine := map[string]bool{}
	for _, name := range sortedKeys2(sc.states) {
		st := sc.states[name]
		names := st.assignedNames()
		for _, n := range sortedKeys3(names) {
			if outer[n] {
				return &DefinitionError{State: name, Field: names[n], Msg: fmt.Sprintf("variable %q is assigned in an outer scope; a Map iteration or Parallel branch may read it but not assign it", n)}
			}
			mine[n] = true
		}
	}
	inner := make(map[string]bool, len(outer)+len(mine))
	for n := range outer {
		inner[n] = true
	}
	for n := range mine {
		inner[n] = true
	}
	for _, name := range sortedKeys2(sc.states) {
		st := sc.states[name]
		if st.processor != nil {
			// A DISTRIBUTED Map's items run as child executions, which
			// start with no variables.
			outer := inner
			if st.dist != nil {
				outer = nil
			}
			if err := checkScopes(st.processor, outer); err != nil {
				return err
			}
		}
		for _, br := range st.branches {
			if err := checkScopes(br, inner); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys3(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
