package asl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// TestState runs one state once, as the TestState API does
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html):
// no Retry is attempted (a matching retrier makes the status RETRIABLE), a
// matching catcher is applied (CAUGHT_ERROR), and the transition is
// reported, not followed. A Wait state does not wait.

// Statuses of a StateTest, as the API names them.
const (
	TestSucceeded   = "SUCCEEDED"
	TestFailed      = "FAILED"
	TestRetriable   = "RETRIABLE"
	TestCaughtError = "CAUGHT_ERROR"
)

// StateTest is the outcome of Machine.TestState.
type StateTest struct {
	Status     string
	Output     json.RawMessage // nil unless SUCCEEDED or CAUGHT_ERROR
	Error      string
	Cause      string
	NextState  string
	Inspection Inspection
}

// Inspection is what TestState reports at the DEBUG level: each value is
// JSON text, "" for a step the state does not have or did not reach.
type Inspection struct {
	Input               string
	AfterInputPath      string
	AfterParameters     string
	AfterArguments      string
	Result              string
	AfterResultSelector string
	AfterResultPath     string
	Variables           string // the variables after the state ran

	RetryIndex                  *int // the retrier that would retry (RETRIABLE)
	RetryBackoffIntervalSeconds *int
	CatchIndex                  *int // the catcher that caught (CAUGHT_ERROR)
}

// TestStateError refuses a test: the state is not in the machine or is of
// a type this engine does not test.
type TestStateError struct{ Msg string }

func (e *TestStateError) Error() string { return "asl: TestState: " + e.Msg }

// TestStateName is the name SingleState gives the state under test.
const TestStateName = "TestState"

// SingleState turns the definition of one state into a machine whose
// StartAt is that state, named TestStateName; the states it transitions
// to are added as Succeed states so that the machine parses.
func SingleState(stateDef []byte) ([]byte, error) {
	var st map[string]any
	if err := json.Unmarshal(stateDef, &st); err != nil {
		return nil, fmt.Errorf("the state definition is not a JSON object: %w", err)
	}
	states := map[string]any{TestStateName: st}
	target := func(v any) {
		if s, ok := v.(string); ok && s != "" {
			if _, exists := states[s]; !exists {
				states[s] = map[string]any{"Type": "Succeed"}
			}
		}
	}
	target(st["Next"])
	target(st["Default"])
	for _, key := range []string{"Choices", "Catch"} {
		list, _ := st[key].([]any)
		for _, r := range list {
			if m, ok := r.(map[string]any); ok {
				target(m["Next"])
			}
		}
	}
	return json.Marshal(map[string]any{"StartAt": TestStateName, "States": states})
}

// TestState runs the state called name on input with the given variables
// (a JSON object, or empty for none). Options are those of Execute;
// OnEvent and Sleep are ignored. A state that fails is a StateTest with
// status FAILED, not an error; the error is for a refused test, invalid
// input or variables, or a cancelled ctx.
func (m *Machine) TestState(ctx context.Context, name string, input, variables json.RawMessage, opts Options) (*StateTest, error) {
	st, ok := m.states[name]
	if !ok {
		return nil, &TestStateError{Msg: fmt.Sprintf("the definition has no state %q", name)}
	}
	if st.typ == "Map" || st.typ == "Parallel" {
		return nil, &TestStateError{Msg: fmt.Sprintf("testing a %s state is not supported by this engine", st.typ)}
	}
	opts.OnEvent = nil
	opts.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	x, err := m.newExec(opts)
	if err != nil {
		return nil, err
	}
	raw, err := x.begin(input)
	if err != nil {
		return nil, fmt.Errorf("asl: invalid input: %w", err)
	}
	vars := &varScope{}
	if len(variables) > 0 {
		v, err := decode(variables)
		obj, isObj := v.(map[string]any)
		if err != nil || !isObj {
			return nil, fmt.Errorf("asl: variables must be a JSON object")
		}
		for k := range obj {
			if err := checkVarName(k); err != nil {
				return nil, fmt.Errorf("asl: variables: %w", err)
			}
		}
		vars.set(obj)
	}
	c := &ctxObj{x: x, ctx: ctx, st: st, entered: x.startTime}
	t := &StateTest{}
	t.Inspection.Input = marshalString(raw)
	var (
		out      any
		next     string
		assigned map[string]any
	)
	switch {
	case st.typ == "Task":
		out, next, assigned, err = x.testTask(ctx, st, raw, c, vars, t)
	case st.typ == "Pass" && !st.jsonata:
		out, next, assigned, err = x.testPass(st, raw, c, vars, &t.Inspection)
	case st.jsonata:
		out, next, assigned, err = x.runJSONata(ctx, st, raw, &chain{}, c, nil, vars)
	default:
		if v, err := st.applyInputPath(raw); err == nil && st.typ != "Fail" {
			t.Inspection.AfterInputPath = marshalString(v)
		}
		out, next, assigned, err = x.runJSONPath(ctx, st, raw, &chain{}, c, nil, vars)
	}
	if err == nil {
		_, err = st.checkOutput(out)
	}
	var f *failure
	switch {
	case err == nil:
		if t.Status == "" {
			t.Status = TestSucceeded
		}
		t.Output, t.NextState = marshal(out), next
		vars.set(assigned)
	case errors.As(err, &f):
		t.Status, t.Error, t.Cause, t.Output, t.NextState = TestFailed, f.Name, f.Cause, nil, ""
		if st.typ == "Task" && t.Inspection.RetryIndex != nil {
			t.Status = TestRetriable
		}
	case errors.Is(err, errAborted) && ctx.Err() != nil:
		return nil, ctx.Err()
	default:
		return nil, err
	}
	t.Inspection.Variables = marshalString(vars.visible())
	return t, nil
}

// testPass runs a JSONPath Pass state as runJSONPath does, noting each
// step.
func (x *exec) testPass(st *state, raw any, c *ctxObj, vars *varScope, in *Inspection) (any, string, map[string]any, error) {
	eff, err := st.inspectInput(raw, c, vars, in)
	if err != nil {
		return nil, "", nil, err
	}
	if st.hasResult {
		eff = st.result
	}
	in.Result = marshalString(eff)
	out, assigned, err := st.inspectOutput(raw, eff, c, vars, in)
	return out, st.next, assigned, err
}

// inspectInput applies a JSONPath state's InputPath and Parameters to raw,
// noting the value after each.
func (st *state) inspectInput(raw any, c *ctxObj, vars *varScope, in *Inspection) (any, error) {
	eff, err := st.applyInputPath(raw)
	if err != nil {
		return nil, err
	}
	in.AfterInputPath = marshalString(eff)
	if st.parameters != nil {
		if eff, err = st.parameters.eval(&env{input: eff, ctx: c, vars: vars}); err != nil {
			return nil, err
		}
	}
	in.AfterParameters = marshalString(eff)
	return eff, nil
}

// inspectOutput evaluates a JSONPath state's Assign on its result and
// places the result with ResultPath (noting the value) and OutputPath.
func (st *state) inspectOutput(raw, result any, c *ctxObj, vars *varScope, in *Inspection) (any, map[string]any, error) {
	assigned, err := st.assign.eval(&env{input: result, ctx: c, vars: vars})
	if err != nil {
		return nil, nil, err
	}
	placed, err := st.placeResult(raw, result)
	if err != nil {
		return nil, nil, err
	}
	in.AfterResultPath = marshalString(placed)
	out, err := st.applyOutputPath(placed)
	return out, assigned, err
}

// testTask runs a Task state's work once, noting each step, and applies
// its Retry and Catch policies as TestState reports them: a matching
// retrier (with attempts left) makes the status RETRIABLE without
// retrying; otherwise a matching catcher is applied (CAUGHT_ERROR).
func (x *exec) testTask(ctx context.Context, st *state, raw any, c *ctxObj, vars *varScope, t *StateTest) (any, string, map[string]any, error) {
	in := &t.Inspection
	out, assigned, err := func() (any, map[string]any, error) {
		var eff any
		var err error
		if st.jsonata {
			if eff, err = x.effectiveInput(st, raw, c, vars); err != nil {
				return nil, nil, err
			}
			in.AfterArguments = marshalString(eff)
		} else if eff, err = st.inspectInput(raw, c, vars, in); err != nil {
			return nil, nil, err
		}
		result, err := x.invokeTask(ctx, st, raw, eff, &chain{}, &env{input: raw, ctx: c, vars: vars})
		if err != nil {
			return nil, nil, err
		}
		in.Result = marshalString(result)
		if st.resultSel != nil {
			if result, err = st.resultSel.eval(&env{input: result, ctx: c, vars: vars}); err != nil {
				return nil, nil, err
			}
			in.AfterResultSelector = marshalString(result)
		}
		if st.jsonata {
			return st.finishJSONata(&env{input: raw, ctx: c, vars: vars, result: result, hasResult: true}, result)
		}
		return st.inspectOutput(raw, result, c, vars, in)
	}()
	if err == nil {
		return out, st.next, assigned, nil
	}
	var f *failure
	if !errors.As(err, &f) || f.Name == ErrRuntime || f.Name == ErrDataLimitExceeded {
		return nil, "", nil, err
	}
	if i := matchRetrier(st.retry, f.Name); i >= 0 && st.retry[i].maxAttempts > 0 {
		secs := int(st.retry[i].delay(0) / time.Second)
		in.RetryIndex, in.RetryBackoffIntervalSeconds = &i, &secs
		return nil, "", nil, f
	}
	for i, k := range st.catch {
		if !matches(k.errorEquals, f.Name) {
			continue
		}
		out, next, assigned, err := x.caught(st, k, f, raw, c, vars)
		if err != nil {
			return nil, "", nil, err
		}
		in.CatchIndex = &i
		t.Status, t.Error, t.Cause = TestCaughtError, f.Name, f.Cause
		return out, next, assigned, nil
	}
	return nil, "", nil, f
}
