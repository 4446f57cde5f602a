package sfnlocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/efspipe/efspipe/pkg/asl"
)

// syncLimit is how long a synchronous Express execution may run, as in AWS.
const syncLimit = 5 * time.Minute

type syncIn struct {
	Arn          string  `json:"stateMachineArn"`
	Name         string  `json:"name"`
	Input        *string `json:"input"`
	TraceHeader  string  `json:"traceHeader"`
	IncludedData string  `json:"includedData"`
}

type syncOut struct {
	Arn           string          `json:"executionArn"`
	MachineArn    string          `json:"stateMachineArn"`
	Name          string          `json:"name"`
	Start         epoch           `json:"startDate"`
	Stop          epoch           `json:"stopDate"`
	Status        string          `json:"status"`
	Error         string          `json:"error,omitempty"`
	Cause         string          `json:"cause,omitempty"`
	Input         *string         `json:"input,omitempty"`
	InputDetails  map[string]bool `json:"inputDetails"`
	Output        *string         `json:"output,omitempty"`
	OutputDetails map[string]bool `json:"outputDetails,omitempty"`
	TraceHeader   string          `json:"traceHeader,omitempty"`
	Billing       billing         `json:"billingDetails"`
}

// billing is nominal: nothing is billed locally. The duration is the
// execution's, rounded up to 100 ms, and the memory AWS's minimum, 64 MB.
type billing struct {
	MemoryMB   int64 `json:"billedMemoryUsedInMB"`
	DurationMS int64 `json:"billedDurationInMilliseconds"`
}

// beginSync registers a run that ends within its call (StartSyncExecution,
// TestState), so that Close waits for it, and returns its context: the
// run ends with the server (Close), the caller (a closed connection) or
// syncLimit, whichever comes first. end releases it.
func (s *Server) beginSync(ctx context.Context) (rctx context.Context, end func(), err error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, nil, errorf("ServiceUnavailable", "the server is shutting down")
	}
	s.wg.Add(1)
	s.mu.Unlock()
	rctx, cancel := context.WithTimeout(s.ctx, syncLimit)
	stop := context.AfterFunc(ctx, cancel)
	return rctx, func() {
		stop()
		cancel()
		s.wg.Done()
	}, nil
}

// startSyncExecution: https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartSyncExecution.html
// It runs an EXPRESS machine (or a version or alias of one) to the end in
// the request and answers 200 whatever the outcome. Nothing is kept: like
// AWS, which keeps Express histories only in CloudWatch Logs, the endpoint
// cannot describe the execution afterwards. The per-job lock is taken as
// for any execution.
func (s *Server) startSyncExecution(ctx context.Context, in syncIn) (any, error) {
	r, err := s.runnable(in.Arn)
	if err != nil {
		return nil, err
	}
	if r.m.rec.Type != "EXPRESS" {
		return nil, errorf("StateMachineTypeNotSupported", "This operation is not supported by this type of state machine: StartSyncExecution runs EXPRESS state machines; %s is %s", r.m.rec.Arn, r.m.rec.Type)
	}
	switch in.IncludedData {
	case "", "ALL_DATA", "METADATA_ONLY":
	default:
		return nil, errorf("ValidationException", "1 validation error detected: Value '%s' at 'includedData' failed to satisfy constraint: Member must satisfy enum value set: [ALL_DATA, METADATA_ONLY]", in.IncludedData)
	}
	input := "{}"
	if in.Input != nil {
		input = *in.Input
	}
	name := in.Name
	if name == "" {
		name = newUUID()
	}
	if _, err := s.checkStart(name, input); err != nil {
		return nil, err
	}
	am := r.m.m
	if r.versionArn != "" {
		if am, err = asl.Parse([]byte(r.definition)); err != nil {
			return nil, fmt.Errorf("sfnlocal: version %s no longer parses: %w", r.versionArn, err)
		}
	}
	x := &execution{m: am, ephemeral: true, rec: executionRecord{
		Arn:        fmt.Sprintf("arn:aws:states:%s:%s:express:%s:%s:%s", s.cfg.Region, s.cfg.Account, r.m.rec.Name, name, newUUID()),
		MachineArn: r.m.rec.Arn, Name: name, Input: input, Start: s.now(), Definition: r.definition,
		RoleArn: r.roleArn, VersionArn: r.versionArn, AliasArn: r.aliasArn}}
	if x.rec.RoleArn == "" {
		x.rec.RoleArn = s.roleArn()
	}

	rctx, end, err := s.beginSync(ctx)
	if err != nil {
		return nil, err
	}
	defer end()

	lock := &execLock{s: s, x: x}
	_ = lock.acquire(rctx) // an error is retried by the first Task
	defer lock.release()
	var last asl.Event
	output, runErr := am.Execute(rctx, json.RawMessage(input), asl.Options{
		Invoke:          lock.invoke,
		Sleep:           s.cfg.Sleep,
		Now:             s.cfg.Now,
		OnEvent:         func(e asl.Event) { last = e },
		Objects:         s.cfg.Objects,
		JSONata:         s.jsonata(),
		StateMachineArn: r.m.rec.Arn,
		ExecutionName:   name,
		RoleArn:         x.rec.RoleArn,
	})
	out := syncOut{Arn: x.rec.Arn, MachineArn: x.rec.MachineArn, Name: name, Start: epoch(x.rec.Start), Stop: epoch(s.now()),
		InputDetails: map[string]bool{"included": true}, TraceHeader: in.TraceHeader}
	var ee *asl.ExecutionError
	switch {
	case runErr == nil:
		text := string(output)
		out.Status, out.Output, out.OutputDetails = "SUCCEEDED", &text, map[string]bool{"included": true}
	case last.Type == "ExecutionTimedOut" && errors.As(runErr, &ee):
		out.Status, out.Error, out.Cause = "TIMED_OUT", ee.Name, ee.Cause
	case errors.As(runErr, &ee):
		out.Status, out.Error, out.Cause = "FAILED", ee.Name, ee.Cause
	case s.ctx.Err() == nil && ctx.Err() == nil && rctx.Err() != nil:
		out.Status, out.Error, out.Cause = "TIMED_OUT", asl.ErrTimeout, fmt.Sprintf("The execution ran for over %s, the limit of a synchronous Express execution.", syncLimit)
	case s.ctx.Err() != nil:
		out.Status, out.Error, out.Cause = "FAILED", asl.ErrRuntime, InterruptedCause
	default:
		out.Status, out.Error, out.Cause = "FAILED", asl.ErrRuntime, runErr.Error()
	}
	if in.IncludedData != "METADATA_ONLY" {
		out.Input = &input
	} else {
		out.InputDetails, out.Output, out.OutputDetails = map[string]bool{"included": false}, nil, map[string]bool{"included": false}
	}
	d := time.Time(out.Stop).Sub(x.rec.Start)
	out.Billing = billing{MemoryMB: 64, DurationMS: (d.Milliseconds() + 99) / 100 * 100}
	return out, nil
}
