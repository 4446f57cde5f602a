package sfnlocal

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/pkg/jobfs"
)

// An execution recording faster than it is flushed holds at most
// maxPending bytes of events (and one more event) in memory: record
// flushes the rest before it returns. What it recorded reads back whole,
// from the mount and from memory alike.
func TestPendingIsBounded(t *testing.T) {
	s := unflushed(t)
	x := s.testExecution(t, "x")
	const n, size = 20, 256 << 10 // 5 MiB: over maxPending
	var total int
	for i := range n {
		e := bigEvent(i, size)
		b, _ := json.Marshal(e)
		total += len(b) + 1
		s.record(x, e)
		if p := len(x.h.pending); p > maxPending {
			t.Fatalf("after event %d, %d bytes pending, over %d", i+1, p, maxPending)
		}
	}
	if x.h.written == 0 || x.h.written+int64(len(x.h.pending)) != int64(total) {
		t.Fatalf("%d bytes written, %d pending, of %d", x.h.written, len(x.h.pending), total)
	}
	for _, r := range [][2]int{{0, n}, {n - 3, n}, {5, 6}, {0, 0}} {
		got, err := s.events(x, r[0], r[1])
		if err != nil || len(got) != r[1]-r[0] {
			t.Fatalf("events %v: %d, %v", r, len(got), err)
		}
		for i, e := range got {
			if e.ID != int64(r[0]+i+1) || len(e.StateEnteredEventDetails.Input) != size+2 {
				t.Fatalf("events %v: event %d is %d", r, i, e.ID)
			}
		}
	}
}

// Executions recording large states together hold maxPendingTotal of
// unwritten events between them, not maxPending each: 40 loops of 200 KB
// states peaked serve at 363 MB.
func TestPendingIsShared(t *testing.T) {
	s := unflushed(t)
	// 16 × 3 MiB: 48 MiB, each under maxPending, together over
	// maxPendingTotal.
	const execs, n, size = 16, 24, 128 << 10
	xs := make([]*execution, execs)
	for i := range xs {
		xs[i] = s.testExecution(t, strconv.Itoa(i))
	}
	// Each execution may hold up to minShare, and the event it records
	// past it, whatever the others hold.
	bound := int64(max(maxPendingTotal, execs*minShare) + execs*(size+1024))
	for i := range n {
		for _, x := range xs {
			s.record(x, bigEvent(i, size))
			var sum int64
			for _, x := range xs {
				sum += int64(len(x.h.pending))
			}
			if p := s.pending.Load(); p != sum || p > bound {
				t.Fatalf("event %d: %d bytes pending by the count, %d by the executions; at most %d", i+1, p, sum, bound)
			}
		}
	}
	for _, x := range xs {
		if err := s.flush(x); err != nil {
			t.Fatal(err)
		}
	}
	if p := s.pending.Load(); p != 0 {
		t.Fatalf("%d bytes pending after every execution's flush", p)
	}
}

// unflushed is a server whose histories are written only when an
// execution's events pass maxPending or every execution's pass
// maxPendingTotal.
func unflushed(t testing.TB) *Server {
	t.Helper()
	m, err := jobfs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	s, err := New(Config{Mount: m, FlushInterval: time.Hour,
		Invoke: func(context.Context, string, json.RawMessage) (json.RawMessage, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testExecution is an execution named name, with its directory on s's
// mount.
func (s *Server) testExecution(t testing.TB, name string) *execution {
	t.Helper()
	x := &execution{rec: executionRecord{Arn: "arn:aws:states:us-east-1:000000000000:execution:m:" + name}}
	if err := s.cfg.Mount.MkdirAll(x.dir()); err != nil {
		t.Fatal(err)
	}
	return x
}

// bigEvent is event i+1 of a history, a state entered with size bytes of
// input.
func bigEvent(i, size int) asl.Event {
	return asl.Event{ID: int64(i + 1), Type: "PassStateEntered", Timestamp: time.UnixMilli(int64(i)).UTC(),
		StateEnteredEventDetails: &asl.StateEnteredEventDetails{Name: "P", Input: `"` + strings.Repeat("x", size) + `"`}}
}

// BenchmarkRecord records events of 20 KB of state, as a Pass/Choice loop
// carrying that much does, written to the mount each time maxPending of
// them wait: the cost of the history on an execution's own goroutine
// (encoding, buffering, appending with an fsync).
func BenchmarkRecord(b *testing.B) {
	s := unflushed(b)
	x := s.testExecution(b, "x")
	e := bigEvent(0, 20<<10)
	b.SetBytes(20 << 10)
	for i := range b.N {
		e.ID = int64(i + 1)
		s.record(x, e)
	}
}

// An execution that ended holds no buffer for its unwritten events,
// however large it grew: 40 loops of 200 KB states left serve at 354 MB
// once they had all ended, the buffers of their largest bursts kept. (It
// is kept while the execution runs: let go at each flush, a loop of 20 KB
// states took twice as long; BenchmarkRecord, the 20 KB loop of the
// README.)
func TestEndedExecutionHoldsNoBuffer(t *testing.T) {
	s := unflushed(t)
	def := `{"StartAt":"Count","States":{
	"Count":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)","n.$":"$.n","pad.$":"$.pad"},"Next":"Check"},
	"Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericGreaterThanEqualsPath":"$.n","Next":"Done"}],"Default":"Count"},
	"Done":{"Type":"Succeed"}}}`
	m, err := asl.Parse([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	// 20 iterations of 4 events of 128 KiB: 10 MiB, two maxPending.
	in, _ := json.Marshal(map[string]any{"i": 0, "n": 20, "pad": strings.Repeat("x", 128<<10)})
	x := s.testExecution(t, "loop")
	x.m, x.rec.Input, x.rec.Start = m, string(in), time.Now()
	var grown int
	s.mu.Lock()
	s.launch(x, time.Time{})
	done := x.done
	s.mu.Unlock()
	for {
		select {
		case <-done:
		case <-time.After(time.Millisecond):
			x.mu.Lock()
			grown = max(grown, cap(x.h.pending))
			x.mu.Unlock()
			continue
		}
		break
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.h.last.Type != "ExecutionSucceeded" || x.h.written == 0 {
		t.Fatalf("the loop ended in %s with %d bytes written", x.h.last.Type, x.h.written)
	}
	if x.h.pending != nil {
		t.Fatalf("an execution that ended holds a buffer of %d bytes", cap(x.h.pending))
	}
	if grown < maxPending {
		t.Fatalf("the loop's buffer grew to %d bytes at most, under maxPending", grown)
	}
}
