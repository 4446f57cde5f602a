package sfnlocal_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// userDefinition runs ingest through lambda:invoke and then a plain-ARN
// Task, as an edited copy of the pipeline would.
const userDefinition = `{
  "StartAt": "Ingest",
  "States": {
    "Ingest": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "efspipe-ingest", "Payload": {"source.$": "$.source"}},
      "ResultSelector": {"id.$": "$.Payload.id", "bytes.$": "$.Payload.bytes"},
      "ResultPath": "$.job",
      "Next": "Done"
    },
    "Done": {"Type": "Pass", "Parameters": {"job.$": "$.job.id", "bytes.$": "$.job.bytes"}, "End": true}
  }
}`

func TestUserStateMachines(t *testing.T) {
	e := newEnv(t, "", nil)
	ctx := t.Context()
	created, err := e.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("mine"), Definition: aws.String(userDefinition),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
	if err != nil {
		t.Fatal(err)
	}
	// The same request again is idempotent; another definition is not.
	if again, err := e.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("mine"), Definition: aws.String(userDefinition),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/x")}); err != nil || *again.StateMachineArn != *created.StateMachineArn {
		t.Errorf("idempotent create: %v", err)
	}
	other := strings.Replace(userDefinition, `"Done": {"Type": "Pass",`, `"Done": {"Type": "Pass", "Comment": "x",`, 1)
	if _, err := e.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("mine"), Definition: aws.String(other),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/x")}); errType(err) != "StateMachineAlreadyExists" {
		t.Errorf("create over another definition: %v", err)
	}
	src := writePDF(t, 1)
	start, err := e.c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Name: aws.String("r1"), Input: input(t, src)})
	if err != nil {
		t.Fatal(err)
	}
	d := e.wait(t, *start.ExecutionArn)
	var out struct {
		Job   string
		Bytes int64
	}
	if d.Status != types.ExecutionStatusSucceeded || json.Unmarshal([]byte(aws.ToString(d.Output)), &out) != nil || out.Job == "" || out.Bytes == 0 {
		t.Fatalf("user machine: %s %s %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	h := e.history(t, *start.ExecutionArn, 0, false)
	if !strings.Contains(strings.Join(typesOf(h), " "), "TaskScheduled TaskStarted TaskSucceeded") {
		t.Errorf("lambda:invoke history: %v", typesOf(h))
	}

	upd, err := e.c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: created.StateMachineArn, Definition: aws.String(other)})
	if err != nil || upd.UpdateDate == nil {
		t.Fatalf("update: %v", err)
	}
	desc, err := e.c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: created.StateMachineArn})
	if err != nil || *desc.Definition != other || *desc.RoleArn != "arn:aws:iam::000000000000:role/x" {
		t.Fatalf("describe after update: %v", err)
	}
	if _, err := e.c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: &e.pipeline, Definition: aws.String(other)}); errType(err) != "ValidationException" {
		t.Errorf("update of the built-in machine: %v", err)
	}
	if _, err := e.c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: created.StateMachineArn}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: created.StateMachineArn}); errType(err) != "StateMachineDoesNotExist" {
		t.Errorf("describe after delete: %v", err)
	}
	// Its executions stay describable, as in AWS.
	if _, err := e.c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: start.ExecutionArn}); err != nil {
		t.Errorf("execution of a deleted machine: %v", err)
	}
}

// jsonataDefinition is userDefinition in JSONata, carrying the job in a
// variable (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html,
// .../workflow-variables.html).
const jsonataDefinition = `{
  "QueryLanguage": "JSONata",
  "StartAt": "Ingest",
  "States": {
    "Ingest": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Arguments": {"FunctionName": "efspipe-ingest", "Payload": {"source": "{% $states.input.source %}"}},
      "Assign": {"job": "{% $states.result.Payload.id %}"},
      "Output": {"bytes": "{% $states.result.Payload.bytes %}"},
      "Next": "Done"
    },
    "Done": {"Type": "Pass", "Output": {"job": "{% $job %}", "bytes": "{% $states.input.bytes %}"}, "End": true}
  }
}`

func TestUserJSONataStateMachine(t *testing.T) {
	e := newEnv(t, "", nil)
	ctx := t.Context()
	created, err := e.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("mine-jsonata"), Definition: aws.String(jsonataDefinition),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
	if err != nil {
		t.Fatal(err)
	}
	src := writePDF(t, 1)
	start, err := e.c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Name: aws.String("r1"), Input: input(t, src)})
	if err != nil {
		t.Fatal(err)
	}
	d := e.wait(t, *start.ExecutionArn)
	var out struct {
		Job   string
		Bytes int64
	}
	if d.Status != types.ExecutionStatusSucceeded || json.Unmarshal([]byte(aws.ToString(d.Output)), &out) != nil || out.Job == "" || out.Bytes == 0 {
		t.Fatalf("JSONata machine: %s %s %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Error), aws.ToString(d.Cause))
	}
}

func TestInvalidDefinition(t *testing.T) {
	e := newEnv(t, "", nil)
	for _, tc := range []struct {
		name, def string
		want      []string // in the message
	}{
		{"not an efspipe stage", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:other","End":true}}}`,
			[]string{`state "A"`, `field "Resource"`, "not an efspipe stage"}},
		{"lambda:invoke elsewhere", `{"StartAt":"A","States":{"A":{"Type":"Map","ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"someone-else"},"End":true}}},"End":true}}}`,
			[]string{`state "B"`, `field "Parameters.FunctionName"`}},
		{"dynamic function", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName.$":"$.f"},"End":true}}}`,
			[]string{`state "A"`, "FunctionName"}},
		{"JSONata dynamic function", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"FunctionName":"{% $states.input.f %}"},"End":true}}}`,
			[]string{`state "A"`, `field "Arguments.FunctionName"`}},
		{"JSONPath field in a JSONata state", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.x","End":true}}}`,
			[]string{`state "A"`, `field "ResultPath"`}},
		{"engine refuses", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}`, []string{`state "A"`, `field "Next"`}},
		{"not JSON", `{"StartAt":`, []string{"Invalid State Machine Definition"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.c.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String("bad"), Definition: aws.String(tc.def), RoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
			if errType(err) != "InvalidDefinition" {
				t.Fatalf("%v, want InvalidDefinition", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err.Error(), w)
				}
			}
		})
	}
}

// TestWireErrors speaks the protocol by hand: status codes and __type as
// AWS sends them, whatever the client.
func TestWireErrors(t *testing.T) {
	e := newEnv(t, "", nil)
	for _, tc := range []struct {
		target, body string
		status       int
		typ          string
	}{
		{"AWSStepFunctions.SendTaskSuccess", `{}`, 400, "UnknownOperationException"},
		{"Nonsense", `{}`, 400, "UnknownOperationException"},
		{"AWSStepFunctions.DescribeExecution", `{"executionArn":"nope"}`, 400, "InvalidArn"},
		{"AWSStepFunctions.DescribeExecution", `{"executionArn":"arn:aws:states:us-east-1:000000000000:execution:efspipe:none"}`, 400, "ExecutionDoesNotExist"},
		{"AWSStepFunctions.DescribeStateMachine", `{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:none"}`, 400, "StateMachineDoesNotExist"},
		{"AWSStepFunctions.StartExecution", `{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:efspipe","name":"x","input":"[1,"}`, 400, "InvalidExecutionInput"},
		{"AWSStepFunctions.ListExecutions", `{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:efspipe","nextToken":"garbage"}`, 400, "InvalidToken"},
		{"AWSStepFunctions.ListStateMachines", `{"maxResults":5000}`, 400, "ValidationException"},
		{"AWSStepFunctions.ListExecutions", `{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:efspipe","statusFilter":"DONE"}`, 400, "ValidationException"},
		{"AWSStepFunctions.ListStateMachines", `{`, 400, "SerializationException"},
		{"AWSStepFunctions.ListStateMachines", ``, 200, ""},
	} {
		resp, b := e.call(t, strings.TrimPrefix(tc.target, "AWSStepFunctions."), tc.body)
		var got struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &got)
		if resp.StatusCode != tc.status || got.Type != tc.typ || (tc.typ != "" && got.Message == "") {
			t.Errorf("%s %s: %d %s", tc.target, tc.body, resp.StatusCode, b)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
			t.Errorf("Content-Type %q", ct)
		}
	}
}

// TestRestart: a server that stopped (Close) or crashed leaves its
// executions on the mount; the next one lists them, closes the interrupted
// ones as FAILED States.Runtime, and redrives them to success.
func TestRestart(t *testing.T) {
	for _, crash := range []bool{false, true} {
		name := "close"
		if crash {
			name = "crash"
		}
		t.Run(name, func(t *testing.T) {
			g := newGate()
			mountDir := t.TempDir()
			e := newEnv(t, mountDir, g.hook)
			if _, err := e.c.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String("mine"),
				Definition: aws.String(userDefinition), RoleArn: aws.String("arn:aws:iam::000000000000:role/x")}); err != nil {
				t.Fatal(err)
			}
			src := writePDF(t, 4)
			start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &e.pipeline, Name: aws.String("long"), Input: input(t, src)})
			if err != nil {
				t.Fatal(err)
			}
			<-g.entered
			if crash {
				// What a killed process leaves: the mount as it is now,
				// with the history flushed up to some point of the run.
				waitFor(t, func() bool { return strings.Contains(readHistory(t, mountDir), "MapIterationStarted") })
				copyDir(t, mountDir, mountDir+"-crashed")
				mountDir += "-crashed"
				defer os.RemoveAll(mountDir)
			} else {
				e.http.Close()
				e.srv.Close()
			}
			close(g.open)
			// A temp file of an atomic write the crash cut short.
			if err := os.WriteFile(filepath.Join(mountDir, "sfn", "machines", ".x.json.tmp-1"), []byte("{"), 0o644); err != nil {
				t.Fatal(err)
			}
			e2 := newEnv(t, mountDir, nil)
			d := e2.wait(t, *start.ExecutionArn)
			if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.Runtime" || aws.ToString(d.Cause) != "interrupted by a restart" ||
				d.RedriveStatus != types.ExecutionRedriveStatusRedrivable {
				t.Fatalf("after restart: %s %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), d.RedriveStatus)
			}
			list, err := e2.c.ListExecutions(t.Context(), &sfn.ListExecutionsInput{StateMachineArn: &e2.pipeline})
			if err != nil || len(list.Executions) != 1 {
				t.Fatalf("list after restart: %+v %v", list, err)
			}
			machines, err := e2.c.ListStateMachines(t.Context(), &sfn.ListStateMachinesInput{})
			if err != nil || len(machines.StateMachines) != 2 || *machines.StateMachines[1].Name != "mine" {
				t.Fatalf("machines after restart: %+v %v", machines, err)
			}
			if _, err := e2.c.RedriveExecution(t.Context(), &sfn.RedriveExecutionInput{ExecutionArn: start.ExecutionArn}); err != nil {
				t.Fatal(err)
			}
			d = e2.wait(t, *start.ExecutionArn)
			if d.Status != types.ExecutionStatusSucceeded || aws.ToInt32(d.RedriveCount) != 1 {
				t.Fatalf("redrive after restart: %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
			}
		})
	}
}

func readHistory(t *testing.T, mountDir string) string {
	matches, _ := filepath.Glob(filepath.Join(mountDir, "sfn", "executions", "*", "history.jsonl"))
	var all string
	for _, m := range matches {
		b, _ := os.ReadFile(m)
		all += string(b)
	}
	return all
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// TestShuttingDownIsRetryable: a call to a server shutting down is
// ServiceUnavailable with HTTP 503, as AWS sends it (CommonErrors.html),
// which the SDKs retry; with 400 they gave up at once.
func TestShuttingDownIsRetryable(t *testing.T) {
	e := newEnv(t, "", nil)
	e.srv.Close()
	resp, b := e.call(t, "StartExecution", `{"stateMachineArn":"`+e.pipeline+`"}`)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), `"ServiceUnavailable"`) {
		t.Errorf("StartExecution while shutting down: %d %s", resp.StatusCode, b)
	}
}
