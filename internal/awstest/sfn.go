package awstest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// FakeSFN is a Step Functions endpoint whose executions stay RUNNING until
// the test finishes them (Finish): the CLI's and the trigger's idempotence,
// replay and redrive logic is tested against AWS's rules without an engine.
// Where a test needs executions that really run, use pkg/sfnlocal.
type FakeSFN struct {
	// URL is the endpoint, for --endpoint-url or sfn.Options.BaseEndpoint.
	URL string

	srv    *httptest.Server
	mu     sync.Mutex
	execs  map[string]*Execution // by ARN
	starts int                   // StartExecution calls that created an execution
}

// Execution is one execution as the fake holds it.
type Execution struct {
	ARN, Name, Input, Status string
	RedriveStatus            string
	RedriveCount             int
	Start                    time.Time
}

// NewFakeSFN serves a FakeSFN until t ends.
func NewFakeSFN(t testing.TB) *FakeSFN {
	f := &FakeSFN{execs: map[string]*Execution{}}
	f.srv = httptest.NewServer(f)
	f.URL = f.srv.URL
	t.Cleanup(f.srv.Close)
	return f
}

// Close stops the endpoint early: later calls fail as a network outage.
func (f *FakeSFN) Close() { f.srv.Close() }

// Starts is how many StartExecution calls created an execution.
func (f *FakeSFN) Starts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts
}

// Executions returns a copy of every execution, by ARN.
func (f *FakeSFN) Executions() map[string]Execution {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := make(map[string]Execution, len(f.execs))
	for arn, e := range f.execs {
		m[arn] = *e
	}
	return m
}

// ExecutionARN is the ARN AWS gives the execution name of machine.
func ExecutionARN(machine, name string) string {
	return strings.Replace(machine, ":stateMachine:", ":execution:", 1) + ":" + name
}

// ServeHTTP speaks the JSON 1.0 protocol (X-Amz-Target:
// AWSStepFunctions.<Op>) for StartExecution, DescribeExecution,
// GetExecutionHistory and RedriveExecution, with AWS's execution-name rules.
func (f *FakeSFN) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
	if r.Method != http.MethodPost || !ok || r.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
		fail(w, "UnknownOperationException", "not a Step Functions JSON 1.0 request")
		return
	}
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(w, "SerializationException", err.Error())
		return
	}
	str := func(k string) string { s, _ := in[k].(string); return s }
	f.mu.Lock()
	defer f.mu.Unlock()
	epoch := func(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
	switch op {
	case "StartExecution":
		arn := ExecutionARN(str("stateMachineArn"), str("name"))
		input := str("input")
		if input == "" {
			input = "{}"
		}
		if e, ok := f.execs[arn]; ok {
			// AWS: same name and input while running is the same execution.
			if e.Status == "RUNNING" && e.Input == input {
				reply(w, map[string]any{"executionArn": arn, "startDate": epoch(e.Start)})
				return
			}
			fail(w, "ExecutionAlreadyExists", "Execution Already Exists: '"+arn+"'")
			return
		}
		e := &Execution{ARN: arn, Name: str("name"), Input: input, Status: "RUNNING", RedriveStatus: "NOT_REDRIVABLE", Start: time.Now()}
		f.execs[arn] = e
		f.starts++
		reply(w, map[string]any{"executionArn": arn, "startDate": epoch(e.Start)})
	case "DescribeExecution":
		e, ok := f.execs[str("executionArn")]
		if !ok {
			fail(w, "ExecutionDoesNotExist", "Execution Does Not Exist: '"+str("executionArn")+"'")
			return
		}
		out := map[string]any{"executionArn": e.ARN, "name": e.Name, "status": e.Status, "input": e.Input,
			"startDate": epoch(e.Start), "redriveCount": e.RedriveCount, "redriveStatus": e.RedriveStatus}
		if e.Status == "FAILED" {
			out["error"], out["cause"] = "States.TaskFailed", "the compress step failed"
			out["stopDate"] = epoch(e.Start.Add(time.Second))
		}
		reply(w, out)
	case "GetExecutionHistory":
		e, ok := f.execs[str("executionArn")]
		if !ok {
			fail(w, "ExecutionDoesNotExist", "Execution Does Not Exist: '"+str("executionArn")+"'")
			return
		}
		evs := []map[string]any{
			{"id": 1, "previousEventId": 0, "timestamp": epoch(e.Start), "type": "ExecutionStarted",
				"executionStartedEventDetails": map[string]any{"input": e.Input}},
			{"id": 2, "previousEventId": 1, "timestamp": epoch(e.Start), "type": "TaskStateEntered",
				"stateEnteredEventDetails": map[string]any{"name": "Ingest", "input": e.Input}},
		}
		if e.Status == "FAILED" {
			evs = append(evs, map[string]any{"id": 3, "previousEventId": 2, "timestamp": epoch(e.Start), "type": "ExecutionFailed",
				"executionFailedEventDetails": map[string]any{"error": "States.TaskFailed", "cause": "the compress step failed"}})
		}
		reply(w, map[string]any{"events": evs})
	case "RedriveExecution":
		e, ok := f.execs[str("executionArn")]
		if !ok {
			fail(w, "ExecutionDoesNotExist", "Execution Does Not Exist")
			return
		}
		if e.RedriveStatus != "REDRIVABLE" {
			fail(w, "ExecutionNotRedrivable", "Execution is not redrivable")
			return
		}
		e.Status, e.RedriveStatus = "RUNNING", "NOT_REDRIVABLE"
		e.RedriveCount++
		reply(w, map[string]any{"redriveDate": epoch(time.Now())})
	default:
		fail(w, "UnknownOperationException", op)
	}
}

// Finish ends an execution as the engine would, with status and
// redriveStatus (REDRIVABLE or NOT_REDRIVABLE).
func (f *FakeSFN) Finish(arn, status, redriveStatus string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.execs[arn].Status, f.execs[arn].RedriveStatus = status, redriveStatus
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}
