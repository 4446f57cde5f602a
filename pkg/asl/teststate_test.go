package asl

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

// TestTestState follows the TestState API
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html):
// one state, run once, its output, error, next state, status (SUCCEEDED,
// FAILED, RETRIABLE, CAUGHT_ERROR) and the DEBUG inspection data.
func TestTestState(t *testing.T) {
	invoke := func(_ context.Context, res string, in json.RawMessage) (json.RawMessage, error) {
		if string(in) == `{"fail":true}` {
			return nil, &TaskError{Name: "Boom", Cause: "asked to fail"}
		}
		return json.RawMessage(`{"echo":` + string(in) + `,"extra":1}`), nil
	}
	const task = `"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f"`
	for _, tt := range []struct {
		name, state, input, vars string
		want                     StateTest
		wantIn                   Inspection
	}{
		{name: "Pass with every path", state: `{"Type":"Pass","InputPath":"$.a","Parameters":{"x.$":"$.b","v.$":"$v"},"ResultPath":"$.r","OutputPath":"$.r","Next":"N"}`,
			input: `{"a":{"b":1}}`, vars: `{"v":"var"}`,
			want: StateTest{Status: TestSucceeded, Output: json.RawMessage(`{"x":1,"v":"var"}`), NextState: "N"},
			wantIn: Inspection{Input: `{"a":{"b":1}}`, AfterInputPath: `{"b":1}`, AfterParameters: `{"v":"var","x":1}`, Result: `{"v":"var","x":1}`,
				AfterResultPath: `{"a":{"b":1},"r":{"v":"var","x":1}}`, Variables: `{"v":"var"}`}},
		{name: "Task", state: `{` + task + `,"InputPath":"$.in","Parameters":{"k.$":"$.k"},"ResultSelector":{"e.$":"$.echo"},"ResultPath":"$.res","Assign":{"got.$":"$.e.k"},"End":true}`,
			input: `{"in":{"k":"v"}}`,
			want:  StateTest{Status: TestSucceeded, Output: json.RawMessage(`{"in":{"k":"v"},"res":{"e":{"k":"v"}}}`)},
			wantIn: Inspection{Input: `{"in":{"k":"v"}}`, AfterInputPath: `{"k":"v"}`, AfterParameters: `{"k":"v"}`, Result: `{"echo":{"k":"v"},"extra":1}`,
				AfterResultSelector: `{"e":{"k":"v"}}`, AfterResultPath: `{"in":{"k":"v"},"res":{"e":{"k":"v"}}}`, Variables: `{"got":"v"}`}},
		{name: "retriable", state: `{` + task + `,"Retry":[{"ErrorEquals":["Other"]},{"ErrorEquals":["Boom"],"IntervalSeconds":3}],"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true}`,
			input: `{"fail":true}`,
			want:  StateTest{Status: TestRetriable, Error: "Boom", Cause: "asked to fail"},
			wantIn: Inspection{Input: `{"fail":true}`, AfterInputPath: `{"fail":true}`, AfterParameters: `{"fail":true}`, Variables: `{}`,
				RetryIndex: ptrTo(1), RetryBackoffIntervalSeconds: ptrTo(3)}},
		{name: "caught", state: `{` + task + `,"Retry":[{"ErrorEquals":["Boom"],"MaxAttempts":0}],"Catch":[{"ErrorEquals":["Other"],"Next":"X"},{"ErrorEquals":["Boom"],"ResultPath":"$.err","Next":"C"}],"End":true}`,
			input:  `{"fail":true}`,
			want:   StateTest{Status: TestCaughtError, Error: "Boom", Cause: "asked to fail", Output: json.RawMessage(`{"fail":true,"err":{"Error":"Boom","Cause":"asked to fail"}}`), NextState: "C"},
			wantIn: Inspection{Input: `{"fail":true}`, AfterInputPath: `{"fail":true}`, AfterParameters: `{"fail":true}`, Variables: `{}`, CatchIndex: ptrTo(1)}},
		{name: "failed", state: `{` + task + `,"End":true}`, input: `{"fail":true}`,
			want:   StateTest{Status: TestFailed, Error: "Boom", Cause: "asked to fail"},
			wantIn: Inspection{Input: `{"fail":true}`, AfterInputPath: `{"fail":true}`, AfterParameters: `{"fail":true}`, Variables: `{}`}},
		{name: "Choice reads a variable", state: `{"Type":"Choice","Choices":[{"Variable":"$limit","NumericLessThan":5,"Next":"Small"}],"Default":"Big"}`,
			input: `{}`, vars: `{"limit":3}`,
			want:   StateTest{Status: TestSucceeded, Output: json.RawMessage(`{}`), NextState: "Small"},
			wantIn: Inspection{Input: `{}`, AfterInputPath: `{}`, Variables: `{"limit":3}`}},
		{name: "Fail", state: `{"Type":"Fail","Error":"E","Cause":"why"}`,
			want:   StateTest{Status: TestFailed, Error: "E", Cause: "why"},
			wantIn: Inspection{Input: `{}`, Variables: `{}`}},
		{name: "runtime error", state: `{"Type":"Pass","InputPath":"$.missing","End":true}`,
			want:   StateTest{Status: TestFailed, Error: ErrRuntime, Cause: "An error occurred while executing the state 'TestState'. Invalid path '$.missing' : No results for path: $.missing"},
			wantIn: Inspection{Input: `{}`, Variables: `{}`}},
		{name: "JSONata", state: `{"QueryLanguage":"JSONata","Type":"Pass","Output":"{% $states.input.n + $add %}","Assign":{"seen":"{% $states.input.n %}"},"Next":"N"}`,
			input: `{"n":2}`, vars: `{"add":40}`,
			want:   StateTest{Status: TestSucceeded, Output: json.RawMessage(`42`), NextState: "N"},
			wantIn: Inspection{Input: `{"n":2}`, Variables: `{"add":40,"seen":2}`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			def, err := SingleState([]byte(tt.state))
			if err != nil {
				t.Fatal(err)
			}
			m := mustParse(t, string(def))
			got, err := m.TestState(t.Context(), TestStateName, json.RawMessage(tt.input), json.RawMessage(tt.vars), Options{Invoke: invoke})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.want.Status || got.Error != tt.want.Error || got.Cause != tt.want.Cause || got.NextState != tt.want.NextState {
				t.Errorf("got %s %q %q next %q, want %s %q %q next %q", got.Status, got.Error, got.Cause, got.NextState,
					tt.want.Status, tt.want.Error, tt.want.Cause, tt.want.NextState)
			}
			if tt.want.Output == nil {
				if got.Output != nil {
					t.Errorf("output %s, want none", got.Output)
				}
			} else {
				jsonEq(t, got.Output, string(tt.want.Output))
			}
			g, w := got.Inspection, tt.wantIn
			for _, f := range []struct{ name, got, want string }{
				{"input", g.Input, w.Input}, {"afterInputPath", g.AfterInputPath, w.AfterInputPath}, {"afterParameters", g.AfterParameters, w.AfterParameters},
				{"result", g.Result, w.Result}, {"afterResultSelector", g.AfterResultSelector, w.AfterResultSelector},
				{"afterResultPath", g.AfterResultPath, w.AfterResultPath}, {"variables", g.Variables, w.Variables},
			} {
				if (f.got == "") != (f.want == "") {
					t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
				} else if f.want != "" {
					jsonEq(t, []byte(f.got), f.want)
				}
			}
			for _, f := range []struct {
				name      string
				got, want *int
			}{{"retryIndex", g.RetryIndex, w.RetryIndex}, {"retryBackoff", g.RetryBackoffIntervalSeconds, w.RetryBackoffIntervalSeconds}, {"catchIndex", g.CatchIndex, w.CatchIndex}} {
				if (f.got == nil) != (f.want == nil) || f.got != nil && *f.got != *f.want {
					t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
				}
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestTestStateRefusals(t *testing.T) {
	m := mustParse(t, `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Succeed"}}},"End":true}}}`)
	var te *TestStateError
	if _, err := m.TestState(t.Context(), "M", nil, nil, Options{}); !errors.As(err, &te) {
		t.Errorf("a Map state: %v, want a *TestStateError", err)
	}
	if _, err := m.TestState(t.Context(), "Nope", nil, nil, Options{}); !errors.As(err, &te) {
		t.Errorf("an unknown state: %v, want a *TestStateError", err)
	}
	// A state inside a Map's processor can be tested on its own.
	if got, err := m.TestState(t.Context(), "I", json.RawMessage(`[1]`), nil, Options{}); err != nil || got.Status != TestSucceeded || string(got.Output) != `[1]` {
		t.Errorf("the inner state: %+v %v", got, err)
	}
	if _, err := m.TestState(t.Context(), "I", nil, json.RawMessage(`[1]`), Options{}); err == nil {
		t.Error("variables that are not an object were accepted")
	}
	if _, err := m.TestState(t.Context(), "I", json.RawMessage(`{`), nil, Options{}); err == nil {
		t.Error("input that is not JSON was accepted")
	}
}
