package sfnlocal_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/efspipe/efspipe/internal/pipetest"
)

// awsCLI runs the real AWS CLI against e's endpoint and decodes its JSON.
func (e *env) awsCLI(t *testing.T, out any, args ...string) {
	t.Helper()
	e.awsCLIEnv(t, nil, out, args...)
}

// awsCLIEnv is awsCLI with more environment variables.
func (e *env) awsCLIEnv(t *testing.T, env []string, out any, args ...string) {
	t.Helper()
	aws := pipetest.NeedsTool(t, "aws")
	cmd := exec.CommandContext(t.Context(), aws, append(append([]string{"stepfunctions"}, args...), "--endpoint-url", e.http.URL, "--output", "json")...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=local-secret", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	cmd.Env = append(cmd.Env, env...)
	b, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
}

// TestAWSCLI drives the endpoint with `aws stepfunctions` as a user would.
func TestAWSCLI(t *testing.T) {
	e := newEnv(t, "", nil)
	var machines struct {
		StateMachines []struct{ StateMachineArn string }
	}
	e.awsCLI(t, &machines, "list-state-machines")
	if len(machines.StateMachines) != 1 || machines.StateMachines[0].StateMachineArn != e.pipeline {
		t.Fatalf("list-state-machines: %+v", machines)
	}
	in, _ := json.Marshal(map[string]string{"source": writePDF(t, 4)})
	var started struct {
		ExecutionArn string
		StartDate    any
	}
	e.awsCLI(t, &started, "start-execution", "--state-machine-arn", e.pipeline, "--name", "cli-run", "--input", string(in))
	if !strings.HasSuffix(started.ExecutionArn, ":execution:efspipe:cli-run") || started.StartDate == nil {
		t.Fatalf("start-execution: %+v", started)
	}
	e.wait(t, started.ExecutionArn)
	var desc struct {
		Status, Output string
		StopDate       any
	}
	e.awsCLI(t, &desc, "describe-execution", "--execution-arn", started.ExecutionArn)
	if desc.Status != "SUCCEEDED" || !strings.Contains(desc.Output, `"status":"SUCCEEDED"`) || desc.StopDate == nil {
		t.Fatalf("describe-execution: %+v", desc)
	}
	// The CLI pages through the history itself (--page-size).
	var hist struct {
		Events []struct {
			Type            string
			ID              int64 `json:"id"`
			PreviousEventID int64 `json:"previousEventId"`
			Timestamp       any
		}
	}
	e.awsCLI(t, &hist, "get-execution-history", "--execution-arn", started.ExecutionArn, "--page-size", "4")
	n := len(hist.Events)
	if n < 10 || hist.Events[0].Type != "ExecutionStarted" || hist.Events[n-1].Type != "ExecutionSucceeded" || hist.Events[n-1].ID != int64(n) {
		t.Fatalf("get-execution-history: %d events: %+v", n, hist.Events)
	}
	var list struct {
		Executions []struct{ Name, Status string }
	}
	e.awsCLI(t, &list, "list-executions", "--state-machine-arn", e.pipeline)
	if len(list.Executions) != 1 || list.Executions[0].Name != "cli-run" {
		t.Fatalf("list-executions: %+v", list)
	}
	// An error comes back as the CLI reports AWS's.
	aws := pipetest.NeedsTool(t, "aws")
	cmd := exec.CommandContext(t.Context(), aws, "stepfunctions", "start-execution", "--state-machine-arn", e.pipeline, "--name", "cli-run",
		"--input", string(in), "--endpoint-url", e.http.URL)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=local-secret", "AWS_DEFAULT_REGION=us-east-1")
	b, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "(ExecutionAlreadyExists)") {
		t.Errorf("start-execution of a taken name: %v %s", err, b)
	}
}

// TestAWSCLIValidateAndSync: validate-state-machine-definition lints a
// definition locally, and start-sync-execution reaches the endpoint once
// the CLI is told not to prefix "sync-" to its host
// (AWS_DISABLE_HOST_PREFIX_INJECTION, botocore's setting).
func TestAWSCLIValidateAndSync(t *testing.T) {
	e := newEnv(t, "", nil)
	var v struct {
		Result      string
		Diagnostics []struct{ Severity, Code, Message, Location string }
	}
	e.awsCLI(t, &v, "validate-state-machine-definition", "--definition", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`)
	if v.Result != "FAIL" || len(v.Diagnostics) != 1 || v.Diagnostics[0].Code != "MISSING_TRANSITION_TARGET" || v.Diagnostics[0].Location != "/States/A/Next" {
		t.Fatalf("validate-state-machine-definition: %+v", v)
	}
	var created struct{ StateMachineArn string }
	e.awsCLI(t, &created, "create-state-machine", "--name", "quick", "--type", "EXPRESS", "--role-arn", "arn:aws:iam::000000000000:role/x",
		"--definition", `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"ok":true},"End":true}}}`)
	var out struct{ Status, Output string }
	e.awsCLIEnv(t, []string{"AWS_DISABLE_HOST_PREFIX_INJECTION=true"}, &out, "start-sync-execution", "--state-machine-arn", created.StateMachineArn)
	if out.Status != "SUCCEEDED" || out.Output != `{"ok":true}` {
		t.Fatalf("start-sync-execution: %+v", out)
	}
}
