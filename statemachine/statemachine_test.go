package statemachine_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/statemachine"
)

// platformErrors are names Step Functions and Lambda raise themselves; the
// ASL may retry them although no efspipe code returns them.
var platformErrors = []string{
	"States.ALL", "States.TaskFailed", "States.Timeout", "States.Runtime",
	"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException",
}

// Every ErrorEquals name in the definition is an error kind the code can
// return (or a platform error): a typo would silently never match.
func TestErrorNamesExistInCode(t *testing.T) {
	var def any
	if err := json.Unmarshal(statemachine.Definition, &def); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, k := range pipeerr.Kinds() {
		kinds = append(kinds, string(k))
	}
	seen := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "ErrorEquals" {
					for _, name := range x.([]any) {
						seen++
						n := name.(string)
						if !slices.Contains(kinds, n) && !slices.Contains(platformErrors, n) {
							t.Errorf("ErrorEquals %q is not a pipeerr kind", n)
						}
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(def)
	if seen == 0 {
		t.Fatal("no ErrorEquals found")
	}
	// Every permanent kind is caught wherever a stage can fail on input.
	for _, k := range pipeerr.Kinds() {
		if k.Permanent() && !strings.Contains(string(statemachine.Definition), `"`+string(k)+`"`) {
			t.Errorf("permanent kind %s is never caught", k)
		}
	}
}

func TestLocalDefinitionParses(t *testing.T) {
	m, err := asl.Parse(statemachine.Local())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Resources() {
		if _, ok := statemachine.FunctionOf(r); !ok {
			t.Errorf("resource %s is no efspipe stage", r)
		}
	}
	if _, err := statemachine.Substitute(statemachine.Definition, map[string]string{}); err == nil {
		t.Fatal("substitution with no values must fail")
	}
}

func TestFunctionOf(t *testing.T) {
	for in, want := range map[string]string{
		"efspipe-split": "split",
		"arn:aws:lambda:eu-west-1:123456789012:function:efspipe-compress":         "compress",
		"arn:aws:lambda:eu-west-1:123456789012:function:efspipe-compress:$LATEST": "compress",
		"finalize": "finalize",
	} {
		if got, ok := statemachine.FunctionOf(in); !ok || got != want {
			t.Errorf("FunctionOf(%q) = %q, %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "efspipe-nope", "arn:aws:states:::lambda:invoke", "arn:aws:lambda:x:1:layer:efspipe-split"} {
		if _, ok := statemachine.FunctionOf(bad); ok {
			t.Errorf("FunctionOf(%q) accepted", bad)
		}
	}
}
