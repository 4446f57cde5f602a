package sfnlocal_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/sfnlocal"
)

// env is a server on a temp mount with the real pipeline behind it.
type env struct {
	mountDir, out string
	mount         *jobfs.Mount
	srv           *sfnlocal.Server
	http          *httptest.Server
	c             *sfn.Client
	pipeline      string // the built-in machine's ARN
}

func newEnv(t *testing.T, mountDir string, hook local.Hook) *env {
	t.Helper()
	return newEnvWith(t, mountDir, hook, nil)
}

// newEnvWith is newEnv with cfg changing the server's Config (nil: none).
func newEnvWith(t *testing.T, mountDir string, hook local.Hook, cfg func(*sfnlocal.Config)) *env {
	t.Helper()
	if mountDir == "" {
		mountDir = t.TempDir()
	}
	m, err := jobfs.Open(mountDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	out, outDir := pipetest.Out(t)
	p, err := local.New(local.Config{Mount: m, Out: out, Hook: hook, Settings: jobspec.Settings{ShardPages: 2},
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	c := sfnlocal.Config{Mount: m, Invoke: p.Functions().Invoke, Lock: p.LockExecution, FlushInterval: 10 * time.Millisecond,
		Sleep: func(context.Context, time.Duration) error { return nil }}
	if cfg != nil {
		cfg(&c)
	}
	srv, err := sfnlocal.New(c)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return &env{mountDir: mountDir, mount: m, out: outDir, srv: srv, http: hs, c: client(hs.URL),
		pipeline: "arn:aws:states:us-east-1:000000000000:stateMachine:efspipe"}
}

// client is the SDK client as a user configures it: any static
// credentials, the endpoint URL; requests are signed (and not checked).
func client(url string) *sfn.Client {
	return sfn.New(sfn.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local-secret", ""),
	})
}

func writePDF(t *testing.T, pages int) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, pdftest.Doc(pages, pdftest.DocOptions{}), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func input(t *testing.T, src string) *string {
	b, err := json.Marshal(map[string]string{"source": src})
	if err != nil {
		t.Fatal(err)
	}
	return aws.String(string(b))
}

// wait polls DescribeExecution until the execution is not RUNNING.
func (e *env) wait(t *testing.T, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := e.c.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: &arn})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != types.ExecutionStatusRunning {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still RUNNING", arn)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *env) history(t *testing.T, arn string, page int32, reverse bool) []types.HistoryEvent {
	t.Helper()
	var all []types.HistoryEvent
	p := sfn.NewGetExecutionHistoryPaginator(e.c, &sfn.GetExecutionHistoryInput{ExecutionArn: &arn, MaxResults: page, ReverseOrder: reverse})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if page > 0 && len(out.Events) > int(page) {
			t.Fatalf("page of %d events, asked for %d", len(out.Events), page)
		}
		all = append(all, out.Events...)
	}
	return all
}

func errType(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func typesOf(events []types.HistoryEvent) []string {
	var out []string
	for _, ev := range events {
		out = append(out, string(ev.Type))
	}
	return out
}

func TestPipelineThroughSDK(t *testing.T) {
	e := newEnv(t, "", nil)
	list, err := e.c.ListStateMachines(t.Context(), &sfn.ListStateMachinesInput{})
	if err != nil || len(list.StateMachines) != 1 || *list.StateMachines[0].StateMachineArn != e.pipeline {
		t.Fatalf("list: %+v %v", list, err)
	}
	d, err := e.c.DescribeStateMachine(t.Context(), &sfn.DescribeStateMachineInput{StateMachineArn: &e.pipeline})
	if err != nil || *d.Name != "efspipe" || !strings.Contains(*d.Definition, "efspipe-compress") || d.Type != types.StateMachineTypeStandard {
		t.Fatalf("describe machine: %+v %v", d, err)
	}

	src := writePDF(t, 4)
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &e.pipeline, Name: aws.String("doc-1"), Input: input(t, src)})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:states:us-east-1:000000000000:execution:efspipe:doc-1"; *start.ExecutionArn != want {
		t.Errorf("execution ARN %s, want %s", *start.ExecutionArn, want)
	}
	got := e.wait(t, *start.ExecutionArn)
	if got.Status != types.ExecutionStatusSucceeded || got.StopDate == nil || !got.StartDate.Equal(*start.StartDate) {
		t.Fatalf("describe: %+v", got)
	}
	var res local.Result
	if err := json.Unmarshal([]byte(*got.Output), &res); err != nil || res.Status != jobspec.Succeeded || res.Pages != 4 {
		t.Fatalf("output %s: %v", *got.Output, err)
	}
	pipetest.Verify(t, e.out, res.Job, false)

	full := e.history(t, *start.ExecutionArn, 0, false)
	kinds := strings.Join(typesOf(full), " ")
	for _, want := range []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionSucceeded",
		"MapStateStarted", "MapIterationStarted", "MapIterationSucceeded", "MapStateSucceeded", "ExecutionSucceeded"} {
		if !strings.Contains(kinds, want) {
			t.Errorf("history lacks %s: %s", want, kinds)
		}
	}
	for i, ev := range full {
		if ev.Id != int64(i+1) || ev.Timestamp == nil {
			t.Fatalf("event %d: id %d, timestamp %v", i, ev.Id, ev.Timestamp)
		}
	}
	if !full[0].Timestamp.Equal(*start.StartDate) {
		t.Errorf("ExecutionStarted at %v, startDate %v", full[0].Timestamp, start.StartDate)
	}
	if *full[0].ExecutionStartedEventDetails.Input != *input(t, src) {
		t.Errorf("ExecutionStarted input %s", *full[0].ExecutionStartedEventDetails.Input)
	}
	if paged := e.history(t, *start.ExecutionArn, 3, false); len(paged) != len(full) || paged[len(paged)-1].Id != full[len(full)-1].Id {
		t.Errorf("paged by 3: %d events, unpaged %d", len(paged), len(full))
	}
	rev := e.history(t, *start.ExecutionArn, 7, true)
	if len(rev) != len(full) || rev[0].Type != types.HistoryEventTypeExecutionSucceeded || rev[len(rev)-1].Id != 1 {
		t.Errorf("reverse order: first %s, last id %d", rev[0].Type, rev[len(rev)-1].Id)
	}

	execs, err := e.c.ListExecutions(t.Context(), &sfn.ListExecutionsInput{StateMachineArn: &e.pipeline, StatusFilter: types.ExecutionStatusSucceeded})
	if err != nil || len(execs.Executions) != 1 || *execs.Executions[0].Name != "doc-1" {
		t.Fatalf("list executions: %+v %v", execs, err)
	}
	// A closed execution's name is taken, whatever the input.
	_, err = e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &e.pipeline, Name: aws.String("doc-1"), Input: input(t, src)})
	var exists *types.ExecutionAlreadyExists
	if !errors.As(err, &exists) {
		t.Errorf("restart of a closed execution: %v, want ExecutionAlreadyExists", err)
	}
	_, err = e.c.RedriveExecution(t.Context(), &sfn.RedriveExecutionInput{ExecutionArn: start.ExecutionArn})
	var notRedrivable *types.ExecutionNotRedrivable
	if !errors.As(err, &notRedrivable) {
		t.Errorf("redrive of a succeeded execution: %v", err)
	}
}

// gate blocks the compress stage until opened, so an execution stays
// RUNNING for as long as a test needs.
type gate struct {
	entered chan struct{}
	open    chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 100), open: make(chan struct{})} }

func (g *gate) hook(ctx context.Context, fn string, _ json.RawMessage) error {
	if fn != "compress" {
		return nil
	}
	g.entered <- struct{}{}
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestNameSemantics(t *testing.T) {
	g := newGate()
	e := newEnv(t, "", g.hook)
	src := writePDF(t, 2)
	first, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &e.pipeline, Name: aws.String("same"), Input: input(t, src)})
	if err != nil {
		t.Fatal(err)
	}
	<-g.entered
	// Same name, same input, still running: the same execution (AWS
	// Standard), even with the JSON spelled differently.
	again, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &e.pipeline, Name: aws.String("same"),
		Input: aws.String(strings.ReplaceAll(*input(t, src), ":", ": "))})
	if err != nil || *again.ExecutionArn != *first.ExecutionArn || !again.StartDate.Equal(*first.StartDate) {
		t.Fatalf("same name and input while running: %+v %v", again, err)
	}
	_, err = e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &e.pipeline, Name: aws.String("same"), Input: aws.String(`{"source":"other.pdf"}`)})
	if errType(err) != "ExecutionAlreadyExists" {
		t.Errorf("same name, other input: %v", err)
	}
	for _, bad := range []string{"", "has space", "a/b", "a:b", "x{y", "tab\there", "\u0085", strings.Repeat("n", 81)} {
		if bad == "" {
			continue // an empty name is a generated UUID, tested below
		}
		_, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &e.pipeline, Name: aws.String(bad), Input: aws.String(`{}`)})
		if errType(err) != "InvalidName" {
			t.Errorf("name %q: %v, want InvalidName", bad, err)
		}
	}
	_, err = e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &e.pipeline, Name: aws.String("bad-input"), Input: aws.String(`{"source":`)})
	if errType(err) != "InvalidExecutionInput" {
		t.Errorf("bad input: %v", err)
	}
	close(g.open)
	if d := e.wait(t, *first.ExecutionArn); d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
}

func TestStopAndRedrive(t *testing.T) {
	g := newGate()
	e := newEnv(t, "", g.hook)
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &e.pipeline, Name: aws.String("stopped"), Input: input(t, writePDF(t, 4))})
	if err != nil {
		t.Fatal(err)
	}
	<-g.entered
	// An error over 256 characters or a cause over 32,768 is refused, and
	// the execution runs on (API_StopExecution.html): they were recorded
	// in the history whatever their size.
	for _, in := range []sfn.StopExecutionInput{
		{ExecutionArn: start.ExecutionArn, Error: aws.String(strings.Repeat("é", 257))},
		{ExecutionArn: start.ExecutionArn, Cause: aws.String(strings.Repeat("c", 32769))},
	} {
		if _, err := e.c.StopExecution(t.Context(), &in); errType(err) != "ValidationException" {
			t.Errorf("StopExecution with a %d-byte error and a %d-byte cause: %v", len(aws.ToString(in.Error)), len(aws.ToString(in.Cause)), err)
		}
	}
	if d, err := e.c.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: start.ExecutionArn}); err != nil || d.Status != types.ExecutionStatusRunning {
		t.Fatalf("after refused stops: %v %v", d.Status, err)
	}
	stop, err := e.c.StopExecution(t.Context(), &sfn.StopExecutionInput{ExecutionArn: start.ExecutionArn, Error: aws.String(strings.Repeat("é", 6) + "Operator"), Cause: aws.String(strings.Repeat("c", 32768-19) + "stopped by the test")})
	if err != nil {
		t.Fatal(err)
	}
	d := e.wait(t, *start.ExecutionArn)
	if d.Status != types.ExecutionStatusAborted || !d.StopDate.Equal(*stop.StopDate) || !strings.HasSuffix(aws.ToString(d.Error), "Operator") ||
		d.RedriveStatus != types.ExecutionRedriveStatusRedrivable {
		t.Fatalf("after stop: %+v", d)
	}
	h := e.history(t, *start.ExecutionArn, 0, false)
	if last := h[len(h)-1]; last.Type != types.HistoryEventTypeExecutionAborted || !strings.HasSuffix(aws.ToString(last.ExecutionAbortedEventDetails.Cause), "stopped by the test") {
		t.Fatalf("last event %s %+v", last.Type, last.ExecutionAbortedEventDetails)
	}
	close(g.open)
	red, err := e.c.RedriveExecution(t.Context(), &sfn.RedriveExecutionInput{ExecutionArn: start.ExecutionArn})
	if err != nil || red.RedriveDate == nil {
		t.Fatalf("redrive: %+v %v", red, err)
	}
	d = e.wait(t, *start.ExecutionArn)
	if d.Status != types.ExecutionStatusSucceeded || aws.ToInt32(d.RedriveCount) != 1 || d.RedriveDate == nil {
		t.Fatalf("after redrive: %s count %d", d.Status, aws.ToInt32(d.RedriveCount))
	}
	h2 := e.history(t, *start.ExecutionArn, 0, false)
	if h2[len(h):][0].Type != types.HistoryEventTypeExecutionRedriven {
		t.Errorf("redrive continues with %s", h2[len(h)].Type)
	}
	// The ingest and split states finished before the stop: not rerun.
	for _, ev := range h2[len(h):] {
		if ev.StateEnteredEventDetails != nil && (*ev.StateEnteredEventDetails.Name == "Ingest" || *ev.StateEnteredEventDetails.Name == "Split") {
			t.Errorf("redrive reran %s", *ev.StateEnteredEventDetails.Name)
		}
	}
}

// TestStopDuringLastState: a state that completes in spite of the stop
// (here a Task whose stage finishes once its context is cancelled) does
// not turn a stopped execution into a SUCCEEDED one: once StopExecution
// has answered, the execution is ABORTED with its error and cause, as in
// Step Functions (API_StopExecution.html).
func TestStopDuringLastState(t *testing.T) {
	entered := make(chan struct{}, 1)
	e := newEnvWith(t, "", nil, func(c *sfnlocal.Config) {
		c.Invoke = func(ctx context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
			entered <- struct{}{}
			<-ctx.Done()
			return json.RawMessage(`{"finished":true}`), nil
		}
	})
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:efspipe-ingest","End":true}}}`
	created := e.create(t, "stubborn", def)
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Input: aws.String(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	<-entered
	if _, err := e.c.StopExecution(t.Context(), &sfn.StopExecutionInput{ExecutionArn: start.ExecutionArn, Error: aws.String("Operator"), Cause: aws.String("stopped")}); err != nil {
		t.Fatal(err)
	}
	d := e.wait(t, *start.ExecutionArn)
	if d.Status != types.ExecutionStatusAborted || aws.ToString(d.Error) != "Operator" || aws.ToString(d.Cause) != "stopped" || d.Output != nil {
		t.Fatalf("after stop: %s error %q cause %q output %v", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), aws.ToString(d.Output))
	}
	h := e.history(t, *start.ExecutionArn, 0, false)
	if last := h[len(h)-1]; last.Type != types.HistoryEventTypeExecutionAborted || aws.ToString(last.ExecutionAbortedEventDetails.Error) != "Operator" {
		t.Fatalf("last event %s", last.Type)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// post sends one API call as raw JSON over HTTP and returns the body: what
// a client that reads the JSON itself (jq, JavaScript) receives.
func (e *env) post(t *testing.T, action, body string) map[string]json.RawMessage {
	t.Helper()
	resp, b := e.call(t, action, body)
	var out map[string]json.RawMessage
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d, %v", action, resp.StatusCode, err)
	}
	return out
}

// call sends body as the API call action (CreateStateMachine, ...) and
// returns the response, its body read.
func (e *env) call(t *testing.T, action, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.http.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "AWSStepFunctions."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// emptyPageToken is a ListStateMachines token whose page is empty: the
// one after the pipeline's, to a machine deleted since.
func emptyPageToken(t *testing.T, e *env) string {
	t.Helper()
	created := e.create(t, "gone", passDefinition("x"))
	l, err := e.c.ListStateMachines(t.Context(), &sfn.ListStateMachinesInput{MaxResults: 1})
	if err != nil || l.NextToken == nil {
		t.Fatalf("%+v %v", l, err)
	}
	if _, err := e.c.DeleteStateMachine(t.Context(), &sfn.DeleteStateMachineInput{StateMachineArn: created.StateMachineArn}); err != nil {
		t.Fatal(err)
	}
	return *l.NextToken
}

// Every list action answers an empty list as [], never null.
func TestEmptyListsAreLists(t *testing.T) {
	e := newEnv(t, "", nil)
	machine := `{"stateMachineArn":"` + e.pipeline + `"}`
	for _, tc := range []struct{ action, body, field string }{
		{"ListExecutions", machine, "executions"},
		{"ListExecutions", `{"stateMachineArn":"` + e.pipeline + `","statusFilter":"FAILED"}`, "executions"},
		{"ListStateMachines", `{"nextToken":"` + emptyPageToken(t, e) + `"}`, "stateMachines"},
	} {
		if got := string(e.post(t, tc.action, tc.body)[tc.field]); got != "[]" {
			t.Errorf("%s %s: %s is %s, want []", tc.action, tc.body, tc.field, got)
		}
	}
	// And with the SDK, the list decodes to an empty slice.
	l, err := e.c.ListExecutions(t.Context(), &sfn.ListExecutionsInput{StateMachineArn: &e.pipeline})
	if err != nil || len(l.Executions) != 0 {
		t.Fatalf("%+v %v", l, err)
	}
}

// TestListExecutionsPagingWhileStarting: a client paging through
// ListExecutions while executions start sees each execution once, where
// the next page began at an offset into a list the new executions entered
// at its head (newest first), listing 70 of 370 twice. A token used with
// other arguments is InvalidToken ("Keep all other arguments unchanged",
// API_ListExecutions.html).
func TestListExecutionsPagingWhileStarting(t *testing.T) {
	e := newEnv(t, "", nil)
	created := e.create(t, "pass", passDefinition("x"))
	start := func(name string) {
		t.Helper()
		if _, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Name: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		start(fmt.Sprint("before-", i))
	}
	seen := map[string]int{}
	p := sfn.NewListExecutionsPaginator(e.c, &sfn.ListExecutionsInput{StateMachineArn: created.StateMachineArn, MaxResults: 7})
	for pages := 0; p.HasMorePages(); pages++ {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range out.Executions {
			seen[aws.ToString(x.Name)]++
		}
		if out.NextToken != nil {
			if _, err := e.c.ListExecutions(t.Context(), &sfn.ListExecutionsInput{StateMachineArn: created.StateMachineArn, NextToken: out.NextToken,
				StatusFilter: types.ExecutionStatusFailed}); errType(err) != "InvalidToken" {
				t.Errorf("a token with another statusFilter: %v, want InvalidToken", err)
			}
		}
		start(fmt.Sprint("during-", pages))
	}
	for i := range 30 {
		if n := seen[fmt.Sprint("before-", i)]; n != 1 {
			t.Errorf("before-%d listed %d times", i, n)
		}
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", name, n)
		}
	}
}

// TestListStateMachinesPagingWhileDeleting: a client paging through
// ListStateMachines while machines listed already are deleted sees every
// remaining machine, where the next page began at an offset that each
// deletion moved past one machine it had not listed.
func TestListStateMachinesPagingWhileDeleting(t *testing.T) {
	e := newEnv(t, "", nil)
	var arns []string
	for i := range 20 {
		created, err := e.c.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String(fmt.Sprint("m-", i)),
			Definition: aws.String(passDefinition("x")), RoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, *created.StateMachineArn)
	}
	seen := map[string]bool{}
	p := sfn.NewListStateMachinesPaginator(e.c, &sfn.ListStateMachinesInput{MaxResults: 3})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.StateMachines {
			seen[aws.ToString(m.StateMachineArn)] = true
		}
		// The first machine of the page, listed already, goes.
		if arn := aws.ToString(out.StateMachines[0].StateMachineArn); arn != e.pipeline {
			if _, err := e.c.DeleteStateMachine(t.Context(), &sfn.DeleteStateMachineInput{StateMachineArn: &arn}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, arn := range arns {
		if !seen[arn] {
			t.Errorf("%s not listed", arn)
		}
	}
}

// TestHistoryWithoutExecutionData: GetExecutionHistory with
// includeExecutionData false answers the same events without their input
// and output (API_GetExecutionHistory.html), where it sent them all; a
// later call with the default still has them.
func TestHistoryWithoutExecutionData(t *testing.T) {
	e := newEnv(t, "", nil)
	created := e.create(t, "pass", passDefinition("x"))
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Input: aws.String(`{"data":"secret-ish"}`)})
	if err != nil {
		t.Fatal(err)
	}
	e.wait(t, *start.ExecutionArn)
	bare, err := e.c.GetExecutionHistory(t.Context(), &sfn.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn, IncludeExecutionData: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	full := e.history(t, *start.ExecutionArn, 0, false)
	if len(bare.Events) != len(full) || len(full) < 4 {
		t.Fatalf("%d events without data, %d with", len(bare.Events), len(full))
	}
	for i, ev := range bare.Events {
		if ev.Type != full[i].Type || ev.Id != full[i].Id || !aws.ToTime(ev.Timestamp).Equal(aws.ToTime(full[i].Timestamp)) {
			t.Errorf("event %d: %s %d, with data %s %d", i, ev.Type, ev.Id, full[i].Type, full[i].Id)
		}
		b, _ := json.Marshal(ev)
		if strings.Contains(string(b), "secret-ish") {
			t.Errorf("event %d (%s) carries the execution's data: %s", i, ev.Type, b)
		}
	}
	if d := full[0].ExecutionStartedEventDetails; d == nil || !strings.Contains(aws.ToString(d.Input), "secret-ish") {
		t.Errorf("with data, ExecutionStarted carries %+v", d)
	}
}

// create creates the state machine name with definition, as any role.
func (e *env) create(t *testing.T, name, definition string) *sfn.CreateStateMachineOutput {
	t.Helper()
	created, err := e.c.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String(name),
		Definition: aws.String(definition), RoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
	if err != nil {
		t.Fatal(err)
	}
	return created
}
