package asl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
)

// calls counts task invocations by resource and input.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) add(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[key]++
	return c.n[key]
}

func (c *calls) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

const redriveDef = `{"StartAt":"Prep","States":{
	"Prep":{"Type":"Pass","Parameters":{"items.$":"States.ArrayRange(0, 4, 1)"},"Next":"M"},
	"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":0,"ResultPath":"$.results","ItemProcessor":{"StartAt":"T1","States":{
		"T1":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:t1","Next":"T2"},
		"T2":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:t2","End":true}}},"Next":"After"},
	"After":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:after","End":true}}}`

// roundTrip persists a history as JSON and reads it back.
func roundTrip(t *testing.T, h []Event) []Event {
	t.Helper()
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var back []Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(h, back) {
		t.Fatalf("history does not round-trip through JSON")
	}
	return back
}

func TestRedriveMap(t *testing.T) {
	m := mustParse(t, redriveDef)
	var c calls
	failuresLeft := 2 // item 3's T2 fails in the first run and in the first redrive
	var mu sync.Mutex
	othersDone, others := make(chan struct{}), 0
	invoke := func(_ context.Context, res string, in json.RawMessage) (json.RawMessage, error) {
		c.add(res + " " + string(in))
		switch res {
		case "arn:aws:lambda:us-east-1:1:function:t1":
			return json.RawMessage(`{"t1":` + string(in) + `}`), nil
		case "arn:aws:lambda:us-east-1:1:function:t2":
			if string(in) == `{"t1":3}` {
				// Fail only once the other iterations have their results, so
				// that exactly one iteration is left to redrive.
				<-othersDone
				mu.Lock()
				defer mu.Unlock()
				if failuresLeft > 0 {
					failuresLeft--
					return nil, &TaskError{Name: "Flaky", Cause: "item 3"}
				}
			} else {
				mu.Lock()
				if others++; others == 4 {
					close(othersDone)
				}
				mu.Unlock()
			}
			return json.RawMessage(`{"t2":` + string(in) + `}`), nil
		}
		return json.RawMessage(`"done"`), nil
	}
	r := newRecorder()
	_, err := m.Execute(context.Background(), json.RawMessage(`{}`), r.options(invoke))
	if ee := execErr(t, err); ee.Name != "Flaky" {
		t.Fatalf("first run: %v", ee)
	}
	history := roundTrip(t, r.events)

	// First redrive: item 3 fails again.
	r2 := newRecorder()
	_, err = m.Redrive(context.Background(), history, r2.options(invoke))
	if ee := execErr(t, err); ee.Name != "Flaky" {
		t.Fatalf("first redrive: %v", ee)
	}
	first := r2.events[0]
	if first.Type != "ExecutionRedriven" || first.ID != history[len(history)-1].ID+1 || first.PreviousEventID != history[len(history)-1].ID ||
		first.ExecutionRedrivenEventDetails.RedriveCount != 1 {
		t.Errorf("first redriven event %+v", first)
	}
	history = roundTrip(t, append(history, r2.events...))

	// Second redrive succeeds.
	r3 := newRecorder()
	out, err := m.Redrive(context.Background(), history, r3.options(invoke))
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `"done"`)
	if got := r3.events[0].ExecutionRedrivenEventDetails.RedriveCount; got != 2 {
		t.Errorf("redriveCount %d, want 2", got)
	}
	for i := range 5 {
		in := string(marshal(intNumber(int64(i))))
		if n := c.get("arn:aws:lambda:us-east-1:1:function:t1 " + in); n != 1 {
			t.Errorf("t1(%d) ran %d times, want once (succeeded states are not rerun)", i, n)
		}
		want := 1
		if i == 3 {
			want = 3
		}
		if n := c.get("arn:aws:lambda:us-east-1:1:function:t2 {\"t1\":" + in + "}"); n != want {
			t.Errorf("t2(%d) ran %d times, want %d", i, n, want)
		}
	}
	if n := c.get(`arn:aws:lambda:us-east-1:1:function:after {"items":[0,1,2,3,4],"results":[{"t2":{"t1":0}},{"t2":{"t1":1}},{"t2":{"t1":2}},{"t2":{"t1":3}},{"t2":{"t1":4}}]}`); n != 1 {
		t.Errorf("after ran %d times with the reassembled Map output, want 1; calls %v", n, c.n)
	}
	for _, rr := range []*recorder{r2, r3} {
		if n := rr.count("MapIterationStarted"); n != 1 {
			t.Errorf("a redrive started %d iterations, want 1", n)
		}
		if n := rr.count("PassStateEntered"); n != 0 {
			t.Errorf("a redrive reran Prep")
		}
		for i, e := range rr.events {
			if e.ID != rr.events[0].ID+int64(i) {
				t.Errorf("ids not consecutive: %d at %d", e.ID, i)
			}
		}
	}

	t.Run("not redrivable", func(t *testing.T) {
		full := append(slices.Clone(history), r3.events...)
		var nre *NotRedrivableError
		if _, err := m.Redrive(context.Background(), full, r3.options(invoke)); !errors.As(err, &nre) {
			t.Errorf("redriving a succeeded execution: %v", err)
		}
		if _, err := m.Redrive(context.Background(), history[:5], r3.options(invoke)); !errors.As(err, &nre) {
			t.Errorf("redriving a running execution: %v", err)
		}
		if _, err := m.Redrive(context.Background(), nil, r3.options(invoke)); !errors.As(err, &nre) {
			t.Errorf("redriving nothing: %v", err)
		}
	})
}

func TestRedriveParallelAndTop(t *testing.T) {
	def := `{"StartAt":"A","States":{
		"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:a","ResultPath":"$.a","Next":"P"},
		"P":{"Type":"Parallel","ResultPath":"$.p","Branches":[
			{"StartAt":"B1","States":{"B1":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:b1","End":true}}},
			{"StartAt":"C1","States":{"C1":{"Type":"Pass","Result":"c1","Next":"C2"},"C2":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:c2","End":true}}}],
		"Next":"Z"},
		"Z":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:z","ResultPath":"$.z","End":true}}}`
	m := mustParse(t, def)
	var c calls
	invoke := func(_ context.Context, res string, in json.RawMessage) (json.RawMessage, error) {
		n := c.add(res)
		if res == "arn:aws:lambda:us-east-1:1:function:c2" && n == 1 || res == "arn:aws:lambda:us-east-1:1:function:z" && n == 1 {
			return nil, errors.New("transient")
		}
		return json.RawMessage(`"` + res[len(res)-2:] + `"`), nil
	}
	r := newRecorder()
	var history []Event
	_, err := m.Execute(context.Background(), json.RawMessage(`{}`), r.options(invoke))
	for attempt := 0; err != nil; attempt++ {
		if attempt == 3 {
			t.Fatalf("still failing: %v", err)
		}
		history = roundTrip(t, append(history, r.events...))
		r = newRecorder()
		_, err = m.Redrive(context.Background(), history, r.options(invoke))
	}
	want := map[string]int{"a": 1, "b1": 1, "c2": 2, "z": 2}
	for k, n := range want {
		if got := c.get("arn:aws:lambda:us-east-1:1:function:" + k); got != n {
			t.Errorf("%s ran %d times, want %d", k, got, n)
		}
	}
	last := r.events[len(r.events)-1]
	jsonEq(t, []byte(last.ExecutionSucceededEventDetails.Output), `{"a":":a","p":["b1","c2"],"z":":z"}`)
}

// TestRedriveNeedsRoom: AWS redrives a history of fewer than 24,999 events,
// to fit ExecutionRedriven and one event more
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html).
// A history of 24,999 is not redrivable; before, its redrive recorded
// ExecutionRedriven as a failed event 25,000 and then ran the states
// again with nothing recorded. A history of 24,998 redrives, and its rerun
// state's first event is event 25,000, which fails the execution.
func TestRedriveNeedsRoom(t *testing.T) {
	// ExecutionStarted, 4 events an iteration, the tail, ExecutionFailed.
	loop := func(tail string) string {
		return `{"StartAt":"Count","States":{
		"Count":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)","n.$":"$.n"},"Next":"Check"},
		"Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericEqualsPath":"$.n","Next":"Tail"}],"Default":"Count"},
		"Tail":` + tail + `}}`
	}
	failing := true
	invoke := func(_ context.Context, _ string, in json.RawMessage) (json.RawMessage, error) {
		if failing {
			return nil, &TaskError{Name: "Boom", Cause: "c"}
		}
		return in, nil
	}
	for _, tc := range []struct {
		name, tail string
		n          int
		last       int64
	}{
		{"Fail", `{"Type":"Fail","Error":"E"}`, 6249, MaxHistoryEvents - 1},                        // 4n+3 events
		{"Task", `{"Type":"Task","Resource":"` + fn + `","End":true}`, 6248, MaxHistoryEvents - 2}, // 4n+6
	} {
		t.Run(tc.name, func(t *testing.T) {
			failing = true
			m := mustParse(t, loop(tc.tail))
			r := newRecorder()
			if _, err := m.Execute(t.Context(), json.RawMessage(fmt.Sprintf(`{"i":0,"n":%d}`, tc.n)), r.options(invoke)); err == nil {
				t.Fatal("the first run succeeded")
			}
			if last := r.events[len(r.events)-1]; last.ID != tc.last || last.Type != "ExecutionFailed" {
				t.Fatalf("first run ended at event %d, %s", last.ID, last.Type)
			}
			failing = false
			r2 := newRecorder()
			_, err := m.Redrive(t.Context(), r.events, r2.options(invoke))
			var nr *NotRedrivableError
			if tc.last >= MaxHistoryEvents-1 {
				if !errors.As(err, &nr) || len(r2.events) != 0 {
					t.Fatalf("redrive of %d events: %v, %d events", tc.last, err, len(r2.events))
				}
				return
			}
			ee := execErr(t, err)
			if ee.Name != ErrRuntime || len(r2.events) != 2 || r2.events[0].Type != "ExecutionRedriven" ||
				r2.events[1].ID != MaxHistoryEvents || r2.events[1].Type != "ExecutionFailed" {
				t.Fatalf("redrive of %d events: %v, events %+v", tc.last, ee, r2.events)
			}
		})
	}
}
