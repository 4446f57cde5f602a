package jsonataworker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/efspipe/efspipe/internal/testenv"
	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/pkg/jsonataworker"
)

const workerEnv = "EFSPIPE_JSONATAWORKER_TEST_WORKER"

// TestMain makes this test binary a worker when the pool starts it.
func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) != "" {
		if err := jsonataworker.Serve(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// started records the workers a pool started, to check they are gone.
type started struct {
	mu    sync.Mutex
	procs []*exec.Cmd
}

func newPool(t *testing.T, workers int) (*jsonataworker.Pool, *started) {
	t.Helper()
	s := &started{}
	p := jsonataworker.New(func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), workerEnv+"=1")
		s.mu.Lock()
		s.procs = append(s.procs, cmd)
		s.mu.Unlock()
		return cmd
	}, workers, workers)
	t.Cleanup(func() { p.Close() })
	return p, s
}

func (s *started) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.procs)
}

// alive reports how many started workers still run.
func (s *started) alive() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.procs {
		if c.Process != nil && syscall.Kill(c.Process.Pid, 0) == nil {
			n++
		}
	}
	return n
}

var vars = json.RawMessage(`{"states":{"input":{"n":41,"items":[3,1,2]}},"greeting":"hi"}`)

// TestSameAsInProcess: a worker's values and errors are EvalJSONata's.
func TestSameAsInProcess(t *testing.T) {
	p, s := newPool(t, 2)
	for _, expr := range []string{
		`$states.input.n + 1`,
		`$sort($states.input.items)`,
		`$greeting & " there"`,
		`{"a": [1, 2.5, null, true], "b": $uuid() ~> $length()}`,
		`$partition([1,2,3], 2)`,
		`$states.input.missing`,
		`$partition([1,2,3], 0)`,
		`$unknownFunction(1)`,
		`1 / 0`,
	} {
		want, wantErr := asl.EvalJSONata(expr, vars)
		got, err := p.Eval(t.Context(), expr, vars)
		var je, wantJE *asl.JSONataError
		if errors.As(wantErr, &wantJE) {
			if !errors.As(err, &je) || *je != *wantJE {
				t.Errorf("%s: error %v, want %v", expr, err, wantErr)
			}
			continue
		}
		if wantErr != nil || err != nil {
			t.Fatalf("%s: %v, %v", expr, err, wantErr)
		}
		if strings.Contains(expr, "uuid") {
			continue // random; its length is checked below
		}
		if string(got) != string(want) {
			t.Errorf("%s = %s, want %s", expr, got, want)
		}
	}
	if got, err := p.Eval(t.Context(), `$uuid() ~> $length()`, vars); err != nil || string(got) != "36" {
		t.Errorf("uuid length %s, %v", got, err)
	}
	if n := s.count(); n != 1 {
		t.Errorf("%d workers started for evaluations one after another, want 1", n)
	}
}

// TestRunawayRecursion: unbounded recursion, which would end serve's
// process (Go's stack overflow is fatal), ends one worker; the evaluation
// says why, and the next one runs in a new worker.
func TestRunawayRecursion(t *testing.T) {
	p, s := newPool(t, 1)
	_, err := p.Eval(t.Context(), `($f := function($n){ $f($n + 1) + 1 }; $f(0))`, vars)
	var je *asl.JSONataError
	if err == nil || errors.As(err, &je) || !strings.Contains(err.Error(), "stack overflow") {
		t.Fatalf("runaway recursion: %v", err)
	}
	t.Log(err)
	got, err := p.Eval(t.Context(), `$states.input.n + 1`, vars)
	if err != nil || string(got) != "42" {
		t.Fatalf("next evaluation: %s, %v", got, err)
	}
	if n, alive := s.count(), s.alive(); n != 2 || alive != 1 {
		t.Errorf("%d workers started, %d alive; want 2 and 1", n, alive)
	}
}

// TestStopKillsTheWorker: an evaluation still running when its context
// ends (StopExecution, the execution's timeout) returns at once, and its
// worker is killed rather than left computing.
func TestStopKillsTheWorker(t *testing.T) {
	p, s := newPool(t, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := p.Eval(ctx, `$count([1..10000000].($string($ & "x")))`, vars)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("stopped evaluation: %v, want the context's error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the evaluation did not return after its context ended")
	}
	if alive := s.alive(); alive != 0 {
		t.Errorf("%d workers alive after the stop", alive)
	}
	if got, err := p.Eval(t.Context(), `1 + 1`, vars); err != nil || string(got) != "2" {
		t.Fatalf("next evaluation: %s, %v", got, err)
	}
}

// TestConcurrentEvaluations: many callers share at most the pool's
// workers, each getting its own answer.
func TestConcurrentEvaluations(t *testing.T) {
	p, s := newPool(t, 2)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Go(func() {
			for j := range 8 {
				want := fmt.Sprint(i*100 + j)
				got, err := p.Eval(t.Context(), fmt.Sprintf("%d * 100 + %d", i, j), vars)
				if err != nil || string(got) != want {
					errs <- fmt.Errorf("%d*100+%d = %s, %v", i, j, got, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := s.count(); n > 2 {
		t.Errorf("%d workers started, at most 2 allowed", n)
	}
	p.Close()
	if alive := s.alive(); alive != 0 {
		t.Errorf("%d workers alive after Close", alive)
	}
	if _, err := p.Eval(t.Context(), `1`, vars); err == nil {
		t.Error("Eval after Close succeeded")
	}
}

// TestLargeValue: a value over asl.MaxJSONataValue is the worker's
// States.DataLimitExceeded, as in process, and the worker does not send it:
// several copies of it would be held in serve's process while decoding.
func TestLargeValue(t *testing.T) {
	p, _ := newPool(t, 1)
	expr := fmt.Sprintf(`$pad("a", %d)`, asl.MaxJSONataValue)
	want, wantErr := asl.EvalJSONata(expr, vars)
	got, err := p.Eval(t.Context(), expr, vars)
	var je, wantJE *asl.JSONataError
	if !errors.As(wantErr, &wantJE) || wantJE.Name != "States.DataLimitExceeded" || want != nil {
		t.Fatalf("in process: %d bytes, %v", len(want), wantErr)
	}
	if !errors.As(err, &je) || *je != *wantJE || got != nil {
		t.Fatalf("in a worker: %d bytes, %v; want %v", len(got), err, wantErr)
	}
}

// TestIdleWorkerReturnsMemory: a worker that evaluated an expression using
// hundreds of MB returns them to the system before it waits idle in the
// pool; before, nothing collected them there and the worker kept them.
func TestIdleWorkerReturnsMemory(t *testing.T) {
	if testenv.Race {
		// The worker is this test binary: the race detector's shadow
		// memory, which stays, would be counted.
		t.Skip("resident memory is not the heap's under the race detector")
	}
	p, s := newPool(t, 1)
	got, err := p.Eval(t.Context(), `$count([1..1500000].($string($)))`, vars)
	if err != nil || string(got) != "1500000" {
		t.Fatalf("%s, %v", got, err)
	}
	s.mu.Lock()
	pid := s.procs[0].Process.Pid
	s.mu.Unlock()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	var rss int
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			fmt.Sscanf(strings.TrimPrefix(l, "VmRSS:"), "%d", &rss)
		}
	}
	// The evaluation used over 200 MB; an idle worker is under 100 MB.
	if rss == 0 || rss > 100<<10 {
		t.Errorf("idle worker's resident memory %d kB", rss)
	}
}
