package sfnlocal

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/efspipe/efspipe/pkg/asl"
)

// testStateIn is TestState's request
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html).
type testStateIn struct {
	Definition      string          `json:"definition"`
	RoleArn         string          `json:"roleArn"`
	Input           *string         `json:"input"`
	InspectionLevel string          `json:"inspectionLevel"`
	RevealSecrets   bool            `json:"revealSecrets"`
	Variables       *string         `json:"variables"`
	StateName       *string         `json:"stateName"`
	Mock            json.RawMessage `json:"mock"`
	Context         json.RawMessage `json:"context"`
	StateConfig     json.RawMessage `json:"stateConfiguration"`
}

type testStateOut struct {
	Output         *string         `json:"output,omitempty"`
	Error          string          `json:"error,omitempty"`
	Cause          string          `json:"cause,omitempty"`
	InspectionData *inspectionData `json:"inspectionData,omitempty"`
	NextState      string          `json:"nextState,omitempty"`
	Status         string          `json:"status"`
}

type inspectionData struct {
	Input               string        `json:"input,omitempty"`
	AfterArguments      string        `json:"afterArguments,omitempty"`
	AfterInputPath      string        `json:"afterInputPath,omitempty"`
	AfterParameters     string        `json:"afterParameters,omitempty"`
	Result              string        `json:"result,omitempty"`
	AfterResultSelector string        `json:"afterResultSelector,omitempty"`
	AfterResultPath     string        `json:"afterResultPath,omitempty"`
	Variables           string        `json:"variables,omitempty"`
	ErrorDetails        *errorDetails `json:"errorDetails,omitempty"`
}

type errorDetails struct {
	CatchIndex                  *int `json:"catchIndex,omitempty"`
	RetryIndex                  *int `json:"retryIndex,omitempty"`
	RetryBackoffIntervalSeconds *int `json:"retryBackoffIntervalSeconds,omitempty"`
}

// testState runs one state once. definition is one state, or with
// stateName a whole machine in which that state is tested. A Task runs the
// stage handler an execution would run, under the same per-job lock;
// create's checks apply to the definition and StartExecution's to the
// input. revealSecrets concerns only HTTP Tasks, which this endpoint does
// not run (there is nothing to reveal), so it is accepted and has no
// effect. mock, context and stateConfiguration are refused, as are Map
// and Parallel states.
func (s *Server) testState(ctx context.Context, in testStateIn) (any, error) {
	if strings.TrimSpace(in.Definition) == "" {
		return nil, errorf("ValidationException", "1 validation error detected: Value null at 'definition' failed to satisfy constraint: Member must not be null")
	}
	level := in.InspectionLevel
	switch level {
	case "":
		level = "INFO"
	case "INFO", "DEBUG", "TRACE":
	default:
		return nil, errorf("ValidationException", "1 validation error detected: Value '%s' at 'inspectionLevel' failed to satisfy constraint: Member must satisfy enum value set: [INFO, DEBUG, TRACE]", level)
	}
	for _, f := range []struct {
		name string
		v    json.RawMessage
	}{{"mock", in.Mock}, {"context", in.Context}, {"stateConfiguration", in.StateConfig}} {
		if len(f.v) > 0 && string(f.v) != "null" {
			return nil, errorf("ValidationException", "TestState's %s is not supported by this endpoint", f.name)
		}
	}
	if in.RoleArn != "" && !strings.HasPrefix(in.RoleArn, "arn:") {
		return nil, errorf("InvalidArn", "Invalid Arn: '%s'", in.RoleArn)
	}
	def, name := in.Definition, asl.TestStateName
	if in.StateName != nil {
		name = *in.StateName
	} else {
		wrapped, err := asl.SingleState([]byte(def))
		if err != nil {
			return nil, errorf("InvalidDefinition", "Invalid State Definition: '%v'", err)
		}
		def = string(wrapped)
	}
	m, err := parseDefinition(def, s.cfg.Objects != nil)
	if err != nil {
		return nil, err
	}
	input := "{}"
	if in.Input != nil {
		input = *in.Input
	}
	if _, err := s.checkInput(input); err != nil {
		return nil, err
	}
	var vars json.RawMessage
	if in.Variables != nil {
		vars = json.RawMessage(*in.Variables)
		if s.cfg.CheckInput != nil {
			if err := s.cfg.CheckInput(vars); err != nil {
				return nil, errorf("ValidationException", "variables: %s", err.Error())
			}
		}
	}

	rctx, end, err := s.beginSync(ctx)
	if err != nil {
		return nil, err
	}
	defer end()

	x := &execution{m: m, ephemeral: true, rec: executionRecord{Input: input, Start: s.now()}}
	lock := &execLock{s: s, x: x}
	defer lock.release()
	role := in.RoleArn
	if role == "" {
		role = s.roleArn()
	}
	t, err := m.TestState(rctx, name, json.RawMessage(input), vars, asl.Options{
		Invoke:          lock.invoke,
		Now:             s.cfg.Now,
		StateMachineArn: s.MachineArn("TestState"),
		Objects:         s.cfg.Objects,
		JSONata:         s.jsonata(),
		RoleArn:         role,
	})
	var te *asl.TestStateError
	switch {
	case errors.As(err, &te):
		return nil, errorf("ValidationException", "%s", te.Msg)
	case err != nil && rctx.Err() == nil:
		return nil, errorf("ValidationException", "%v", err)
	case err != nil:
		return nil, errorf("ServiceUnavailable", "the test was cut short: %v", err)
	}
	out := testStateOut{Error: t.Error, Cause: t.Cause, NextState: t.NextState, Status: t.Status}
	if t.Output != nil {
		text := string(t.Output)
		out.Output = &text
	}
	if level != "INFO" {
		i := t.Inspection
		out.InspectionData = &inspectionData{Input: i.Input, AfterArguments: i.AfterArguments, AfterInputPath: i.AfterInputPath,
			AfterParameters: i.AfterParameters, Result: i.Result, AfterResultSelector: i.AfterResultSelector,
			AfterResultPath: i.AfterResultPath, Variables: i.Variables}
		if i.CatchIndex != nil || i.RetryIndex != nil {
			out.InspectionData.ErrorDetails = &errorDetails{CatchIndex: i.CatchIndex, RetryIndex: i.RetryIndex,
				RetryBackoffIntervalSeconds: i.RetryBackoffIntervalSeconds}
		}
	}
	return out, nil
}
