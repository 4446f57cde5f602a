package sfnlocal

import (
	"context"
	"encoding/json"
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
	m, err := jobfs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := New(Config{Mount: m, FlushInterval: time.Hour,
		Invoke: func(context.Context, string, json.RawMessage) (json.RawMessage, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x := &execution{rec: executionRecord{Arn: "arn:aws:states:us-east-1:000000000000:execution:m:x"}}
	if err := m.MkdirAll(x.dir()); err != nil {
		t.Fatal(err)
	}
	const n, size = 20, 256 << 10 // 5 MiB: over maxPending
	var total int
	for i := range n {
		e := asl.Event{ID: int64(i + 1), Type: "PassStateEntered", Timestamp: time.UnixMilli(int64(i)).UTC(),
			StateEnteredEventDetails: &asl.StateEnteredEventDetails{Name: "P", Input: `"` + strings.Repeat("x", size) + `"`}}
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
