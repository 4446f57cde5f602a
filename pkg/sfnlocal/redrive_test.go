package sfnlocal_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/efspipe/efspipe/pkg/asl"
)

// TestRedriveWithVariables: a machine that assigns a variable, then fails
// at a later Task, is redriven and succeeds with the variable intact. The
// history records what each state assigned (StateExited
// assignedVariables, as AWS's does), which is where the redrive reads it.
func TestRedriveWithVariables(t *testing.T) {
	var ingests atomic.Int32
	e := newEnv(t, "", func(_ context.Context, fn string, _ json.RawMessage) error {
		if fn == "ingest" && ingests.Add(1) == 1 {
			return errors.New("first ingest fails")
		}
		return nil
	})
	def := `{"StartAt":"Remember","States":{
	  "Remember":{"Type":"Pass","Assign":{"src.$":"$.source","tag":"kept"},"Next":"Ingest"},
	  "Ingest":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
	    "Parameters":{"FunctionName":"efspipe-ingest","Payload":{"source.$":"$src"}},
	    "ResultSelector":{"id.$":"$.Payload.id"},"Next":"Done"},
	  "Done":{"Type":"Pass","Parameters":{"job.$":"$.id","src.$":"$src","tag.$":"$tag"},"End":true}}}`
	created := e.create(t, "vars", def)
	src := writePDF(t, 2)
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Input: input(t, src)})
	if err != nil {
		t.Fatal(err)
	}
	if d := e.wait(t, *start.ExecutionArn); d.Status != types.ExecutionStatusFailed || d.RedriveStatus != types.ExecutionRedriveStatusRedrivable {
		t.Fatalf("first run: %s %s", d.Status, d.RedriveStatus)
	}
	if _, err := e.c.RedriveExecution(t.Context(), &sfn.RedriveExecutionInput{ExecutionArn: start.ExecutionArn}); err != nil {
		t.Fatal(err)
	}
	d := e.wait(t, *start.ExecutionArn)
	if d.Status != types.ExecutionStatusSucceeded || aws.ToInt32(d.RedriveCount) != 1 {
		t.Fatalf("after redrive: %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	var out struct{ Job, Src, Tag string }
	if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &out); err != nil || out.Src != src || out.Tag != "kept" || out.Job == "" {
		t.Fatalf("output %s (%v)", aws.ToString(d.Output), err)
	}
	entered := 0
	for _, ev := range e.history(t, *start.ExecutionArn, 0, false) {
		if d := ev.StateEnteredEventDetails; d != nil && aws.ToString(d.Name) == "Remember" {
			entered++
		}
		if d := ev.StateExitedEventDetails; d != nil && aws.ToString(d.Name) == "Remember" {
			srcJSON, _ := json.Marshal(src)
			if d.AssignedVariables["src"] != string(srcJSON) || d.AssignedVariables["tag"] != `"kept"` || d.AssignedVariablesDetails == nil {
				t.Errorf("Remember's StateExited records %v", d.AssignedVariables)
			}
		}
	}
	if entered != 1 {
		t.Errorf("Remember entered %d times; the redrive must not rerun it", entered)
	}
}

// TestHistoryQuotaThroughSDK: an execution that loops for good fails at
// its 25,000th event (asl.MaxHistoryEvents, bp-history-limit.html) instead
// of growing its history in the server's memory; DescribeExecution says it
// cannot be redriven and why, and RedriveExecution refuses it.
func TestHistoryQuotaThroughSDK(t *testing.T) {
	e := newEnv(t, "", nil)
	def := `{"StartAt":"Spin","States":{
	  "Spin":{"Type":"Pass","Next":"Again"},
	  "Again":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}],"Default":"Spin"},
	  "Done":{"Type":"Succeed"}}}`
	created := e.create(t, "spin", def)
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn})
	if err != nil {
		t.Fatal(err)
	}
	d := e.wait(t, *start.ExecutionArn)
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.Runtime" ||
		d.RedriveStatus != types.ExecutionRedriveStatusNotRedrivable || !strings.Contains(aws.ToString(d.RedriveStatusReason), "25000") {
		t.Fatalf("%s %s %q, redrive %s %q", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), d.RedriveStatus, aws.ToString(d.RedriveStatusReason))
	}
	if h := e.history(t, *start.ExecutionArn, 1000, true); len(h) != asl.MaxHistoryEvents || h[0].Type != types.HistoryEventTypeExecutionFailed || h[0].Id != asl.MaxHistoryEvents {
		t.Fatalf("%d events, the last %s (id %d)", len(h), h[0].Type, h[0].Id)
	}
	_, err = e.c.RedriveExecution(t.Context(), &sfn.RedriveExecutionInput{ExecutionArn: start.ExecutionArn})
	if errType(err) != "ExecutionNotRedrivable" {
		t.Fatalf("redrive: %v", err)
	}
}

// TestRedriveNeedsRoomThroughSDK: an execution that failed at event 24,999
// has no room for ExecutionRedriven and one event more, so it is
// NOT_REDRIVABLE and RedriveExecution refuses it, as AWS does
// (API_RedriveExecution.html: fewer than 24,999 events).
func TestRedriveNeedsRoomThroughSDK(t *testing.T) {
	e := newEnv(t, "", nil)
	// ExecutionStarted, 4 events an iteration, FailStateEntered and
	// ExecutionFailed: 4n+3 = 24,999 for n = 6,249.
	def := `{"StartAt":"Count","States":{
		"Count":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)","n.$":"$.n"},"Next":"Check"},
		"Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericEqualsPath":"$.n","Next":"Fail"}],"Default":"Count"},
		"Fail":{"Type":"Fail","Error":"E"}}}`
	created := e.create(t, "count", def)
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Input: aws.String(`{"i":0,"n":6249}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := e.wait(t, *start.ExecutionArn)
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "E" || d.RedriveStatus != types.ExecutionRedriveStatusNotRedrivable {
		t.Fatalf("%s %s, redrive %s %q", d.Status, aws.ToString(d.Error), d.RedriveStatus, aws.ToString(d.RedriveStatusReason))
	}
	if h := e.history(t, *start.ExecutionArn, 1000, true); h[0].Id != asl.MaxHistoryEvents-1 {
		t.Fatalf("the last event is %d", h[0].Id)
	}
	_, err = e.c.RedriveExecution(t.Context(), &sfn.RedriveExecutionInput{ExecutionArn: start.ExecutionArn})
	if errType(err) != "ExecutionNotRedrivable" {
		t.Fatalf("redrive: %v", err)
	}
}

// TestRedriveClientToken: a RedriveExecution sent again with its client
// token (as the SDK does when it retries a call whose answer it lost) is
// the same redrive: the same redriveDate, and no second redrive, whatever
// the execution did since; a new token redrives again
// (API_RedriveExecution.html, clientToken). The redriveDate answered is
// the one DescribeExecution and the ExecutionRedriven event then carry.
func TestRedriveClientToken(t *testing.T) {
	e := newEnv(t, "", nil)
	created := e.create(t, "fails", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E"}}}`)
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn})
	if err != nil {
		t.Fatal(err)
	}
	e.wait(t, *start.ExecutionArn)
	redrive := func(token string) *sfn.RedriveExecutionOutput {
		t.Helper()
		out, err := e.c.RedriveExecution(t.Context(), &sfn.RedriveExecutionInput{ExecutionArn: start.ExecutionArn, ClientToken: aws.String(token)})
		if err != nil {
			t.Fatalf("redrive with %q: %v", token, err)
		}
		return out
	}
	first := redrive("token-1")
	d := e.wait(t, *start.ExecutionArn)
	if !aws.ToTime(d.RedriveDate).Equal(aws.ToTime(first.RedriveDate)) {
		t.Errorf("DescribeExecution's redriveDate %v, RedriveExecution answered %v", d.RedriveDate, first.RedriveDate)
	}
	for _, ev := range e.history(t, *start.ExecutionArn, 0, false) {
		if ev.Type == types.HistoryEventTypeExecutionRedriven && !aws.ToTime(ev.Timestamp).Equal(aws.ToTime(first.RedriveDate)) {
			t.Errorf("ExecutionRedriven at %v, RedriveExecution answered %v", ev.Timestamp, first.RedriveDate)
		}
	}
	again := redrive("token-1")
	if !aws.ToTime(again.RedriveDate).Equal(aws.ToTime(first.RedriveDate)) {
		t.Errorf("the same token answered %v, first %v", again.RedriveDate, first.RedriveDate)
	}
	if d := e.wait(t, *start.ExecutionArn); aws.ToInt32(d.RedriveCount) != 1 {
		t.Fatalf("redriveCount %d after one token used twice", aws.ToInt32(d.RedriveCount))
	}
	redrive("token-2")
	if d := e.wait(t, *start.ExecutionArn); aws.ToInt32(d.RedriveCount) != 2 {
		t.Fatalf("redriveCount %d after a second token", aws.ToInt32(d.RedriveCount))
	}
}

// TestListExecutionsRedriveFilter: ListExecutions' redriveFilter keeps the
// executions redriven or not, and its other rules hold
// (API_ListExecutions.html): a value out of its enum, a PENDING_REDRIVE
// statusFilter with a stateMachineArn and both ARNs at once are
// ValidationException; a Map Run no one started is ResourceNotFound.
func TestListExecutionsRedriveFilter(t *testing.T) {
	e := newEnv(t, "", nil)
	created := e.create(t, "fails", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E"}}}`)
	arns := map[string]string{}
	for _, name := range []string{"redriven", "not-redriven"} {
		start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		e.wait(t, *start.ExecutionArn)
		arns[name] = *start.ExecutionArn
	}
	if _, err := e.c.RedriveExecution(t.Context(), &sfn.RedriveExecutionInput{ExecutionArn: aws.String(arns["redriven"])}); err != nil {
		t.Fatal(err)
	}
	e.wait(t, arns["redriven"])
	for filter, want := range map[types.ExecutionRedriveFilter]string{types.ExecutionRedriveFilterRedriven: "redriven", types.ExecutionRedriveFilterNotRedriven: "not-redriven"} {
		l, err := e.c.ListExecutions(t.Context(), &sfn.ListExecutionsInput{StateMachineArn: created.StateMachineArn, RedriveFilter: filter})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Executions) != 1 || aws.ToString(l.Executions[0].Name) != want {
			t.Errorf("redriveFilter %s listed %d executions, want %s alone", filter, len(l.Executions), want)
		}
	}
	mapRun := "arn:aws:states:us-east-1:000000000000:mapRun:fails/M:00000000-0000-0000-0000-000000000000"
	for _, tc := range []struct {
		in   sfn.ListExecutionsInput
		want string
	}{
		{sfn.ListExecutionsInput{StateMachineArn: created.StateMachineArn, RedriveFilter: "SOMETIMES"}, "ValidationException"},
		{sfn.ListExecutionsInput{StateMachineArn: created.StateMachineArn, StatusFilter: types.ExecutionStatusPendingRedrive}, "ValidationException"},
		{sfn.ListExecutionsInput{StateMachineArn: created.StateMachineArn, MapRunArn: aws.String(mapRun)}, "ValidationException"},
		{sfn.ListExecutionsInput{MapRunArn: aws.String(mapRun)}, "ResourceNotFound"},
		{sfn.ListExecutionsInput{MapRunArn: aws.String("nope")}, "InvalidArn"},
	} {
		if _, err := e.c.ListExecutions(t.Context(), &tc.in); errType(err) != tc.want {
			t.Errorf("ListExecutions(status %q, redrive %q, map run %q): %v, want %s", tc.in.StatusFilter, tc.in.RedriveFilter, aws.ToString(tc.in.MapRunArn), err, tc.want)
		}
	}
}
