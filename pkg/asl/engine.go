package asl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Error names defined by the States Language that the engine raises or
// matches specially.
const (
	ErrAll             = "States.ALL"
	ErrRuntime         = "States.Runtime"
	ErrTaskFailed      = "States.TaskFailed"
	ErrTimeout         = "States.Timeout"
	ErrNoChoiceMatched = "States.NoChoiceMatched"
	// ErrDataLimitExceeded is a state output over MaxPayload bytes: a
	// terminal error that States.ALL does not match ("States.ALL ... can't
	// catch the States.DataLimitExceeded terminal error type",
	// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
	ErrDataLimitExceeded = "States.DataLimitExceeded"
)

// MaxHistoryEvents is the most events an execution's history may hold. At
// event 25,000 an execution that is not ending in ExecutionSucceeded fails
// there: that event is ExecutionFailed, the execution stops, and it cannot
// be redriven (https://docs.aws.amazon.com/step-functions/latest/dg/bp-history-limit.html,
// a hard quota). AWS does not document the error name; the engine raises
// States.Runtime, the error of an execution that fails on something it
// could not process.
const MaxHistoryEvents = 25_000

// MaxPayload is the most bytes a state's input or output may have: 256 KiB
// of UTF-8 (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html,
// "Maximum input or output size for a task, state, or execution").
const MaxPayload = 256 << 10

// TaskFunc runs one Task. resource is the Task's Resource, except for the
// optimized "arn:aws:states:::lambda:invoke" integration where it is the
// FunctionName and input is the Payload. A returned *TaskError carries the
// ASL error name; any other error is States.TaskFailed with err.Error() as
// the cause.
type TaskFunc func(ctx context.Context, resource string, input json.RawMessage) (json.RawMessage, error)

// TaskError is a failure with an ASL error name, as a Lambda function
// reports it (errorType, errorMessage).
type TaskError struct {
	Name  string
	Cause string
}

func (e *TaskError) Error() string { return e.Name + ": " + e.Cause }

// ExecutionError is the failure of an execution: a Fail state, an error no
// Catch handled, or a States.Runtime error. Name is the ASL error name.
type ExecutionError struct {
	Name  string
	Cause string
}

func (e *ExecutionError) Error() string {
	if e.Cause == "" {
		return "asl: execution failed: " + e.Name
	}
	return "asl: execution failed: " + e.Name + ": " + e.Cause
}

// Options configure one execution. The zero value runs with real time and
// no events; Invoke is required when the machine has Task states.
type Options struct {
	// Invoke runs Task states.
	Invoke TaskFunc
	// Sleep waits for Wait states and Retry intervals. Default: a timer
	// that returns ctx.Err() when ctx ends first.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now stamps events and the context object. Default: time.Now.
	Now func() time.Time
	// OnEvent receives the history, in order, one call at a time (calls
	// from concurrent Map iterations are serialised). Default: none.
	OnEvent func(Event)
	// StateMachineArn is $$.StateMachine.Id. Default:
	// "arn:aws:states:us-east-1:123456789012:stateMachine:local".
	StateMachineArn string
	// ExecutionName is $$.Execution.Name, the last part of $$.Execution.Id.
	// Default: a random UUID.
	ExecutionName string
	// RoleArn is $$.Execution.RoleArn and the roleArn of ExecutionStarted.
	// Default: empty.
	RoleArn string
	// OnMapRun receives the state of the Map Run of a DISTRIBUTED Map
	// when it starts, whenever one of its child executions ends, and when
	// it ends; calls for one Map Run are serialised. Default: none.
	OnMapRun func(MapRun)
	// Objects holds the S3 objects of the ItemReader and ResultWriter of
	// DISTRIBUTED Map states. Default: none; it is required when the
	// machine has either (Machine.UsesObjects).
	Objects Objects
	// JSONata evaluates the execution's JSONata expressions instead of
	// this process (EvalJSONata is what it must compute): serve gives
	// it worker processes, so that an expression that recurses without
	// bound or exhausts memory ends a worker, not every execution.
	// Default: in this process.
	JSONata JSONataFunc
}

// JSONataFunc evaluates the JSONata expression expr with the variables
// vars (a JSON object; "states" is $states) and returns its value as JSON,
// as EvalJSONata does. An expression that fails is a *JSONataError; any
// other error (the evaluator itself failed) is the state's
// States.QueryEvaluationError, unless ctx ended first.
type JSONataFunc func(ctx context.Context, expr string, vars json.RawMessage) (json.RawMessage, error)

const defaultStateMachineArn = "arn:aws:states:us-east-1:123456789012:stateMachine:local"

// failure is an ASL error raised inside the execution.
type failure struct {
	Name  string
	Cause string
}

func (f *failure) Error() string { return f.Name + ": " + f.Cause }

// errAborted unwinds a branch of the execution that was cancelled: by the
// caller, by the machine's timeout, or because a sibling Map iteration or
// Parallel branch failed.
var errAborted = errors.New("asl: aborted")

// exec is one execution (or one redrive of it).
type exec struct {
	m       *Machine
	invoke  TaskFunc
	sleep   func(context.Context, time.Duration) error
	now     func() time.Time
	onEvent func(Event)
	onRun   func(MapRun)
	objects Objects
	jsonata JSONataFunc

	mu     sync.Mutex // serialises events
	nextID int64
	// full is set when the history reached MaxHistoryEvents on an event
	// that did not end the execution: that event was replaced with
	// ExecutionFailed, stop ended the run, and later events are dropped.
	full bool
	stop context.CancelFunc

	smArn, smName, region   string
	execArn, execName, role string
	input                   any
	inputText               string
	startTime               time.Time
	redriveCount            int
}

// chain is the previousEventId chain of one thread of the execution: the
// top level, one Map iteration or one Parallel branch.
type chain struct{ last int64 }

func (m *Machine) newExec(opts Options) (*exec, error) {
	if m.hasTask && opts.Invoke == nil {
		return nil, errors.New("asl: Options.Invoke is nil but the machine has Task states")
	}
	if m.hasS3 && opts.Objects == nil {
		return nil, errors.New("asl: Options.Objects is nil but a DISTRIBUTED Map has an ItemReader or a ResultWriter")
	}
	x := &exec{m: m, invoke: opts.Invoke, sleep: opts.Sleep, now: opts.Now, onEvent: opts.OnEvent, onRun: opts.OnMapRun, objects: opts.Objects, jsonata: opts.JSONata, nextID: 1, role: opts.RoleArn}
	if x.sleep == nil {
		x.sleep = sleepCtx
	}
	if x.now == nil {
		x.now = time.Now
	}
	x.smArn = opts.StateMachineArn
	if x.smArn == "" {
		x.smArn = defaultStateMachineArn
	}
	parts := strings.Split(x.smArn, ":")
	if len(parts) < 7 || parts[0] != "arn" || parts[5] != "stateMachine" {
		return nil, fmt.Errorf("asl: Options.StateMachineArn %q is not a state machine ARN", x.smArn)
	}
	x.region, x.smName = parts[3], parts[6]
	x.execName = opts.ExecutionName
	if x.execName == "" {
		x.execName = newUUID()
	}
	x.execArn = strings.Join([]string{"arn", parts[1], "states", parts[3], parts[4], "execution", x.smName, x.execName}, ":")
	return x, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// begin decodes an execution's input (empty is {}) and starts its clock.
func (x *exec) begin(input json.RawMessage) (any, error) {
	if len(input) == 0 {
		input = json.RawMessage("{}")
	}
	in, err := decode(input)
	if err != nil {
		return nil, err
	}
	x.input, x.inputText, x.startTime = in, string(marshal(in)), x.stamp()
	return in, nil
}

// Execute runs the machine on input and returns its output. A failed
// execution returns an *ExecutionError; a cancelled one ctx's error.
func (m *Machine) Execute(ctx context.Context, input json.RawMessage, opts Options) (json.RawMessage, error) {
	x, err := m.newExec(opts)
	if err != nil {
		return nil, err
	}
	in, err := x.begin(input)
	if err != nil {
		return nil, fmt.Errorf("asl: invalid execution input: %w", err)
	}
	top := &chain{}
	x.emit(top, Event{Type: "ExecutionStarted", ExecutionStartedEventDetails: &ExecutionStartedEventDetails{
		Input: x.inputText, InputDetails: &DataDetails{}, RoleArn: x.role}})
	return x.run(ctx, top, in, nil)
}

func (x *exec) run(ctx context.Context, top *chain, in any, resume *threadRec) (json.RawMessage, error) {
	rctx := ctx
	if x.m.timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, x.m.timeout)
		defer cancel()
	}
	rctx, stop := context.WithCancel(rctx)
	defer stop()
	x.mu.Lock()
	x.stop = stop
	x.mu.Unlock()
	out, err := x.runScope(rctx, x.m.root, in, top, resume, &varScope{})
	var f *failure
	switch {
	case x.historyFull():
		return nil, &ExecutionError{Name: ErrRuntime, Cause: historyFullCause}
	case err == nil:
		text := marshal(out)
		x.emit(top, Event{Type: "ExecutionSucceeded", ExecutionSucceededEventDetails: &ExecutionSucceededEventDetails{Output: string(text), OutputDetails: &DataDetails{}}})
		return text, nil
	case errors.As(err, &f):
		x.emit(top, Event{Type: "ExecutionFailed", ExecutionFailedEventDetails: &ErrorDetails{Error: f.Name, Cause: f.Cause}})
		return nil, &ExecutionError{Name: f.Name, Cause: f.Cause}
	case ctx.Err() == nil && rctx.Err() != nil:
		cause := fmt.Sprintf("The execution timed out after %d seconds.", int64(x.m.timeout/time.Second))
		x.emit(top, Event{Type: "ExecutionTimedOut", ExecutionTimedOutEventDetails: &ErrorDetails{Error: ErrTimeout, Cause: cause}})
		return nil, &ExecutionError{Name: ErrTimeout, Cause: cause}
	}
	x.emit(top, Event{Type: "ExecutionAborted", ExecutionAbortedEventDetails: &ErrorDetails{}})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, err
}

// historyFull reports whether the history reached MaxHistoryEvents on an
// event that did not end the execution (emit).
func (x *exec) historyFull() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.full
}

// historyFullCause is the cause of an execution failed by MaxHistoryEvents.
var historyFullCause = fmt.Sprintf("The execution reached the maximum number of events in its history (%d) and was stopped.", MaxHistoryEvents)

func (x *exec) stamp() time.Time { return x.now().UTC().Truncate(time.Millisecond) }

// emit appends e to the history on chain ch. Events are numbered and
// delivered under one lock, so ids are increasing in delivery order.
//
// The event numbered MaxHistoryEvents ends the history: unless it ends
// the execution, it is replaced with ExecutionFailed and the run is
// stopped; nothing after it is recorded.
func (x *exec) emit(ch *chain, e Event) {
	if x.onEvent == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.full {
		return
	}
	if x.nextID >= MaxHistoryEvents {
		switch e.Type {
		case "ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted":
		default:
			e = Event{Type: "ExecutionFailed", ExecutionFailedEventDetails: &ErrorDetails{Error: ErrRuntime, Cause: historyFullCause}}
			x.full = true
			if x.stop != nil {
				x.stop()
			}
		}
	}
	e.ID = x.nextID
	x.nextID++
	e.PreviousEventID = ch.last
	ch.last = e.ID
	e.Timestamp = x.stamp()
	x.onEvent(e)
}

func (x *exec) emitEntered(ch *chain, st *state, in any) {
	if x.onEvent == nil {
		return
	}
	x.emit(ch, Event{Type: st.typ + "StateEntered", StateEnteredEventDetails: &StateEnteredEventDetails{
		Name: st.name, Input: string(marshal(in)), InputDetails: &DataDetails{}}})
}

func (x *exec) emitExited(ch *chain, st *state, out []byte, assigned map[string]any) {
	if x.onEvent == nil {
		return
	}
	d := &StateExitedEventDetails{Name: st.name, Output: string(out), OutputDetails: &DataDetails{}}
	if len(assigned) > 0 {
		d.AssignedVariables = make(map[string]string, len(assigned))
		for k, v := range assigned {
			d.AssignedVariables[k] = string(marshal(v))
		}
		d.AssignedVariablesDetails = &DataDetails{}
	}
	x.emit(ch, Event{Type: st.typ + "StateExited", StateExitedEventDetails: d})
}

// ctxObj is the context object ($$) of one state attempt, built on demand.
type ctxObj struct {
	x       *exec
	ctx     context.Context // the state's run: ends an evaluation elsewhere (Options.JSONata)
	st      *state
	entered time.Time
	retry   int
	item    *mapItem
	v       any
}

type mapItem struct {
	index int
	value any
}

const isoMillis = "2006-01-02T15:04:05.000Z"

func (c *ctxObj) value() any {
	if c.v != nil {
		return c.v
	}
	x := c.x
	v := map[string]any{
		"Execution": map[string]any{
			"Id": x.execArn, "Name": x.execName, "Input": x.input, "RoleArn": x.role,
			"StartTime": x.startTime.UTC().Format(isoMillis), "RedriveCount": intNumber(int64(x.redriveCount)),
		},
		"State": map[string]any{
			"Name": c.st.name, "EnteredTime": c.entered.UTC().Format(isoMillis), "RetryCount": intNumber(int64(c.retry)),
		},
		"StateMachine": map[string]any{"Id": x.smArn, "Name": x.smName},
	}
	if c.item != nil {
		v["Map"] = map[string]any{"Item": map[string]any{"Index": intNumber(int64(c.item.index)), "Value": c.item.value}}
	}
	c.v = v
	return v
}

func runtimeErr(format string, a ...any) error {
	return &failure{Name: ErrRuntime, Cause: fmt.Sprintf(format, a...)}
}

// runScope runs the states of sc from StartAt (or, when redriving, from the
// state that did not finish) until a terminal state.
func (x *exec) runScope(ctx context.Context, sc *scope, in any, ch *chain, resume *threadRec, vars *varScope) (any, error) {
	name := sc.startAt
	var rr *runRec
	if r := resume.unfinished(); r != nil {
		if _, ok := sc.states[r.name]; ok {
			v, err := decode([]byte(r.input))
			if err != nil {
				return nil, fmt.Errorf("asl: history: input of state %q: %w", r.name, err)
			}
			name, in, rr = r.name, v, r
			// The thread's variables as they were when the state was
			// entered: what its finished states assigned, in order.
			vars.set(resume.assigned)
		}
	}
	for {
		st := sc.states[name]
		out, next, err := x.runState(ctx, st, in, ch, rr, vars)
		if err != nil {
			return nil, err
		}
		if next == "" {
			return out, nil
		}
		name, in, rr = next, out, nil
	}
}

// runState runs one state on its raw input and returns its output and the
// name of the next state ("" after a terminal state). The variables the
// state assigns are set in vars once it has finished.
func (x *exec) runState(ctx context.Context, st *state, raw any, ch *chain, rr *runRec, vars *varScope) (out any, next string, err error) {
	c := &ctxObj{x: x, ctx: ctx, st: st, entered: x.stamp()}
	x.emitEntered(ch, st, raw)
	if ctx.Err() != nil {
		return nil, "", errAborted
	}
	var assigned map[string]any
	if st.jsonata {
		out, next, assigned, err = x.runJSONata(ctx, st, raw, ch, c, rr, vars)
	} else {
		out, next, assigned, err = x.runJSONPath(ctx, st, raw, ch, c, rr, vars)
	}
	if err != nil {
		if errors.Is(err, errAborted) && (st.typ == "Task" || st.typ == "Wait" || st.typ == "Map" || st.typ == "Parallel") {
			x.emit(ch, Event{Type: st.typ + "StateAborted"})
		}
		return nil, "", err
	}
	enc, err := st.checkOutput(out)
	if err != nil {
		return nil, "", err
	}
	vars.set(assigned)
	x.emitExited(ch, st, enc, assigned)
	return out, next, nil
}

// checkOutput encodes a state's output, failing with
// States.DataLimitExceeded when it is over MaxPayload bytes; the encoding
// is the StateExited event's output.
func (st *state) checkOutput(out any) ([]byte, error) {
	b := marshal(out)
	if len(b) > MaxPayload {
		return nil, &failure{Name: ErrDataLimitExceeded, Cause: fmt.Sprintf("The state/task '%s' returned a result with a size exceeding the maximum number of bytes service limit (%d bytes, at most %d).", st.name, len(b), MaxPayload)}
	}
	return b, nil
}

// runJSONPath runs a state of the JSONPath query language. Its Assign
// sees, as `$`, the state's result: ResultSelector's output for a Task,
// Map or Parallel, Result or Parameters' output for a Pass, the effective
// input for a Choice or Wait.
func (x *exec) runJSONPath(ctx context.Context, st *state, raw any, ch *chain, c *ctxObj, rr *runRec, vars *varScope) (out any, next string, assigned map[string]any, err error) {
	var eff any
	switch st.typ {
	case "Pass":
		if eff, err = x.effectiveInput(st, raw, c, vars); err != nil {
			return
		}
		if st.hasResult {
			eff = st.result
		}
		if assigned, err = st.assign.eval(&env{input: eff, ctx: c, vars: vars}); err != nil {
			return
		}
		out, err = st.output(raw, eff)
		return out, st.next, assigned, err
	case "Choice":
		if eff, err = st.applyInputPath(raw); err != nil {
			return
		}
		e := &env{input: eff, ctx: c, vars: vars}
		var r *rule
		if next, r, err = st.choose(e); err != nil {
			return
		}
		if assigned, err = evalAssigns(e, st.assign, r.ruleAssign()); err != nil {
			return
		}
		out, err = st.applyOutputPath(eff)
		return out, next, assigned, err
	case "Wait":
		if eff, err = st.applyInputPath(raw); err != nil {
			return
		}
		if err = x.wait(ctx, st, eff, &env{input: eff, ctx: c, vars: vars}); err != nil {
			return
		}
		if assigned, err = st.assign.eval(&env{input: eff, ctx: c, vars: vars}); err != nil {
			return
		}
		out, err = st.applyOutputPath(eff)
		return out, st.next, assigned, err
	case "Succeed":
		if eff, err = st.applyInputPath(raw); err != nil {
			return
		}
		out, err = st.applyOutputPath(eff)
		return out, "", nil, err
	case "Fail":
		return nil, "", nil, st.fail(&env{input: raw, ctx: c, vars: vars})
	}
	return x.retrying(ctx, st, raw, ch, c, rr, vars)
}

// runJSONata runs a state of the JSONata query language
// (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html):
// its expressions see $states.input (the state input), $states.context,
// the variables in scope and, after the work, $states.result; Output (by
// default the result, or the input for a state that has none) and Assign
// are evaluated with the variables as they were when the state was
// entered.
func (x *exec) runJSONata(ctx context.Context, st *state, raw any, ch *chain, c *ctxObj, rr *runRec, vars *varScope) (out any, next string, assigned map[string]any, err error) {
	e := &env{input: raw, ctx: c, vars: vars}
	switch st.typ {
	case "Pass", "Wait", "Succeed":
		if st.typ == "Wait" {
			if err = x.waitJSONata(ctx, st, e); err != nil {
				return
			}
		}
		out, assigned, err = st.finishJSONata(e, raw)
		return out, st.next, assigned, err
	case "Choice":
		var r *rule
		if next, r, err = st.choose(e); err != nil {
			return
		}
		if assigned, err = evalAssigns(e, st.assign, r.ruleAssign()); err != nil {
			return
		}
		out, err = st.outputJSONata(e, raw)
		return out, next, assigned, err
	case "Fail":
		return nil, "", nil, st.failJSONata(e)
	}
	return x.retrying(ctx, st, raw, ch, c, rr, vars)
}

func (r *rule) ruleAssign() *assigner {
	if r == nil {
		return nil
	}
	return r.assign
}

func (st *state) outputJSONata(e *env, dflt any) (any, error) {
	if st.outputJ == nil {
		return dflt, nil
	}
	return st.outputJ.eval(e, "Output")
}

// finishJSONata evaluates Output (dflt when absent) and Assign.
func (st *state) finishJSONata(e *env, dflt any) (any, map[string]any, error) {
	out, err := st.outputJSONata(e, dflt)
	if err != nil {
		return nil, nil, err
	}
	assigned, err := st.assign.eval(e)
	if err != nil {
		return nil, nil, err
	}
	return out, assigned, nil
}

func (st *state) failJSONata(e *env) error {
	f := &failure{Name: st.errName, Cause: st.cause}
	for _, p := range []struct {
		t   *jtmpl
		dst *string
		f   string
	}{{st.errorJ, &f.Name, "Error"}, {st.causeJ, &f.Cause, "Cause"}} {
		if p.t == nil {
			continue
		}
		v, err := p.t.eval(e, p.f)
		if err != nil {
			return err
		}
		s, ok := v.(string)
		if !ok {
			return queryError(e, p.f, "must evaluate to a string, got %s", typeName(v))
		}
		*p.dst = s
	}
	return f
}

func (x *exec) waitJSONata(ctx context.Context, st *state, e *env) error {
	if st.tsJ == nil {
		return x.wait(ctx, st, e.input, e)
	}
	v, err := st.tsJ.eval(e, "Timestamp")
	if err != nil {
		return err
	}
	s, _ := v.(string)
	t, isTS := parseTimestamp(s)
	if !isTS {
		return queryError(e, "Timestamp", "must evaluate to an RFC 3339 timestamp, got %s", marshalString(v))
	}
	if err := x.sleep(ctx, max(t.Sub(x.now()), 0)); err != nil {
		return errAborted
	}
	return nil
}

func (st *state) applyInputPath(raw any) (any, error) {
	switch {
	case st.inputNull:
		return map[string]any{}, nil
	case st.inputPath == nil:
		return raw, nil
	}
	v, ok := st.inputPath.eval(raw)
	if !ok {
		return nil, runtimeErr("An error occurred while executing the state '%s'. Invalid path '%s' : No results for path: %s", st.name, st.inputPath.src, st.inputPath.src)
	}
	return v, nil
}

func (st *state) applyOutputPath(v any) (any, error) {
	switch {
	case st.outputNull:
		return map[string]any{}, nil
	case st.outputPath == nil:
		return v, nil
	}
	out, ok := st.outputPath.eval(v)
	if !ok {
		return nil, runtimeErr("An error occurred while executing the state '%s'. Invalid path '%s' : No results for path: %s", st.name, st.outputPath.src, st.outputPath.src)
	}
	return out, nil
}

// effectiveInput applies InputPath then Parameters, or, in a JSONata
// state, Arguments.
func (x *exec) effectiveInput(st *state, raw any, c *ctxObj, vars *varScope) (any, error) {
	if st.jsonata {
		if st.arguments == nil {
			return raw, nil
		}
		return st.arguments.eval(&env{input: raw, ctx: c, vars: vars}, "Arguments")
	}
	eff, err := st.applyInputPath(raw)
	if err != nil || st.parameters == nil {
		return eff, err
	}
	return st.parameters.eval(&env{input: eff, ctx: c, vars: vars})
}

// output applies ResultPath (placing result into the raw input) then
// OutputPath.
func (st *state) output(raw, result any) (any, error) {
	out, err := st.placeResult(raw, result)
	if err != nil {
		return nil, err
	}
	return st.applyOutputPath(out)
}

// placeResult applies ResultPath.
func (st *state) placeResult(raw, result any) (any, error) {
	switch {
	case st.resultNull:
		return raw, nil
	case st.resultPath == nil:
		return result, nil
	}
	out, err := st.resultPath.set(raw, result)
	if err != nil {
		return nil, runtimeErr("An error occurred while executing the state '%s'. %v", st.name, err)
	}
	return out, nil
}

// choose returns the next state and the rule that matched (nil for
// Default).
func (st *state) choose(e *env) (string, *rule, error) {
	for _, r := range st.choices {
		ok, err := r.eval(e)
		if err != nil {
			return "", nil, err
		}
		if ok {
			return r.next, r, nil
		}
	}
	if st.defaultNext == "" {
		return "", nil, &failure{Name: ErrNoChoiceMatched, Cause: fmt.Sprintf("No Matches! (state %q)", st.name)}
	}
	return st.defaultNext, nil, nil
}

// wait sleeps as a Wait state says: Seconds (a literal, a SecondsPath
// into eff or, in JSONata, an expression evaluated in e) or a Timestamp.
func (x *exec) wait(ctx context.Context, st *state, eff any, e *env) error {
	var d time.Duration
	switch {
	case st.seconds != nil:
		n, err := st.seconds.intValue(st, e, eff)
		if err != nil {
			return err
		}
		d = time.Duration(n) * time.Second
	case st.hasTimestamp:
		d = st.timestamp.Sub(x.now())
	case st.timestampPath != nil:
		v, ok := st.timestampPath.eval(eff)
		s, _ := v.(string)
		t, isTS := parseTimestamp(s)
		if !ok || !isTS {
			return runtimeErr("An error occurred while executing the state '%s'. The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s", st.name, st.timestampPath.src)
		}
		d = t.Sub(x.now())
	}
	if d < 0 {
		d = 0
	}
	if err := x.sleep(ctx, d); err != nil {
		return errAborted
	}
	return nil
}

func (st *state) fail(e *env) error {
	f := &failure{Name: st.errName, Cause: st.cause}
	for _, p := range []struct {
		x   *expr
		dst *string
		f   string
	}{{st.errorExpr, &f.Name, "ErrorPath"}, {st.causeExpr, &f.Cause, "CausePath"}} {
		if p.x == nil {
			continue
		}
		var v any
		if p.x.call != nil {
			var err error
			if v, err = p.x.call.eval(e); err != nil {
				return err
			}
		} else {
			var ok bool
			if v, ok = e.resolve(p.x.path); !ok {
				return runtimeErr("An error occurred while executing the state '%s'. The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", st.name, p.x.path.src, p.f, e.inputText(p.x.path))
			}
		}
		s, ok := v.(string)
		if !ok {
			return runtimeErr("An error occurred while executing the state '%s'. The %s must resolve to a string, got %s", st.name, p.f, typeName(v))
		}
		*p.dst = s
	}
	return f
}

// retrying runs a Task, Map or Parallel state's work with its Retry and
// Catch policies.
func (x *exec) retrying(ctx context.Context, st *state, raw any, ch *chain, c *ctxObj, rr *runRec, vars *varScope) (any, string, map[string]any, error) {
	counts := make([]int, len(st.retry))
	retries := 0
	for {
		var result any
		var err error
		switch st.typ {
		case "Task":
			result, err = x.task(ctx, st, raw, ch, c, vars)
		case "Map":
			result, err = x.mapState(ctx, st, raw, ch, c, rr, vars)
		case "Parallel":
			result, err = x.parallel(ctx, st, raw, ch, c, rr, vars)
		}
		rr = nil // a redrive reuses recorded work on the first attempt only
		if err == nil && st.resultSel != nil {
			result, err = st.resultSel.eval(&env{input: result, ctx: c, vars: vars})
		}
		if err == nil {
			var out any
			var assigned map[string]any
			if st.jsonata {
				e := &env{input: raw, ctx: c, vars: vars, result: result, hasResult: true}
				out, assigned, err = st.finishJSONata(e, result)
			} else if assigned, err = st.assign.eval(&env{input: result, ctx: c, vars: vars}); err == nil {
				out, err = st.output(raw, result)
			}
			if err == nil {
				return out, st.next, assigned, nil
			}
		}
		var f *failure
		if !errors.As(err, &f) || f.Name == ErrRuntime || f.Name == ErrDataLimitExceeded {
			return nil, "", nil, err
		}
		if i := matchRetrier(st.retry, f.Name); i >= 0 && counts[i] < st.retry[i].maxAttempts {
			d := st.retry[i].delay(counts[i])
			counts[i]++
			retries++
			if err := x.sleep(ctx, d); err != nil {
				return nil, "", nil, errAborted
			}
			c = &ctxObj{x: x, ctx: ctx, st: st, entered: c.entered, retry: retries}
			continue
		}
		for _, k := range st.catch {
			if !matches(k.errorEquals, f.Name) {
				continue
			}
			return x.caught(st, k, f, raw, c, vars)
		}
		return nil, "", nil, f
	}
}

// caught applies the catcher k to the failure f: in JSONPath its
// ResultPath places the error output in the input and its Assign sees the
// error output as `$`; in JSONata its Output and Assign see it as
// $states.errorOutput (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
// The state's own Assign is not applied.
func (x *exec) caught(st *state, k catcher, f *failure, raw any, c *ctxObj, vars *varScope) (any, string, map[string]any, error) {
	errOut := map[string]any{"Error": f.Name, "Cause": f.Cause}
	if st.jsonata {
		e := &env{input: raw, ctx: c, vars: vars, errorOutput: errOut, hasErrOut: true}
		var out any = errOut
		if k.output != nil {
			var err error
			if out, err = k.output.eval(e, "Output"); err != nil {
				return nil, "", nil, err
			}
		}
		assigned, err := k.assign.eval(e)
		if err != nil {
			return nil, "", nil, err
		}
		return out, k.next, assigned, nil
	}
	assigned, err := k.assign.eval(&env{input: errOut, ctx: c, vars: vars})
	if err != nil {
		return nil, "", nil, err
	}
	var out any = errOut
	switch {
	case k.resultNull:
		out = raw
	case k.resultPath != nil:
		if out, err = k.resultPath.set(raw, out); err != nil {
			return nil, "", nil, runtimeErr("An error occurred while executing the state '%s'. Catch: %v", st.name, err)
		}
	}
	return out, k.next, assigned, nil
}

func matchRetrier(rs []retrier, name string) int {
	for i, r := range rs {
		if matches(r.errorEquals, name) {
			return i
		}
	}
	return -1
}

func matches(errorEquals []string, name string) bool {
	for _, e := range errorEquals {
		switch {
		case e == name:
			return true
		case e == ErrAll && name != ErrRuntime && name != ErrDataLimitExceeded:
			return true
		case e == ErrTaskFailed && name != ErrTimeout && name != ErrRuntime && name != ErrDataLimitExceeded:
			return true
		}
	}
	return false
}

// delay is the wait before retry number attempt+1: IntervalSeconds ×
// BackoffRate^attempt, capped by MaxDelaySeconds, then jittered.
func (r retrier) delay(attempt int) time.Duration {
	s := r.interval * math.Pow(r.backoff, float64(attempt))
	if r.maxDelay > 0 && s > r.maxDelay {
		s = r.maxDelay
	}
	if r.fullJitter {
		s = rand.Float64() * s
	}
	// Without MaxDelaySeconds the interval grows without bound: past
	// 9223372036 seconds it does not fit a time.Duration, and the
	// conversion of the float came out negative (an immediate retry)
	// instead of the longest wait there is.
	if ns := s * float64(time.Second); ns < math.MaxInt64 {
		return time.Duration(ns)
	}
	return time.Duration(math.MaxInt64)
}

// resourceKind tells how a Task resource shows in the history: plain
// Lambda ARNs as LambdaFunction* events, everything else as Task* events
// with the service and action of arn:aws:states:::service:action.
func resourceKind(res string) (lambda bool, resourceType, resource string) {
	if strings.HasPrefix(res, "arn:aws:lambda:") || (strings.HasPrefix(res, "arn:") && strings.Contains(res, ":lambda:") && strings.Contains(res, ":function:")) {
		return true, "", res
	}
	parts := strings.SplitN(res, ":", 6)
	if len(parts) == 6 && parts[2] == "states" {
		typ, action, _ := strings.Cut(parts[5], ":")
		return false, typ, action
	}
	if len(parts) >= 3 {
		return false, parts[2], res
	}
	return false, "", res
}

func (x *exec) task(ctx context.Context, st *state, raw any, ch *chain, c *ctxObj, vars *varScope) (any, error) {
	eff, err := x.effectiveInput(st, raw, c, vars)
	if err != nil {
		return nil, err
	}
	return x.invokeTask(ctx, st, raw, eff, ch, &env{input: raw, ctx: c, vars: vars})
}

// invokeTask runs a Task state's resource on its effective input eff and
// returns the result; e evaluates a JSONata TimeoutSeconds.
func (x *exec) invokeTask(ctx context.Context, st *state, raw, eff any, ch *chain, e *env) (any, error) {
	target, payload := st.resource, eff
	if st.lambdaInvoke {
		params, _ := eff.(map[string]any)
		fn, ok := params["FunctionName"].(string)
		if !ok || fn == "" {
			return nil, runtimeErr("An error occurred while executing the state '%s'. FunctionName must be a non-empty string", st.name)
		}
		target = fn
		if payload, ok = params["Payload"]; !ok {
			payload = map[string]any{}
		}
	}
	timeout, err := st.timeout.intValue(st, e, raw)
	if err != nil {
		return nil, err
	}
	lambda, rtype, rname := resourceKind(st.resource)
	if x.onEvent != nil {
		if lambda {
			x.emit(ch, Event{Type: "LambdaFunctionScheduled", LambdaFunctionScheduledEventDetails: &LambdaFunctionScheduledEventDetails{
				Resource: st.resource, Input: string(marshal(eff)), InputDetails: &DataDetails{}, TimeoutInSeconds: timeout}})
			x.emit(ch, Event{Type: "LambdaFunctionStarted"})
		} else {
			x.emit(ch, Event{Type: "TaskScheduled", TaskScheduledEventDetails: &TaskScheduledEventDetails{
				ResourceType: rtype, Resource: rname, Region: x.region, Parameters: string(marshal(eff)), TimeoutInSeconds: timeout}})
			x.emit(ch, Event{Type: "TaskStarted", TaskStartedEventDetails: &TaskStartedEventDetails{ResourceType: rtype, Resource: rname}})
		}
	}
	tctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		tctx, cancel = context.WithTimeout(ctx, time.Duration(timeout)*time.Second)
		defer cancel()
	}
	res, err := x.invoke(tctx, target, marshal(payload))
	var result any
	if err == nil {
		if len(res) == 0 {
			res = json.RawMessage("null")
		}
		if result, err = decode(res); err != nil {
			err = &TaskError{Name: ErrTaskFailed, Cause: "the task returned invalid JSON: " + err.Error()}
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, errAborted
		}
		f := &failure{Name: ErrTaskFailed, Cause: err.Error()}
		var te *TaskError
		timedOut := false
		switch {
		case tctx.Err() == context.DeadlineExceeded:
			f, timedOut = &failure{Name: ErrTimeout, Cause: "Task timed out after " + fmt.Sprint(timeout) + " seconds."}, true
		case errors.As(err, &te):
			f = &failure{Name: te.Name, Cause: te.Cause}
		}
		switch {
		case lambda && timedOut:
			x.emit(ch, Event{Type: "LambdaFunctionTimedOut", LambdaFunctionTimedOutEventDetails: &ErrorDetails{Error: f.Name, Cause: f.Cause}})
		case lambda:
			x.emit(ch, Event{Type: "LambdaFunctionFailed", LambdaFunctionFailedEventDetails: &ErrorDetails{Error: f.Name, Cause: f.Cause}})
		case timedOut:
			x.emit(ch, Event{Type: "TaskTimedOut", TaskTimedOutEventDetails: &TaskFailedEventDetails{ResourceType: rtype, Resource: rname, Error: f.Name, Cause: f.Cause}})
		default:
			x.emit(ch, Event{Type: "TaskFailed", TaskFailedEventDetails: &TaskFailedEventDetails{ResourceType: rtype, Resource: rname, Error: f.Name, Cause: f.Cause}})
		}
		return nil, f
	}
	if st.lambdaInvoke {
		result = map[string]any{"ExecutedVersion": "$LATEST", "Payload": result, "StatusCode": intNumber(200)}
	}
	if x.onEvent != nil {
		if lambda {
			x.emit(ch, Event{Type: "LambdaFunctionSucceeded", LambdaFunctionSucceededEventDetails: &LambdaFunctionSucceededEventDetails{Output: string(marshal(result)), OutputDetails: &DataDetails{}}})
		} else {
			x.emit(ch, Event{Type: "TaskSucceeded", TaskSucceededEventDetails: &TaskSucceededEventDetails{ResourceType: rtype, Resource: rname, Output: string(marshal(result)), OutputDetails: &DataDetails{}}})
		}
	}
	return result, nil
}

// group runs the children of a Map or Parallel state: the first failure
// cancels the others.
type group struct {
	mu     sync.Mutex
	first  *failure
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// record keeps the first failure and cancels the siblings. It reports
// whether err was a failure (as opposed to an abort).
func (g *group) record(err error) (isFailure bool) {
	var f *failure
	if !errors.As(err, &f) {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.first == nil {
		g.first = f
		g.cancel()
	}
	return true
}

// join sets the parent chain's last event to the latest child event, so the
// state's closing event follows the branch that finished last.
func join(parent *chain, start int64, children []*chain) {
	last := start
	for _, c := range children {
		last = max(last, c.last)
	}
	parent.last = last
}

func (x *exec) mapState(ctx context.Context, st *state, raw any, ch *chain, c *ctxObj, rr *runRec, vars *varScope) (any, error) {
	var eff any
	var err error
	if !st.jsonata {
		if eff, err = st.applyInputPath(raw); err != nil {
			return nil, err
		}
	} else {
		eff = raw
	}
	// e evaluates the state's expressions and templates: JSONata states
	// have no InputPath, so its input is $states.input there.
	e := &env{input: eff, ctx: c, vars: vars}
	itemsV := eff
	if st.itemsJ != nil {
		if itemsV, err = st.itemsJ.eval(e, "Items"); err != nil {
			return nil, err
		}
	}
	if st.itemsPath != nil {
		var ok bool
		if itemsV, ok = st.itemsPath.eval(eff); !ok {
			return nil, runtimeErr("An error occurred while executing the state '%s'. Invalid path '%s': The Map state's ItemsPath references an invalid value.", st.name, st.itemsPath.src)
		}
	}
	if st.reader != nil {
		if itemsV, err = x.readItems(ctx, st, e); err != nil {
			return nil, err
		}
	}
	items, ok := itemsV.([]any)
	if !ok {
		return nil, runtimeErr("An error occurred while executing the state '%s'. Items of the Map state must be a JSON array, got %s", st.name, typeName(itemsV))
	}
	maxConc, err := st.maxConc.intValue(st, e, eff)
	if err != nil {
		return nil, err
	}
	x.emit(ch, Event{Type: "MapStateStarted", MapStateStartedEventDetails: &MapStateStartedEventDetails{Length: len(items)}})
	if st.dist != nil {
		return x.mapRun(ctx, st, raw, eff, items, maxConc, ch, c, vars)
	}
	start := ch.last

	results := make([]any, len(items))
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := &group{cancel: cancel}
	var sem chan struct{}
	if maxConc > 0 && int(maxConc) < len(items) {
		sem = make(chan struct{}, maxConc)
	}
	var children []*chain
	for i, item := range items {
		var resume *threadRec
		if rr != nil {
			if it := rr.iters[i]; it != nil {
				if it.succeeded {
					if results[i], err = decode([]byte(it.output)); err != nil {
						return nil, fmt.Errorf("asl: history: output of %s iteration %d: %w", st.name, i, err)
					}
					continue
				}
				resume = it.thread
			}
		}
		if !acquire(gctx, sem) {
			break
		}
		ich := &chain{last: start}
		children = append(children, ich)
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			if sem != nil {
				defer func() { <-sem }()
			}
			details := &MapIterationEventDetails{Name: st.name, Index: i}
			x.emit(ich, Event{Type: "MapIterationStarted", MapIterationStartedEventDetails: details})
			in := item
			var err error
			ic := &ctxObj{x: x, ctx: ctx, st: st, entered: c.entered, retry: c.retry, item: &mapItem{index: i, value: item}}
			switch {
			case st.itemSel != nil:
				in, err = st.itemSel.eval(&env{input: eff, ctx: ic, vars: vars})
			case st.itemSelJ != nil:
				in, err = st.itemSelJ.eval(&env{input: eff, ctx: ic, vars: vars}, "ItemSelector")
			}
			var out any
			if err == nil {
				out, err = x.runScope(gctx, st.processor, in, ich, resume, vars.child())
			}
			switch {
			case err == nil:
				results[i] = out
				x.emit(ich, Event{Type: "MapIterationSucceeded", MapIterationSucceededEventDetails: details})
			case g.record(err):
				x.emit(ich, Event{Type: "MapIterationFailed", MapIterationFailedEventDetails: details})
			default:
				x.emit(ich, Event{Type: "MapIterationAborted", MapIterationAbortedEventDetails: details})
			}
		}()
	}
	g.wg.Wait()
	join(ch, start, children)
	if g.first != nil {
		x.emit(ch, Event{Type: "MapStateFailed"})
		return nil, g.first
	}
	if ctx.Err() != nil {
		return nil, errAborted
	}
	x.emit(ch, Event{Type: "MapStateSucceeded"})
	return results, nil
}

func (x *exec) parallel(ctx context.Context, st *state, raw any, ch *chain, c *ctxObj, rr *runRec, vars *varScope) (any, error) {
	eff, err := x.effectiveInput(st, raw, c, vars)
	if err != nil {
		return nil, err
	}
	x.emit(ch, Event{Type: "ParallelStateStarted"})
	start := ch.last
	results := make([]any, len(st.branches))
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := &group{cancel: cancel}
	var children []*chain
	for i, br := range st.branches {
		var resume *threadRec
		if rr != nil {
			if th := rr.branches[i]; th != nil {
				if out, done := th.finished(br); done {
					if results[i], err = decode([]byte(out)); err != nil {
						return nil, fmt.Errorf("asl: history: output of %s branch %d: %w", st.name, i, err)
					}
					continue
				}
				resume = th
			}
		}
		bch := &chain{last: start}
		children = append(children, bch)
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			out, err := x.runScope(gctx, br, eff, bch, resume, vars.child())
			if err == nil {
				results[i] = out
				return
			}
			g.record(err)
		}()
	}
	g.wg.Wait()
	join(ch, start, children)
	if g.first != nil {
		x.emit(ch, Event{Type: "ParallelStateFailed"})
		return nil, g.first
	}
	if ctx.Err() != nil {
		return nil, errAborted
	}
	x.emit(ch, Event{Type: "ParallelStateSucceeded"})
	return results, nil
}

// acquire takes a slot of sem (nil: no limit), unless ctx ends first, and
// reports whether the caller may go on.
func acquire(ctx context.Context, sem chan struct{}) bool {
	if sem != nil {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
	}
	return ctx.Err() == nil
}
