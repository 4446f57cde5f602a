package sfnlocal_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// TestTestState calls TestState through the SDK
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html):
// a Task runs the real ingest stage, as an execution would.
func TestTestState(t *testing.T) {
	e := newEnv(t, "", nil)
	src := writePDF(t, 2)
	ingest := `"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"efspipe-ingest","Payload":{"source.$":"$.source"}}`

	t.Run("Task runs the stage, DEBUG", func(t *testing.T) {
		out, err := e.c.TestState(t.Context(), &sfn.TestStateInput{
			Definition:      aws.String(`{` + ingest + `,"ResultSelector":{"id.$":"$.Payload.id"},"ResultPath":"$.job","Assign":{"job.$":"$.id"},"Next":"Split"}`),
			Input:           input(t, src),
			InspectionLevel: types.InspectionLevelDebug,
			RevealSecrets:   true, // only HTTP Tasks have secrets: no effect here
		}, noHostPrefix)
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != types.TestExecutionStatusSucceeded || aws.ToString(out.NextState) != "Split" || out.Error != nil {
			t.Fatalf("%s next %q error %q", out.Status, aws.ToString(out.NextState), aws.ToString(out.Error))
		}
		var o struct {
			Source string
			Job    struct{ ID string }
		}
		if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &o); err != nil || o.Source != src || o.Job.ID == "" {
			t.Fatalf("output %s", aws.ToString(out.Output))
		}
		d := out.InspectionData
		if d == nil {
			t.Fatal("no inspectionData at DEBUG")
		}
		srcJSON, _ := json.Marshal(src)
		for name, got := range map[string]string{
			"input": aws.ToString(d.Input), "afterInputPath": aws.ToString(d.AfterInputPath),
			"afterParameters": aws.ToString(d.AfterParameters), "result": aws.ToString(d.Result),
			"afterResultSelector": aws.ToString(d.AfterResultSelector), "afterResultPath": aws.ToString(d.AfterResultPath),
			"variables": aws.ToString(d.Variables),
		} {
			if got == "" {
				t.Errorf("%s is empty", name)
			}
		}
		if aws.ToString(d.AfterParameters) != `{"FunctionName":"efspipe-ingest","Payload":{"source":`+string(srcJSON)+`}}` ||
			!strings.Contains(aws.ToString(d.Result), `"StatusCode":200`) ||
			aws.ToString(d.AfterResultSelector) != `{"id":"`+o.Job.ID+`"}` ||
			aws.ToString(d.Variables) != `{"job":"`+o.Job.ID+`"}` {
			t.Errorf("inspectionData %+v", *d)
		}
	})

	missing := aws.String(`{"source":"/nonexistent/doc.pdf"}`)
	for _, tc := range []struct {
		name, def string
		status    types.TestExecutionStatus
		next      string
		check     func(*testing.T, *sfn.TestStateOutput)
	}{
		{"failed", `{` + ingest + `,"End":true}`, types.TestExecutionStatusFailed, "", func(t *testing.T, o *sfn.TestStateOutput) {
			if o.Output != nil || aws.ToString(o.Error) == "" {
				t.Errorf("output %v error %q", o.Output, aws.ToString(o.Error))
			}
		}},
		{"retriable", `{` + ingest + `,"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":2}],"End":true}`, types.TestExecutionStatusRetriable, "", func(t *testing.T, o *sfn.TestStateOutput) {
			ed := o.InspectionData.ErrorDetails
			if ed == nil || aws.ToInt32(ed.RetryIndex) != 0 || aws.ToInt32(ed.RetryBackoffIntervalSeconds) != 2 {
				t.Errorf("errorDetails %+v", ed)
			}
		}},
		{"caught", `{` + ingest + `,"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"Failed"}],"End":true}`, types.TestExecutionStatusCaughtError, "Failed", func(t *testing.T, o *sfn.TestStateOutput) {
			if ed := o.InspectionData.ErrorDetails; ed == nil || ed.CatchIndex == nil || *ed.CatchIndex != 0 {
				t.Errorf("errorDetails %+v", ed)
			}
			if !strings.Contains(aws.ToString(o.Output), `"err":{"Cause":`) || aws.ToString(o.Error) == "" {
				t.Errorf("output %s error %q", aws.ToString(o.Output), aws.ToString(o.Error))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.c.TestState(t.Context(), &sfn.TestStateInput{Definition: aws.String(tc.def), Input: missing, InspectionLevel: types.InspectionLevelTrace}, noHostPrefix)
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != tc.status || aws.ToString(out.NextState) != tc.next {
				t.Fatalf("%s next %q (%s: %s), want %s next %q", out.Status, aws.ToString(out.NextState), aws.ToString(out.Error), aws.ToString(out.Cause), tc.status, tc.next)
			}
			tc.check(t, out)
		})
	}

	t.Run("a state of a machine, with variables, INFO", func(t *testing.T) {
		out, err := e.c.TestState(t.Context(), &sfn.TestStateInput{
			Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"C"},
				"C":{"Type":"Choice","Choices":[{"Variable":"$.items[?(@.size > 10)]","IsPresent":true,"Next":"Big"}],"Default":"A"},
				"Big":{"Type":"Pass","Parameters":{"big.$":"$.items[?(@.size > 10)].name","who.$":"$who"},"End":true}}}`),
			StateName: aws.String("Big"),
			Input:     aws.String(`{"items":[{"name":"a","size":5},{"name":"b","size":20}]}`),
			Variables: aws.String(`{"who":"me"}`),
		}, noHostPrefix)
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != types.TestExecutionStatusSucceeded || out.NextState != nil || out.InspectionData != nil ||
			aws.ToString(out.Output) != `{"big":["b"],"who":"me"}` {
			t.Fatalf("%s next %v inspection %v output %s", out.Status, out.NextState, out.InspectionData, aws.ToString(out.Output))
		}
	})

	for _, tc := range []struct {
		name string
		in   *sfn.TestStateInput
		want string
	}{
		{"mock", &sfn.TestStateInput{Definition: aws.String(`{` + ingest + `,"End":true}`), Mock: &types.MockInput{Result: aws.String(`{}`)}}, "ValidationException"},
		{"Map", &sfn.TestStateInput{Definition: aws.String(`{"Type":"Map","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Succeed"}}},"End":true}`)}, "ValidationException"},
		{"not a stage", &sfn.TestStateInput{Definition: aws.String(`{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:other","End":true}`)}, "InvalidDefinition"},
		{"bad definition", &sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","Next":3}`)}, "InvalidDefinition"},
		{"unknown stateName", &sfn.TestStateInput{Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`), StateName: aws.String("B")}, "ValidationException"},
		{"bad input", &sfn.TestStateInput{Definition: aws.String(`{"Type":"Succeed"}`), Input: aws.String(`{`)}, "InvalidExecutionInput"},
		{"bad variables", &sfn.TestStateInput{Definition: aws.String(`{"Type":"Succeed"}`), Variables: aws.String(`[1]`)}, "ValidationException"},
		{"bad level", &sfn.TestStateInput{Definition: aws.String(`{"Type":"Succeed"}`), InspectionLevel: "LOUD"}, "ValidationException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.c.TestState(t.Context(), tc.in, noHostPrefix); errType(err) != tc.want {
				t.Errorf("%v, want %s", err, tc.want)
			}
		})
	}
}
