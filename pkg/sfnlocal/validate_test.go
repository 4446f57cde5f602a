package sfnlocal_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// TestValidateStateMachineDefinition
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinition.html):
// the checks CreateStateMachine makes, answered as diagnostics with a code
// and the JSON Pointer of the state and field. The table pins how each of
// the engine's refusals maps to a code.
func TestValidateStateMachineDefinition(t *testing.T) {
	e := newEnv(t, "", nil)
	for _, tc := range []struct {
		name, def      string
		code, location string
		message        string // in the message
	}{
		{"ok", passDefinition("x"), "", "", ""},
		{"the pipeline", userDefinition, "", "", ""},
		{"empty", " ", "MISSING_DESCRIPTION", "", "empty"},
		{"not JSON", `{"StartAt":`, "INVALID_JSON_DESCRIPTION", "", "invalid JSON"},
		{"no States", `{"StartAt":"A"}`, "SCHEMA_VALIDATION_FAILED", "/States", "missing"},
		{"unknown field", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Colour":1}}}`, "SCHEMA_VALIDATION_FAILED", "/States/A/Colour", "unknown field"},
		{"missing target", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}`, "MISSING_TRANSITION_TARGET", "/States/A/Next", `"Nowhere"`},
		{"bad StartAt", `{"StartAt":"B","States":{"A":{"Type":"Pass","End":true}}}`, "MISSING_TRANSITION_TARGET", "/StartAt", `"B"`},
		{"nested choice target", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Next":"Gone"}]}}}}}}`,
			"MISSING_TRANSITION_TARGET", "/States/M/ItemProcessor/States/C/Choices", `"Gone"`},
		{"duplicate in a branch", `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}]}}}`,
			"DUPLICATE_STATE_NAME", "/States/P", "duplicate"},
		{"long state name", `{"StartAt":"A","States":{"` + strings.Repeat("n", 81) + `":{"Type":"Pass","End":true},"A":{"Type":"Pass","End":true}}}`,
			"INVALID_STATE_NAME", "/States/" + strings.Repeat("n", 81), "80"},
		{"not an efspipe stage", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:other","End":true}}}`,
			"INVALID_RESOURCE", "/States/A/Resource", "not an efspipe stage"},
		{"nested lambda:invoke", `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"x"},"End":true}}}]}}}`,
			"INVALID_RESOURCE", "/States/P/Branches/0/States/B/Parameters/FunctionName", `"x"`},
		{"activity", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:us-east-1:1:activity:a","End":true}}}`,
			"UNSUPPORTED_FEATURE", "/States/A/Resource", "activities"},
		{"JSONata", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $states.input %}","End":true}}}`, "", "", ""},
		{"JsonPath filter", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$.items[?(@.size > 10)]","End":true}}}`, "", "", ""},
		// The paths page: "Filtering by regular expression ... isn't supported."
		{"JsonPath regex filter", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$.items[?(@.name =~ /x/)]","End":true}}}`, "UNSUPPORTED_FEATURE", "/States/A/InputPath", "regular expressions"},
		{"ItemReader listObjectsV2", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket":"b"}},
			"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}}}}`,
			"UNSUPPORTED_FEATURE", "/States/M/ItemReader", "listObjectsV2"},
		// No object store configured (Config.Objects): an s3:getObject reader is refused.
		{"ItemReader without an object store", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"k"}},
			"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}}}}`,
			"UNSUPPORTED_FEATURE", "", "--objects"},
		{"slash in a name", `{"StartAt":"a/b","States":{"a/b":{"Type":"Pass","Next":"c~d"}}}`, "MISSING_TRANSITION_TARGET", "/States/a~1b/Next", `"c~d"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.c.ValidateStateMachineDefinition(t.Context(), &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(tc.def)})
			if err != nil {
				t.Fatal(err)
			}
			if tc.code == "" {
				if out.Result != types.ValidateStateMachineDefinitionResultCodeOk || len(out.Diagnostics) != 0 || aws.ToBool(out.Truncated) {
					t.Fatalf("%+v, want OK", out)
				}
				return
			}
			if out.Result != types.ValidateStateMachineDefinitionResultCodeFail || len(out.Diagnostics) != 1 {
				t.Fatalf("%s %+v, want FAIL and one diagnostic", out.Result, out.Diagnostics)
			}
			d := out.Diagnostics[0]
			if d.Severity != types.ValidateStateMachineDefinitionSeverityError || aws.ToString(d.Code) != tc.code || aws.ToString(d.Location) != tc.location ||
				!strings.Contains(aws.ToString(d.Message), tc.message) {
				t.Errorf("%s %s at %q: %s; want %s at %q", d.Severity, aws.ToString(d.Code), aws.ToString(d.Location), aws.ToString(d.Message), tc.code, tc.location)
			}
			// create-state-machine refuses exactly what validation fails.
			if _, err := e.c.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String("v"), Definition: aws.String(tc.def),
				RoleArn: aws.String(role)}); errType(err) != "InvalidDefinition" {
				t.Errorf("create: %v, want InvalidDefinition", err)
			}
		})
	}
	if _, err := e.c.ValidateStateMachineDefinition(t.Context(), &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String("{}"),
		Severity: "LOUD"}); errType(err) != "ValidationException" {
		t.Errorf("an unknown severity: %v", err)
	}
}

// TestDefinitionSize: CreateStateMachine, UpdateStateMachine and
// ValidateStateMachineDefinition take definitions of up to 1,048,576
// characters, and refuse a longer one with ValidationException, as AWS
// does (their definition parameter's length constraint); Create and
// Update took any size the request could carry.
func TestDefinitionSize(t *testing.T) {
	e := newEnv(t, "", nil)
	padded := func(n int) string {
		d := `{"Comment":"","StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
		return strings.Replace(d, `""`, `"`+strings.Repeat("x", n-len(d))+`"`, 1)
	}
	role := aws.String("arn:aws:iam::000000000000:role/x")
	created, err := e.c.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String("at-limit"), Definition: aws.String(padded(1 << 20)), RoleArn: role})
	if err != nil {
		t.Fatalf("a definition of 1,048,576 characters: %v", err)
	}
	over := aws.String(padded(1<<20 + 1))
	if _, err := e.c.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String("over"), Definition: over, RoleArn: role}); errType(err) != "ValidationException" {
		t.Errorf("CreateStateMachine of 1,048,577 characters: %v", err)
	}
	if _, err := e.c.UpdateStateMachine(t.Context(), &sfn.UpdateStateMachineInput{StateMachineArn: created.StateMachineArn, Definition: over}); errType(err) != "ValidationException" {
		t.Errorf("UpdateStateMachine to 1,048,577 characters: %v", err)
	}
	if _, err := e.c.ValidateStateMachineDefinition(t.Context(), &sfn.ValidateStateMachineDefinitionInput{Definition: over}); errType(err) != "ValidationException" {
		t.Errorf("ValidateStateMachineDefinition of 1,048,577 characters: %v", err)
	}
}
