package asl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const fn = "arn:aws:lambda:us-east-1:123456789012:function:f"

// failing fails its first n calls with the given error, then echoes.
func failing(n int, err error) (TaskFunc, *atomic.Int32) {
	var calls atomic.Int32
	return func(_ context.Context, _ string, in json.RawMessage) (json.RawMessage, error) {
		if int(calls.Add(1)) <= n {
			return nil, err
		}
		return in, nil
	}, &calls
}

func TestRetryTiming(t *testing.T) {
	transient := &TaskError{Name: "Transient.IO", Cause: "disk"}
	tests := []struct {
		name     string
		retry    string
		failures int
		err      error
		want     []time.Duration // the sleeps
		wantErr  string
	}{
		{"backoff", `{"ErrorEquals":["Transient.IO"],"IntervalSeconds":2,"BackoffRate":2,"MaxAttempts":3}`, 3, transient, []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}, ""},
		{"exhausted", `{"ErrorEquals":["Transient.IO"],"IntervalSeconds":2,"BackoffRate":2,"MaxAttempts":3}`, 4, transient, []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}, "Transient.IO"},
		{"defaults", `{"ErrorEquals":["States.ALL"]}`, 3, transient, []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second}, ""},
		{"max delay", `{"ErrorEquals":["States.ALL"],"IntervalSeconds":3,"BackoffRate":3,"MaxAttempts":4,"MaxDelaySeconds":10}`, 4, transient, []time.Duration{3 * time.Second, 9 * time.Second, 10 * time.Second, 10 * time.Second}, ""},
		// 10^10 and 10^12 seconds do not fit a time.Duration: they were
		// negative, an immediate retry; now the longest wait there is.
		{"past time.Duration", `{"ErrorEquals":["States.ALL"],"IntervalSeconds":99999999,"BackoffRate":100,"MaxAttempts":3}`, 3, transient,
			[]time.Duration{99999999 * time.Second, math.MaxInt64, math.MaxInt64}, ""},
		{"fractional backoff", `{"ErrorEquals":["States.ALL"],"IntervalSeconds":2,"BackoffRate":1.5,"MaxAttempts":2}`, 2, transient, []time.Duration{2 * time.Second, 3 * time.Second}, ""},
		{"never", `{"ErrorEquals":["States.ALL"],"MaxAttempts":0}`, 1, transient, nil, "Transient.IO"},
		{"no match", `{"ErrorEquals":["Other"]}`, 1, transient, nil, "Transient.IO"},
		{"TaskFailed matches plain errors", `{"ErrorEquals":["States.TaskFailed"],"MaxAttempts":1}`, 1, errors.New("boom"), []time.Duration{time.Second}, ""},
		{"first matching retrier only", `{"ErrorEquals":["Transient.IO"],"MaxAttempts":1},{"ErrorEquals":["States.ALL"],"IntervalSeconds":5}`, 2, transient, []time.Duration{time.Second}, "Transient.IO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","Retry":[` + tt.retry + `],"End":true}}}`
			invoke, _ := failing(tt.failures, tt.err)
			_, r, err := run(t, def, `{}`, invoke)
			if tt.wantErr != "" {
				if ee := execErr(t, err); ee.Name != tt.wantErr {
					t.Errorf("error %v, want %s", ee, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.sleeps, tt.want) {
				t.Errorf("sleeps %v, want %v", r.sleeps, tt.want)
			}
		})
	}
}

func TestRetryJitter(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":4,"MaxAttempts":5,"MaxDelaySeconds":20,"JitterStrategy":"FULL"}],"End":true}}}`
	invoke, _ := failing(5, errors.New("x"))
	_, r, err := run(t, def, `{}`, invoke)
	if err != nil {
		t.Fatal(err)
	}
	caps := []time.Duration{4, 8, 16, 20, 20}
	for i, d := range r.sleeps {
		if d < 0 || d > caps[i]*time.Second {
			t.Errorf("sleep %d = %v, want within [0, %vs]", i, d, caps[i])
		}
	}
}

func TestCatch(t *testing.T) {
	tests := []struct {
		name, catch string
		err         error
		want        string
		wantErr     string
	}{
		{"default ResultPath", `{"ErrorEquals":["E"],"Next":"H"}`, &TaskError{"E", "why"}, `{"Error":"E","Cause":"why"}`, ""},
		{"ResultPath merges", `{"ErrorEquals":["E"],"ResultPath":"$.failure","Next":"H"}`, &TaskError{"E", "why"}, `{"in":1,"failure":{"Error":"E","Cause":"why"}}`, ""},
		{"ResultPath null", `{"ErrorEquals":["E"],"ResultPath":null,"Next":"H"}`, &TaskError{"E", "why"}, `{"in":1}`, ""},
		{"States.ALL", `{"ErrorEquals":["X"],"Next":"H"},{"ErrorEquals":["States.ALL"],"Next":"H"}`, errors.New("plain"), `{"Error":"States.TaskFailed","Cause":"plain"}`, ""},
		{"unmatched", `{"ErrorEquals":["X"],"Next":"H"}`, &TaskError{"E", "why"}, ``, "E"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","Catch":[` + tt.catch + `],"Next":"Done"},
				"Done":{"Type":"Succeed"},"H":{"Type":"Pass","End":true}}}`
			invoke, _ := failing(1, tt.err)
			out, r, err := run(t, def, `{"in":1}`, invoke)
			if tt.wantErr != "" {
				if ee := execErr(t, err); ee.Name != tt.wantErr {
					t.Errorf("error %v, want %s", ee, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, out, tt.want)
			if r.count("TaskStateExited") != 1 {
				t.Errorf("a caught state exits once; events %v", r.types())
			}
		})
	}
}

func TestCatchOnEndState(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","Catch":[{"ErrorEquals":["E"],"Next":"H"}],"End":true},
		"H":{"Type":"Pass","Result":"handled","End":true}}}`
	invoke, _ := failing(1, &TaskError{"E", "x"})
	out, _, err := run(t, def, `{}`, invoke)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `"handled"`)
}

func TestRuntimeErrorsAreNotCaught(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","Parameters":{"x.$":"$.missing"},
		"Retry":[{"ErrorEquals":["States.ALL"]}],"Catch":[{"ErrorEquals":["States.ALL"],"Next":"H"}],"End":true},"H":{"Type":"Succeed"}}}`
	_, r, err := run(t, def, `{}`, echo)
	if ee := execErr(t, err); ee.Name != ErrRuntime {
		t.Errorf("got %v, want States.Runtime", ee)
	}
	if len(r.sleeps) != 0 {
		t.Errorf("States.Runtime was retried")
	}
}

func TestTaskTimeout(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"slow","Payload.$":"$"},"TimeoutSeconds":1,
		"Retry":[{"ErrorEquals":["States.TaskFailed"]}],"Catch":[{"ErrorEquals":["States.Timeout"],"Next":"H"}],"End":true},"H":{"Type":"Pass","End":true}}}`
	block := func(ctx context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	out, r, err := run(t, def, `{}`, block)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `{"Error":"States.Timeout","Cause":"Task timed out after 1 seconds."}`)
	if r.count("TaskTimedOut") != 1 || len(r.sleeps) != 0 {
		t.Errorf("States.TaskFailed must not match States.Timeout; events %v", r.types())
	}
}

func TestMapConcurrency(t *testing.T) {
	for _, tc := range []struct{ limit, items int }{{1, 5}, {3, 20}, {0, 12}, {8, 4}} {
		t.Run(fmt.Sprintf("limit=%d,items=%d", tc.limit, tc.items), func(t *testing.T) {
			want := tc.limit
			if want == 0 || want > tc.items {
				want = tc.items
			}
			var mu sync.Mutex
			cond := sync.NewCond(&mu)
			inflight, peak, started := 0, 0, 0
			invoke := func(ctx context.Context, _ string, in json.RawMessage) (json.RawMessage, error) {
				mu.Lock()
				defer mu.Unlock()
				inflight++
				started++
				peak = max(peak, inflight)
				cond.Broadcast()
				// Hold the slot until the limit is reached (or nothing more can
				// start), so the peak measures the engine, not the scheduler.
				for peak < want && started < tc.items && ctx.Err() == nil {
					cond.Wait()
				}
				inflight--
				return in, nil
			}
			def := fmt.Sprintf(`{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":%d,"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"T","States":{"T":{"Type":"Task","Resource":"%s","End":true}}},"End":true}}}`, tc.limit, fn)
			items := make([]int, tc.items)
			for i := range items {
				items[i] = i
			}
			in, _ := json.Marshal(items)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			m := mustParse(t, def)
			out, err := m.Execute(ctx, in, Options{Invoke: invoke})
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, out, string(in))
			if peak != want {
				t.Errorf("peak in flight %d, want %d", peak, want)
			}
		})
	}
}

func TestMap(t *testing.T) {
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","InputPath":"$.in","ItemsPath":"$.items",
		"ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value","k.$":"$.k"},
		"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"s.$":"States.Format('{}-{}-{}', $.k, $.i, $.v)"},"OutputPath":"$.s","End":true}}},
		"ResultSelector":{"all.$":"$","n.$":"States.ArrayLength($)"},"ResultPath":"$.out","End":true}}}`
	out, r, err := run(t, def, `{"in":{"k":"x","items":["a","b","c"]}}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `{"in":{"k":"x","items":["a","b","c"]},"out":{"all":["x-0-a","x-1-b","x-2-c"],"n":3}}`)
	if r.count("MapIterationSucceeded") != 3 {
		t.Errorf("events %v", r.types())
	}
	t.Run("legacy Iterator and Parameters", func(t *testing.T) {
		def := `{"StartAt":"M","States":{"M":{"Type":"Map","Parameters":{"v.$":"$$.Map.Item.Value"},"Iterator":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`
		out, _, err := run(t, def, `[1,2]`, nil)
		if err != nil {
			t.Fatal(err)
		}
		jsonEq(t, out, `[{"v":1},{"v":2}]`)
	})
	t.Run("not an array", func(t *testing.T) {
		def := `{"StartAt":"M","States":{"M":{"Type":"Map","Iterator":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`
		_, _, err := run(t, def, `{"a":1}`, nil)
		if ee := execErr(t, err); ee.Name != ErrRuntime {
			t.Errorf("got %v", ee)
		}
	})
}

func TestMapFailureAbortsOthers(t *testing.T) {
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":2,"ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","End":true}}},
		"Catch":[{"ErrorEquals":["Bad"],"Next":"H"}],"End":true},"H":{"Type":"Pass","End":true}}}`
	var calls atomic.Int32
	zeroRunning := make(chan struct{})
	invoke := func(ctx context.Context, _ string, in json.RawMessage) (json.RawMessage, error) {
		calls.Add(1)
		if string(in) == "1" {
			<-zeroRunning
			return nil, &TaskError{"Bad", "item 1"}
		}
		close(zeroRunning)
		<-ctx.Done() // item 0 runs until aborted
		return nil, ctx.Err()
	}
	m := mustParse(t, def)
	r := newRecorder()
	out, err := m.Execute(context.Background(), json.RawMessage(`[0,1,2,3,4]`), r.options(invoke))
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `{"Error":"Bad","Cause":"item 1"}`)
	if n := calls.Load(); n != 2 {
		t.Errorf("%d tasks started, want 2 (the rest are not started after the failure)", n)
	}
	if r.count("MapIterationFailed") != 1 || r.count("MapIterationAborted") != 1 || r.count("MapStateFailed") != 1 || r.count("TaskStateAborted") != 1 {
		t.Errorf("events %v", r.types())
	}
}

func TestParallel(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Parallel","Parameters":{"x.$":"$.x"},"ResultPath":"$.r","Branches":[
		{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"a.$":"$.x"},"End":true}}},
		{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"` + fn + `","Next":"B2"},"B2":{"Type":"Pass","Result":"b","End":true}}}],
		"Next":"Q"},"Q":{"Type":"Succeed"}}}`
	out, r, err := run(t, def, `{"x":7}`, echo)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `{"x":7,"r":[{"a":7},"b"]}`)
	if r.count("ParallelStateStarted") != 1 || r.count("ParallelStateSucceeded") != 1 || r.count("ParallelStateExited") != 1 {
		t.Errorf("events %v", r.types())
	}
	t.Run("branch failure", func(t *testing.T) {
		def := `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
			{"StartAt":"A","States":{"A":{"Type":"Fail","Error":"Oops","Cause":"a failed"}}},
			{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],
			"Retry":[{"ErrorEquals":["Oops"],"MaxAttempts":1}],"Catch":[{"ErrorEquals":["Oops"],"Next":"H"}],"End":true},"H":{"Type":"Pass","End":true}}}`
		out, r, err := run(t, def, `{}`, nil)
		if err != nil {
			t.Fatal(err)
		}
		jsonEq(t, out, `{"Error":"Oops","Cause":"a failed"}`)
		if r.count("ParallelStateFailed") != 2 || len(r.sleeps) != 1 {
			t.Errorf("events %v, sleeps %v", r.types(), r.sleeps)
		}
	})
}

func TestFail(t *testing.T) {
	tests := []struct {
		name, fields, input, wantErr, wantCause string
	}{
		{"literal", `"Error":"E","Cause":"C"`, `{}`, "E", "C"},
		{"paths", `"ErrorPath":"$.f.Error","CausePath":"$.f.Cause"`, `{"f":{"Error":"Pe","Cause":"Pc"}}`, "Pe", "Pc"},
		{"intrinsic", `"Error":"E","CausePath":"States.Format('job {} failed', $.job)"`, `{"job":"j7"}`, "E", "job j7 failed"},
		{"missing path", `"ErrorPath":"$.nope"`, `{}`, ErrRuntime, ""},
		{"not a string", `"ErrorPath":"$.n"`, `{"n":1}`, ErrRuntime, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := `{"StartAt":"F","States":{"F":{"Type":"Fail",` + tt.fields + `}}}`
			_, r, err := run(t, def, tt.input, nil)
			ee := execErr(t, err)
			if ee.Name != tt.wantErr || (tt.wantCause != "" && ee.Cause != tt.wantCause) {
				t.Errorf("got %q/%q, want %q/%q", ee.Name, ee.Cause, tt.wantErr, tt.wantCause)
			}
			if got := r.types(); !slices.Equal(got, []string{"ExecutionStarted", "FailStateEntered", "ExecutionFailed"}) {
				t.Errorf("events %v", got)
			}
		})
	}
}

func TestWait(t *testing.T) {
	tests := []struct {
		fields, input string
		want          time.Duration
	}{
		{`"Seconds":5`, `{}`, 5 * time.Second},
		{`"SecondsPath":"$.s"`, `{"s":7}`, 7 * time.Second},
		{`"Timestamp":"2025-01-02T03:05:05Z"`, `{}`, time.Minute},
		{`"TimestampPath":"$.t"`, `{"t":"2025-01-02T04:04:05+01:00"}`, 0},
		{`"TimestampPath":"$.t"`, `{"t":"2025-01-02T03:04:06.5Z"}`, 1500 * time.Millisecond},
		{`"Seconds":99999999`, `{}`, 99999999 * time.Second},
		{`"SecondsPath":"$.s"`, `{"s":99999999}`, 99999999 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.fields, func(t *testing.T) {
			def := `{"StartAt":"W","States":{"W":{"Type":"Wait",` + tt.fields + `,"End":true}}}`
			out, r, err := run(t, def, tt.input, nil)
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, out, tt.input)
			if !slices.Equal(r.sleeps, []time.Duration{tt.want}) {
				t.Errorf("sleeps %v, want [%v]", r.sleeps, tt.want)
			}
		})
	}
	def := `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`
	_, _, err := run(t, def, `{"s":"x"}`, nil)
	if ee := execErr(t, err); ee.Name != ErrRuntime {
		t.Errorf("got %v", ee)
	}
	// Seconds is "from 0 up to 99999999" (state-wait.html). Past it,
	// 10000000000 seconds overflowed the time.Duration and the Wait
	// ended at once.
	_, r, err := run(t, def, `{"s":10000000000}`, nil)
	if ee := execErr(t, err); ee.Name != ErrRuntime || len(r.sleeps) != 0 {
		t.Errorf("SecondsPath 10000000000: got %v, sleeps %v", ee, r.sleeps)
	}
	jdef := `{"QueryLanguage":"JSONata","StartAt":"W","States":{"W":{"Type":"Wait","Seconds":"{% $states.input.s %}","End":true}}}`
	_, r, err = run(t, jdef, `{"s":10000000000}`, nil)
	if ee := execErr(t, err); ee.Name != ErrQueryEvaluation || len(r.sleeps) != 0 {
		t.Errorf("JSONata Seconds 10000000000: got %v, sleeps %v", ee, r.sleeps)
	}
	if _, err := Parse([]byte(`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000000,"End":true}}}`)); err == nil {
		t.Error("accepted Seconds 100000000")
	}
}

func TestEvents(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"T"},
		"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST","Payload.$":"$"},"ResultSelector":{"p.$":"$.Payload","code.$":"$.StatusCode"},"Next":"C"},
		"C":{"Type":"Choice","Choices":[{"Variable":"$.code","NumericEquals":200,"Next":"W"}]},
		"W":{"Type":"Wait","Seconds":1,"Next":"S"},
		"S":{"Type":"Succeed"}}}`
	var gotResource string
	var gotInput json.RawMessage
	invoke := func(_ context.Context, res string, in json.RawMessage) (json.RawMessage, error) {
		gotResource, gotInput = res, in
		return json.RawMessage(`{"ok":1}`), nil
	}
	out, r, err := run(t, def, `{"a":"b"}`, invoke)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `{"p":{"ok":1},"code":200}`)
	if gotResource != "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST" || string(gotInput) != `{"a":"b"}` {
		t.Errorf("invoked %q with %s", gotResource, gotInput)
	}
	want := []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
		"ChoiceStateEntered", "ChoiceStateExited", "WaitStateEntered", "WaitStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"}
	if got := r.types(); !slices.Equal(got, want) {
		t.Fatalf("events\n got %v\nwant %v", got, want)
	}
	for i, e := range r.events {
		if e.ID != int64(i+1) || e.PreviousEventID != int64(i) {
			t.Errorf("event %d: id %d previous %d", i, e.ID, e.PreviousEventID)
		}
	}
	ts := r.events[4].TaskScheduledEventDetails
	if ts.ResourceType != "lambda" || ts.Resource != "invoke" || ts.Region != "us-east-1" {
		t.Errorf("TaskScheduled %+v", ts)
	}
	jsonEq(t, []byte(ts.Parameters), `{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST","Payload":{"a":"b"}}`)
	jsonEq(t, []byte(r.events[6].TaskSucceededEventDetails.Output), `{"ExecutedVersion":"$LATEST","Payload":{"ok":1},"StatusCode":200}`)
	last := r.events[len(r.events)-1]
	if !last.Timestamp.Equal(r.now) {
		t.Errorf("last timestamp %v, want %v (Options.Now after the 1s wait)", last.Timestamp, r.now)
	}
	b, err := json.Marshal(r.events[0])
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, b, `{"timestamp":1735787045.000,"type":"ExecutionStarted","id":1,"previousEventId":0,
		"executionStartedEventDetails":{"input":"{\"a\":\"b\"}","inputDetails":{"truncated":false}}}`)
}

func TestEventJSONRoundTrip(t *testing.T) {
	for _, ts := range []string{`1735787045.123`, `"2025-01-02T03:04:05.123Z"`, `1.735787045123E9`} {
		var e Event
		if err := json.Unmarshal([]byte(`{"timestamp":`+ts+`,"type":"X","id":2,"previousEventId":1}`), &e); err != nil {
			t.Fatal(err)
		}
		if want := time.UnixMilli(1735787045123).UTC(); !e.Timestamp.Equal(want) {
			t.Errorf("%s: timestamp %v, want %v", ts, e.Timestamp, want)
		}
	}
}

func TestExecutionTimeoutAndAbort(t *testing.T) {
	block := func(ctx context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	def := `{"TimeoutSeconds":1,"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","End":true}}}`
	_, r, err := run(t, def, `{}`, block)
	if ee := execErr(t, err); ee.Name != ErrTimeout {
		t.Errorf("got %v", ee)
	}
	if got := r.types(); got[len(got)-1] != "ExecutionTimedOut" {
		t.Errorf("events %v", got)
	}

	m := mustParse(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+fn+`","End":true}}}`)
	ctx, cancel := context.WithCancel(context.Background())
	r = newRecorder()
	opts := r.options(func(ctx context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	})
	if _, err := m.Execute(ctx, json.RawMessage(`{}`), opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if got := r.types(); !slices.Equal(got[len(got)-2:], []string{"TaskStateAborted", "ExecutionAborted"}) {
		t.Errorf("events %v", got)
	}
}

func TestResources(t *testing.T) {
	def := `{"StartAt":"A","States":{
		"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:a","Next":"B"},
		"B":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"fb","Payload.$":"$"},"Next":"M"},
		"M":{"Type":"Map","ItemProcessor":{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:a","Next":"D"},
			"D":{"Type":"Task","Resource":"arn:aws:states:::sns:publish","End":true}}},"End":true}}}`
	got := mustParse(t, def).Resources()
	want := []string{"arn:aws:lambda:us-east-1:1:function:a", "arn:aws:states:::sns:publish", "fb"}
	if !slices.Equal(got, want) {
		t.Errorf("Resources() = %v, want %v", got, want)
	}
}

// TestDataLimitExceeded: a state whose output is over 256 KiB fails the
// execution with States.DataLimitExceeded, which neither States.ALL nor
// States.TaskFailed catches, in a Parallel's branch as at the top
// (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html;
// the limit: https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
func TestDataLimitExceeded(t *testing.T) {
	big := func(ctx context.Context, resource string, input json.RawMessage) (json.RawMessage, error) {
		return json.Marshal(map[string]string{"blob": strings.Repeat("x", MaxPayload)})
	}
	justUnder := func(ctx context.Context, resource string, input json.RawMessage) (json.RawMessage, error) {
		return json.Marshal(map[string]string{"blob": strings.Repeat("x", MaxPayload-len(`{"blob":""}`))})
	}
	catchAll := `"Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"H"},{"ErrorEquals":["States.ALL"],"Next":"H"}]`
	task := `{"Type":"Task","Resource":"` + fn + `",` + catchAll + `,"Next":"Done"}`
	for name, def := range map[string]string{
		"task": `{"StartAt":"T","States":{"T":` + task + `,"Done":{"Type":"Succeed"},"H":{"Type":"Pass","End":true}}}`,
		"parallel": `{"StartAt":"P","States":{"P":{"Type":"Parallel",` + catchAll + `,"Next":"Done","Branches":[{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","End":true}}}]},
			"Done":{"Type":"Succeed"},"H":{"Type":"Pass","End":true}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := run(t, def, `{}`, big)
			if ee := execErr(t, err); ee.Name != ErrDataLimitExceeded || !strings.Contains(ee.Cause, "'T'") {
				t.Errorf("got %v, want %s naming state T", ee, ErrDataLimitExceeded)
			}
			if _, _, err := run(t, def, `{}`, justUnder); err != nil && name == "task" {
				t.Errorf("an output of exactly %d bytes: %v", MaxPayload, err)
			}
		})
	}
}

// TestHistoryQuota: event 25,000 ends an execution's history
// (bp-history-limit.html). A loop of Pass and Choice states whose
// ExecutionSucceeded is event 25,000 succeeds; one more iteration fails
// there with ExecutionFailed, stops the loop, and cannot be redriven. A
// loop that never ends fails the same way instead of growing its history
// until the process runs out of memory.
func TestHistoryQuota(t *testing.T) {
	// ExecutionStarted, 4 events an iteration (PassStateEntered/Exited,
	// ChoiceStateEntered/Exited), SucceedStateEntered/Exited and
	// ExecutionSucceeded: 4n+4 events.
	const loop = `{"StartAt":"Count","States":{
		"Count":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)","n.$":"$.n"},"Next":"Check"},
		"Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericEqualsPath":"$.n","Next":"Done"}],"Default":"Count"},
		"Done":{"Type":"Succeed"}}}`
	const fits = (MaxHistoryEvents - 4) / 4
	for _, tc := range []struct {
		name  string
		input string
		fail  bool
	}{
		{"ends at the last event", fmt.Sprintf(`{"i":0,"n":%d}`, fits), false},
		{"one iteration more", fmt.Sprintf(`{"i":0,"n":%d}`, fits+1), true},
		{"never ends", `{"i":0,"n":-1}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustParse(t, loop)
			r := newRecorder()
			_, err := m.Execute(t.Context(), json.RawMessage(tc.input), r.options(nil))
			if len(r.events) != MaxHistoryEvents {
				t.Fatalf("%d events, want %d", len(r.events), MaxHistoryEvents)
			}
			last := r.events[len(r.events)-1]
			if last.ID != MaxHistoryEvents {
				t.Errorf("last event id %d", last.ID)
			}
			if !tc.fail {
				if err != nil || last.Type != "ExecutionSucceeded" {
					t.Fatalf("err %v, last event %s", err, last.Type)
				}
				return
			}
			ee := execErr(t, err)
			if ee.Name != ErrRuntime || last.Type != "ExecutionFailed" || last.ExecutionFailedEventDetails.Error != ErrRuntime ||
				!strings.Contains(last.ExecutionFailedEventDetails.Cause, "25000") {
				t.Fatalf("error %v, last event %s %+v", ee, last.Type, last.ExecutionFailedEventDetails)
			}
			_, err = m.Redrive(t.Context(), r.events, r.options(nil))
			var nr *NotRedrivableError
			if !errors.As(err, &nr) {
				t.Fatalf("redrive of a full history: %v, want NotRedrivableError", err)
			}
		})
	}
}
