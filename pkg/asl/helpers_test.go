package asl

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"
)

func mustParse(t testing.TB, def string) *Machine {
	t.Helper()
	m, err := Parse([]byte(def))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

// recorder collects the history and the sleeps of an execution.
type recorder struct {
	mu     sync.Mutex
	events []Event
	sleeps []time.Duration
	now    time.Time
}

func newRecorder() *recorder {
	return &recorder{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// jsonataElsewhere, when set, is the Options.JSONata of every execution the
// tests run (TestJSONataElsewhere).
var jsonataElsewhere JSONataFunc

func (r *recorder) options(invoke TaskFunc) Options {
	return Options{
		JSONata:       jsonataElsewhere,
		Invoke:        invoke,
		OnEvent:       func(e Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() },
		Now:           func() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return r.now },
		Sleep:         r.sleep,
		ExecutionName: "exec-1",
	}
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.sleeps = append(r.sleeps, d)
	r.now = r.now.Add(d)
	r.mu.Unlock()
	return ctx.Err()
}

func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.events))
	for i, e := range r.events {
		out[i] = e.Type
	}
	return out
}

func (r *recorder) count(typ string) int {
	n := 0
	for _, t := range r.types() {
		if t == typ {
			n++
		}
	}
	return n
}

// jsonEq compares two JSON texts structurally.
func jsonEq(t testing.TB, got []byte, want string) {
	t.Helper()
	g, err := decode(got)
	if err != nil {
		t.Fatalf("output %q is not JSON: %v", got, err)
	}
	w, err := decode([]byte(want))
	if err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	if !jsonEqual(g, w) {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func execErr(t testing.TB, err error) *ExecutionError {
	t.Helper()
	var ee *ExecutionError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v (%T) is not an *ExecutionError", err, err)
	}
	return ee
}

// echo returns its input.
func echo(_ context.Context, _ string, in json.RawMessage) (json.RawMessage, error) { return in, nil }

func run(t testing.TB, def, input string, invoke TaskFunc) (json.RawMessage, *recorder, error) {
	t.Helper()
	m := mustParse(t, def)
	r := newRecorder()
	out, err := m.Execute(context.Background(), json.RawMessage(input), r.options(invoke))
	return out, r, err
}
