package sfnlocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/statemachine"
)

const lambdaInvoke = "arn:aws:states:::lambda:invoke"

// parseDefinition is CreateStateMachine's check: the engine must accept
// the definition, and every Task must name one of efspipe's stages (a
// Lambda function name or ARN, plain or through lambda:invoke), since those
// are the only functions that exist here.
func parseDefinition(def string, objects bool) (*asl.Machine, error) {
	if err := checkDefinitionSize(def); err != nil {
		return nil, err
	}
	m, d := diagnose(def, objects)
	if d != nil {
		return nil, errorf("InvalidDefinition", "Invalid State Machine Definition: '%s'", d.Message)
	}
	return m, nil
}

// maxDefinition is the longest definition CreateStateMachine,
// UpdateStateMachine, ValidateStateMachineDefinition and TestState take
// (their definition parameter's length constraint, 1,048,576; the API
// reference pages of each).
const maxDefinition = 1 << 20

// checkDefinitionSize refuses a definition over maxDefinition characters
// (Unicode code points, as Smithy's length constraint counts them) as AWS
// does, with ValidationException.
func checkDefinitionSize(def string) error {
	if len(def) > maxDefinition && utf8.RuneCountInString(def) > maxDefinition {
		return errorf("ValidationException", "1 validation error detected: Value at 'definition' failed to satisfy constraint: Member must have length less than or equal to %d", maxDefinition)
	}
	return nil
}

// diagnostic is one finding of ValidateStateMachineDefinition.
type diagnostic struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
}

// diagnose runs parseDefinition's checks and describes the first problem
// found, or returns the machine. The engine stops at the first problem,
// so there is at most one diagnostic.
func diagnose(def string, objects bool) (*asl.Machine, *diagnostic) {
	if strings.TrimSpace(def) == "" {
		return nil, &diagnostic{Severity: "ERROR", Code: "MISSING_DESCRIPTION", Message: "the definition is empty"}
	}
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
		return nil, &diagnostic{Severity: "ERROR", Code: codeOf(de), Message: where + ": " + de.Msg, Location: location(def, de.State, de.Field)}
	}
	if err != nil {
		return nil, &diagnostic{Severity: "ERROR", Code: "SCHEMA_VALIDATION_FAILED", Message: err.Error()}
	}
	var doc states
	if err := json.Unmarshal([]byte(def), &doc); err != nil {
		return nil, &diagnostic{Severity: "ERROR", Code: "SCHEMA_VALIDATION_FAILED", Message: err.Error()}
	}
	if d := doc.checkResources(); d != nil {
		d.Location = location(def, d.Location, d.field)
		return nil, &d.diagnostic
	}
	if m.UsesObjects() && !objects {
		return nil, &diagnostic{Severity: "ERROR", Code: "UNSUPPORTED_FEATURE",
			Message: "a Map's ItemReader or ResultWriter is not supported without an object store: start efspipe serve with --objects DIR"}
	}
	return m, nil
}

// codeOf maps the engine's refusal to one of the error codes AWS documents
// for ValidateStateMachineDefinition
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinitionDiagnostic.html),
// or to UNSUPPORTED_FEATURE, efspipe's own, for what AWS accepts and the
// local engine does not run (JSONata, variables, distributed Map, ...).
// asl.DefinitionError carries no kind, so the message decides; the table
// in TestValidateStateMachineDefinition pins each mapping.
func codeOf(de *asl.DefinitionError) string {
	switch {
	case de.State == "" && strings.HasPrefix(de.Msg, "invalid JSON"):
		return "INVALID_JSON_DESCRIPTION"
	case strings.Contains(de.Msg, "names no state"):
		return "MISSING_TRANSITION_TARGET"
	case strings.HasPrefix(de.Msg, "duplicate state name"):
		return "DUPLICATE_STATE_NAME"
	case strings.HasPrefix(de.Msg, "state names must be"):
		return "INVALID_STATE_NAME"
	case strings.Contains(de.Msg, "not supported"):
		return "UNSUPPORTED_FEATURE"
	case de.Field == "Resource":
		return "INVALID_RESOURCE"
	}
	return "SCHEMA_VALIDATION_FAILED"
}

// location is the JSON Pointer of a state's field in def, as AWS reports
// it ("/States/Outer/ItemProcessor/States/Inner/Next"): state names are
// unique in the whole machine, so the state is found by walking the
// nested scopes. A field such as "Parameters.FunctionName" or
// "Choices[2]" becomes "/Parameters/FunctionName" or "/Choices/2".
func location(def, state, field string) string {
	var path []string
	if state != "" {
		var doc any
		if json.Unmarshal([]byte(def), &doc) != nil {
			return ""
		}
		var ok bool
		if path, ok = findState(doc, state, nil); !ok {
			return ""
		}
	}
	if field != "" {
		field = strings.NewReplacer("[", ".", "]", "").Replace(field)
		path = append(path, strings.Split(field, ".")...)
	}
	if len(path) == 0 {
		return ""
	}
	esc := strings.NewReplacer("~", "~0", "/", "~1")
	var b strings.Builder
	for _, p := range path {
		b.WriteString("/" + esc.Replace(p))
	}
	return b.String()
}

// findState looks for the state called name in the scope v (an object
// with States) and in the scopes its Map and Parallel states hold.
func findState(v any, name string, at []string) ([]string, bool) {
	obj, _ := v.(map[string]any)
	sts, _ := obj["States"].(map[string]any)
	if _, ok := sts[name]; ok {
		return append(slices.Clone(at), "States", name), true
	}
	for _, n := range slices.Sorted(maps.Keys(sts)) {
		st, _ := sts[n].(map[string]any)
		here := append(slices.Clone(at), "States", n)
		for _, f := range []string{"ItemProcessor", "Iterator"} {
			if p, ok := findState(st[f], name, append(slices.Clone(here), f)); ok {
				return p, true
			}
		}
		bs, _ := st["Branches"].([]any)
		for i, b := range bs {
			if p, ok := findState(b, name, append(slices.Clone(here), "Branches", strconv.Itoa(i))); ok {
				return p, true
			}
		}
	}
	return nil, false
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

// resourceProblem is a Task naming no efspipe stage. Location holds the
// state's name until diagnose turns it into a path.
type resourceProblem struct {
	diagnostic
	field string
}

func (d states) checkResources() *resourceProblem {
	names := make([]string, 0, len(d.States))
	for n := range d.States {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		st := d.States[name]
		for _, sub := range append([]*states{st.Iterator, st.ItemProcessor}, ptrs(st.Branches)...) {
			if sub != nil {
				if p := sub.checkResources(); p != nil {
					return p
				}
			}
		}
		if st.Type != "Task" {
			continue
		}
		field, fn := "Resource", st.Resource
		bad := func(format string, a ...any) *resourceProblem {
			return &resourceProblem{diagnostic{Severity: "ERROR", Code: "INVALID_RESOURCE", Location: name,
				Message: fmt.Sprintf("state %q, field %q: ", name, field) + fmt.Sprintf(format, a...)}, field}
		}
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
				return bad("the local endpoint needs a static FunctionName naming an efspipe stage")
			}
			fn = s
		}
		if _, ok := statemachine.FunctionOf(fn); !ok {
			return bad("%q is not an efspipe stage (locally, Task states run efspipe-{ingest,split,compress,checkpoint,finalize} by name or Lambda ARN, plain or through %s)", fn, lambdaInvoke)
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

type validateIn struct {
	Definition *string `json:"definition"`
	Type       string  `json:"type"`
	Severity   string  `json:"severity"`
	MaxResults int     `json:"maxResults"`
}

// validateStateMachineDefinition: https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinition.html
// It runs CreateStateMachine's checks (parseDefinition), so OK means
// create-state-machine accepts the definition here. There are no
// WARNING diagnostics: the engine reports errors only.
func (s *Server) validateStateMachineDefinition(_ context.Context, in validateIn) (any, error) {
	if in.Definition == nil {
		return nil, errorf("ValidationException", "1 validation error detected: Value null at 'definition' failed to satisfy constraint: Member must not be null")
	}
	if err := checkDefinitionSize(*in.Definition); err != nil {
		return nil, err
	}
	switch in.Type {
	case "", "STANDARD", "EXPRESS":
	default:
		return nil, errorf("ValidationException", "1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]", in.Type)
	}
	switch in.Severity {
	case "", "ERROR", "WARNING":
	default:
		return nil, errorf("ValidationException", "1 validation error detected: Value '%s' at 'severity' failed to satisfy constraint: Member must satisfy enum value set: [ERROR, WARNING]", in.Severity)
	}
	if in.MaxResults < 0 || in.MaxResults > 100 {
		return nil, errorf("ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 0 and 100", in.MaxResults)
	}
	out := struct {
		Result      string       `json:"result"`
		Diagnostics []diagnostic `json:"diagnostics"`
		Truncated   bool         `json:"truncated"`
	}{Result: "OK", Diagnostics: []diagnostic{}}
	if _, d := diagnose(*in.Definition, s.cfg.Objects != nil); d != nil {
		out.Result, out.Diagnostics = "FAIL", append(out.Diagnostics, *d)
	}
	return out, nil
}
