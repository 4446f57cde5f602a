package sfnlocal

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"unicode"

	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/statemachine"
)

const lambdaInvoke = "arn:aws:states:::lambda:invoke"

// parseDefinition is CreateStateMachine's check: the engine must accept
// the definition, and every Task must name one of efspipe's stages (a
// Lambda function name or ARN, plain or through lambda:invoke), since those
// are the only functions that exist here.
func parseDefinition(def string) (*asl.Machine, error) {
	m, err := asl.Parse([]byte(def))
	var de *asl.DefinitionError
	if errors.As(err, &de) {
		where := "the top level"
		if de.State != "" {
			where = fmt.Sprintf("state %q", de.State)
		}
		if de.Field != "" {
			where += fmt.Sprintf(", field %q", de.Field)
		}
		return nil, errorf("InvalidDefinition", "Invalid State Machine Definition: '%s: %s'", where, de.Msg)
	}
	if err != nil {
		return nil, errorf("InvalidDefinition", "Invalid State Machine Definition: '%v'", err)
	}
	var doc states
	if err := json.Unmarshal([]byte(def), &doc); err != nil {
		return nil, errorf("InvalidDefinition", "Invalid State Machine Definition: '%v'", err)
	}
	if err := doc.checkResources(); err != nil {
		return nil, err
	}
	return m, nil
}

// states is the part of a definition that names resources.
type states struct {
	States map[string]struct {
		Type       string
		Resource   string
		Parameters struct {
			FunctionName any
		}
		Arguments     any // JSONata: {"FunctionName": ..., "Payload": ...} or an expression
		Iterator      *states
		ItemProcessor *states
		Branches      []states
	}
}

func (d states) checkResources() error {
	names := make([]string, 0, len(d.States))
	for n := range d.States {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		st := d.States[name]
		for _, sub := range append([]*states{st.Iterator, st.ItemProcessor}, ptrs(st.Branches)...) {
			if sub != nil {
				if err := sub.checkResources(); err != nil {
					return err
				}
			}
		}
		if st.Type != "Task" {
			continue
		}
		field, fn := "Resource", st.Resource
		if st.Resource == lambdaInvoke {
			field = "Parameters.FunctionName"
			given := st.Parameters.FunctionName
			if args, isObj := st.Arguments.(map[string]any); isObj {
				field, given = "Arguments.FunctionName", args["FunctionName"]
			} else if st.Arguments != nil {
				field = "Arguments"
			}
			s, ok := given.(string)
			if !ok {
				return errorf("InvalidDefinition", "Invalid State Machine Definition: 'state %q, field %q: the local endpoint needs a static FunctionName naming an efspipe stage'", name, field)
			}
			fn = s
		}
		if _, ok := statemachine.FunctionOf(fn); !ok {
			return errorf("InvalidDefinition", "Invalid State Machine Definition: 'state %q, field %q: %q is not an efspipe stage (locally, Task states run efspipe-{ingest,split,compress,checkpoint,finalize} by name or Lambda ARN, plain or through %s)'", name, field, fn, lambdaInvoke)
		}
	}
	return nil
}

func ptrs(s []states) []*states {
	out := make([]*states, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// checkName validates a state machine or execution name as AWS does: 1–80
// characters, no whitespace, no control characters and none of
// < > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /
func checkName(name string) error {
	n := 0
	for _, r := range name {
		n++
		switch {
		case unicode.IsSpace(r), r < 0x20, r >= 0x7f && r <= 0x9f:
			return errorf("InvalidName", "Invalid Name: '%s' (whitespace and control characters are not allowed)", name)
		case containsRune(`<>{}[]?*"#%\^|~`+"`"+`$&,;:/`, r):
			return errorf("InvalidName", "Invalid Name: '%s' (%q is not allowed)", name, r)
		}
	}
	if n < 1 || n > 80 {
		return errorf("InvalidName", "Invalid Name: '%s' (1 to 80 characters)", name)
	}
	return nil
}

func containsRune(s string, r rune) bool {
	for _, c := range s {
		if c == r {
			return true
		}
	}
	return false
}
