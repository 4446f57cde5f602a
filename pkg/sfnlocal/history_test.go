package sfnlocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/sfnlocal"
)

// historyLines reads the one history file on the mount as JSON Lines: every
// line must end in a newline and decode as an event.
func historyLines(t *testing.T, mountDir string) (string, []asl.Event) {
	t.Helper()
	name, events, err := readHistoryLines(mountDir)
	if err != nil {
		t.Fatal(err)
	}
	return name, events
}

func readHistoryLines(mountDir string) (string, []asl.Event, error) {
	matches, _ := filepath.Glob(filepath.Join(mountDir, "sfn", "executions", "*", "history.jsonl"))
	if len(matches) != 1 {
		return "", nil, fmt.Errorf("%d history files", len(matches))
	}
	b, err := os.ReadFile(matches[0])
	if err != nil {
		return "", nil, err
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		return "", nil, fmt.Errorf("the history ends in a torn line: %.80q", b[bytes.LastIndexByte(b, '\n')+1:])
	}
	var events []asl.Event
	for line := range bytes.Lines(b) {
		var e asl.Event
		if err := json.Unmarshal(line, &e); err != nil {
			return "", nil, fmt.Errorf("line %d: %v", len(events)+1, err)
		}
		events = append(events, e)
	}
	return matches[0], events, nil
}

// consecutive checks that events are numbered 1..n, as AWS numbers them.
func consecutive(t *testing.T, ids []int64) {
	t.Helper()
	for i, id := range ids {
		if id != int64(i+1) {
			t.Fatalf("event %d has id %d", i+1, id)
		}
	}
}

// A history is appended to the mount as the execution runs and read back
// from it, page by page in both orders, as it was recorded (the state data
// is on the mount, not in memory: TestPendingIsBounded).
func TestHistoryOnTheMount(t *testing.T) {
	e := newEnv(t, "", nil)
	def := `{"StartAt":"Count","States":{
		"Count":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)","n.$":"$.n","pad.$":"$.pad"},"Next":"Check"},
		"Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericEqualsPath":"$.n","Next":"Done"}],"Default":"Count"},
		"Done":{"Type":"Succeed"}}}`
	created := e.create(t, "pad", def)
	const iterations, pad = 60, 4 << 10
	in, _ := json.Marshal(map[string]any{"i": 0, "n": iterations, "pad": strings.Repeat("x", pad)})
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Input: aws.String(string(in))})
	if err != nil {
		t.Fatal(err)
	}
	if d := e.wait(t, *start.ExecutionArn); d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("%s %s", d.Status, aws.ToString(d.Cause))
	}
	// ExecutionStarted, 4 events an iteration, the Succeed state's 2 and
	// ExecutionSucceeded; DescribeExecution answers from memory, before
	// the last flush.
	want := 4*iterations + 4
	var onMount []asl.Event
	waitFor(t, func() bool {
		_, events, err := readHistoryLines(e.mountDir) // a flush may be under way
		onMount = events
		return err == nil && len(events) >= want
	})
	if len(onMount) != want {
		t.Fatalf("%d events on the mount, want %d", len(onMount), want)
	}
	var ids []int64
	for _, ev := range onMount {
		ids = append(ids, ev.ID)
	}
	consecutive(t, ids)
	forward := e.history(t, *start.ExecutionArn, 1000, false)
	reverse := e.history(t, *start.ExecutionArn, 7, true)
	slices.Reverse(reverse)
	for i, ev := range onMount {
		for _, got := range []types.HistoryEvent{forward[i], reverse[i]} {
			if got.Id != ev.ID || string(got.Type) != ev.Type || got.PreviousEventId != ev.PreviousEventID || !got.Timestamp.Equal(ev.Timestamp) {
				t.Fatalf("event %d: %d %s, on the mount %d %s", i+1, got.Id, got.Type, ev.ID, ev.Type)
			}
			if d := ev.StateEnteredEventDetails; d != nil && aws.ToString(got.StateEnteredEventDetails.Input) != d.Input {
				t.Fatalf("event %d: the input differs from the mount's", i+1)
			}
		}
	}
	if len(forward) != len(onMount) || len(reverse) != len(onMount) {
		t.Fatalf("%d and %d events through the API, %d on the mount", len(forward), len(reverse), len(onMount))
	}
}

// endedRun is a pipeline execution that succeeded: its description and
// history as the server answered them.
type endedRun struct {
	*sfn.DescribeExecutionOutput
	history []types.HistoryEvent
}

// ended runs the pipeline once on a server over mountDir, waits for its
// history on the mount to end, and closes the server.
func ended(t *testing.T, mountDir string) (*env, *sfn.StartExecutionOutput, endedRun) {
	t.Helper()
	e := newEnv(t, mountDir, nil)
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &e.pipeline, Name: aws.String("ended"), Input: input(t, writePDF(t, 3))})
	if err != nil {
		t.Fatal(err)
	}
	d := e.wait(t, *start.ExecutionArn)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("%s %s", d.Status, aws.ToString(d.Cause))
	}
	run := endedRun{d, e.history(t, *start.ExecutionArn, 0, false)}
	waitFor(t, func() bool { running, _ := sfnlocal.RunningJobs(e.mount); return len(running) == 0 })
	e.http.Close()
	e.srv.Close()
	return e, start, run
}

// A server killed while appending to a history leaves its last line torn:
// the next server cuts it, closes the execution as interrupted and can
// redrive it; gc counts the execution as running until then.
func TestTornHistory(t *testing.T) {
	mountDir := t.TempDir()
	e, start, _ := ended(t, mountDir)

	name, before := historyLines(t, mountDir)
	b, _ := os.ReadFile(name)
	cut := bytes.LastIndexByte(b[:len(b)-1], '\n') + 1
	last := b[cut:]
	// The last event, ExecutionSucceeded, half written, after a line
	// that is no event of this history.
	torn := append(append(b[:cut:cut], `{"id":1,"type":"ExecutionStarted"}`+"\n"...), last[:len(last)/2]...)
	if err := os.WriteFile(name, torn, 0o640); err != nil {
		t.Fatal(err)
	}
	if running, err := sfnlocal.RunningJobs(e.mount); err != nil || len(running) != 1 {
		t.Fatalf("a torn history counts as running: %v %v", running, err)
	}

	e2 := newEnv(t, mountDir, nil)
	d, err := e2.c.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: start.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.Runtime" || aws.ToString(d.Cause) != sfnlocal.InterruptedCause ||
		d.RedriveStatus != types.ExecutionRedriveStatusRedrivable {
		t.Fatalf("after restart: %s %s %q %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), d.RedriveStatus)
	}
	_, after := historyLines(t, mountDir)
	if len(after) != len(before) || after[len(after)-1].Type != "ExecutionFailed" {
		t.Fatalf("%d events after the cut, %d before it; the last %s", len(after), len(before), after[len(after)-1].Type)
	}
	if running, err := sfnlocal.RunningJobs(e2.mount); err != nil || len(running) != 0 {
		t.Fatalf("running after the restart closed it: %v %v", running, err)
	}
	if _, err := e2.c.RedriveExecution(t.Context(), &sfn.RedriveExecutionInput{ExecutionArn: start.ExecutionArn}); err != nil {
		t.Fatal(err)
	}
	d2 := e2.wait(t, *start.ExecutionArn)
	if d2.Status != types.ExecutionStatusSucceeded || aws.ToInt32(d2.RedriveCount) != 1 || d2.RedriveDate == nil {
		t.Fatalf("redrive: %s %s", d2.Status, aws.ToString(d2.Cause))
	}
	var ids []int64
	for _, ev := range e2.history(t, *start.ExecutionArn, 0, false) {
		ids = append(ids, ev.Id)
	}
	consecutive(t, ids)
	// The redrive's count and date are read back from the mount.
	e2.http.Close()
	e2.srv.Close()
	e3 := newEnv(t, mountDir, nil)
	d3, err := e3.c.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: start.ExecutionArn})
	if err != nil || d3.Status != types.ExecutionStatusSucceeded || aws.ToInt32(d3.RedriveCount) != 1 || d3.RedriveDate == nil {
		t.Fatalf("after a second restart: %+v %v", d3, err)
	}
	if !d3.RedriveDate.Equal(*d2.RedriveDate) {
		t.Fatalf("redrive date %v, was %v", d3.RedriveDate, d2.RedriveDate)
	}
}

// A mount written by a server before the append-only history (one JSON
// array per execution, history.json) is read as it was and converted.
func TestLegacyHistory(t *testing.T) {
	mountDir := t.TempDir()
	e, start, want := ended(t, mountDir)
	wantHistory := want.history

	name, events := historyLines(t, mountDir)
	old, _ := json.Marshal(events)
	legacy := filepath.Join(filepath.Dir(name), "history.json")
	if err := os.WriteFile(legacy, old, 0o640); err != nil {
		t.Fatal(err)
	}
	os.Remove(name)
	if running, err := sfnlocal.RunningJobs(e.mount); err != nil || len(running) != 0 {
		t.Fatalf("an ended legacy history counts as running: %v %v", running, err)
	}

	e2 := newEnv(t, mountDir, nil)
	got, err := e2.c.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: start.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != want.Status || aws.ToString(got.Output) != aws.ToString(want.Output) || !got.StopDate.Equal(*want.StopDate) {
		t.Fatalf("after conversion: %s %v, before %s %v", got.Status, got.StopDate, want.Status, want.StopDate)
	}
	gotHistory := e2.history(t, *start.ExecutionArn, 0, false)
	if len(gotHistory) != len(wantHistory) {
		t.Fatalf("%d events after conversion, %d before", len(gotHistory), len(wantHistory))
	}
	for i := range gotHistory {
		if gotHistory[i].Id != wantHistory[i].Id || gotHistory[i].Type != wantHistory[i].Type || !gotHistory[i].Timestamp.Equal(*wantHistory[i].Timestamp) {
			t.Fatalf("event %d: %d %s, before %d %s", i+1, gotHistory[i].Id, gotHistory[i].Type, wantHistory[i].Id, wantHistory[i].Type)
		}
	}
	if _, err := os.Stat(legacy); !os.IsNotExist(err) {
		t.Fatalf("the legacy file is still there: %v", err)
	}
	if _, converted := historyLines(t, mountDir); len(converted) != len(events) {
		t.Fatalf("%d events converted of %d", len(converted), len(events))
	}
}

// padLoop is a machine that waits once (Config.Sleep: a test holds the
// execution there), then carries $.pad through $.n iterations of a Pass
// and a Choice state: 4 events an iteration, each holding the pad.
const padLoop = `{"StartAt":"Hold","States":{
	"Hold":{"Type":"Wait","Seconds":1,"Next":"Count"},
	"Count":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)","n.$":"$.n","pad.$":"$.pad"},"Next":"Check"},
	"Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericGreaterThanEqualsPath":"$.n","Next":"Done"}],"Default":"Count"},
	"Done":{"Type":"Succeed"}}}`

// heldLoop starts padLoop on a server whose Wait states block until the
// returned function is called, and returns the execution's ARN and
// directory on the mount once it is held.
func heldLoop(t *testing.T, mountDir string, n, pad int, cfg func(*sfnlocal.Config)) (*env, string, string, func()) {
	t.Helper()
	held, release := make(chan struct{}, 1), make(chan struct{})
	e := newEnvWith(t, mountDir, nil, func(c *sfnlocal.Config) {
		c.Sleep = func(ctx context.Context, _ time.Duration) error {
			held <- struct{}{}
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if cfg != nil {
			cfg(c)
		}
	})
	created := e.create(t, "held", padLoop)
	in, _ := json.Marshal(map[string]any{"i": 0, "n": n, "pad": strings.Repeat("x", pad)})
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Input: aws.String(string(in))})
	if err != nil {
		t.Fatal(err)
	}
	<-held
	dirs, _ := filepath.Glob(filepath.Join(e.mountDir, "sfn", "executions", "*"))
	if len(dirs) != 1 {
		t.Fatalf("%d execution directories", len(dirs))
	}
	var once sync.Once
	return e, *start.ExecutionArn, dirs[0], func() { once.Do(func() { close(release) }) }
}

// An execution whose history cannot be written (here a directory stands
// where it goes; a full or read-only mount does the same) is failed once
// maxPending of its events wait in memory, naming the cause, instead of
// running on with its whole history in serve's memory: a 20 KB loop on a
// full 2 MiB tmpfs grew serve past 1 GB, logging a failed 4 MiB write
// for every event.
func TestHistoryNotWritable(t *testing.T) {
	// 50 iterations of 4 events of 200 KB: 40 MB, ten times maxPending.
	e, arn, dir, release := heldLoop(t, "", 50, 200<<10, func(c *sfnlocal.Config) { c.FlushInterval = time.Hour })
	if err := os.Mkdir(filepath.Join(dir, "history.jsonl"), 0o750); err != nil {
		t.Fatal(err)
	}
	release()
	d := e.wait(t, arn)
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.Runtime" ||
		!strings.Contains(aws.ToString(d.Cause), "history.jsonl") {
		t.Fatalf("%s %s %q", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	// What was recorded is still served, from memory.
	events := e.history(t, arn, 0, false)
	if last := events[len(events)-1]; last.Type != types.HistoryEventTypeExecutionFailed || last.ExecutionFailedEventDetails == nil ||
		aws.ToString(last.ExecutionFailedEventDetails.Cause) != aws.ToString(d.Cause) {
		t.Fatalf("the history ends in %s", last.Type)
	}
	if len(events) > 4*50/10+10 {
		t.Fatalf("%d events recorded after the history could not be written", len(events))
	}
}

// A history file removed while its execution runs is not silently begun
// again by the next flush, a file whose first event is not
// ExecutionStarted, read at the old file's offsets (events read from
// another event's bytes, or from nothing): the execution fails naming
// the file, and the next server closes it as interrupted, with a history
// of its own that a redrive runs to the end.
func TestHistoryRemoved(t *testing.T) {
	mountDir := t.TempDir()
	// 20 iterations of 4 events of 200 KB: flushed as they are recorded.
	e, arn, dir, release := heldLoop(t, mountDir, 20, 200<<10, nil)
	name := filepath.Join(dir, "history.jsonl")
	waitFor(t, func() bool { fi, err := os.Stat(name); return err == nil && fi.Size() > 0 })
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	release()
	d := e.wait(t, arn)
	if d.Status != types.ExecutionStatusFailed || !strings.Contains(aws.ToString(d.Cause), "history.jsonl") {
		t.Fatalf("%s %s %q", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	e.http.Close()
	e.srv.Close()

	e2 := newEnv(t, mountDir, nil)
	events := e2.history(t, arn, 0, false)
	var ids []int64
	for _, ev := range events {
		ids = append(ids, ev.Id)
	}
	consecutive(t, ids)
	if events[0].Type != types.HistoryEventTypeExecutionStarted || events[len(events)-1].Type != types.HistoryEventTypeExecutionFailed {
		t.Fatalf("after the restart the history runs from %s to %s", events[0].Type, events[len(events)-1].Type)
	}
	if _, err := e2.c.RedriveExecution(t.Context(), &sfn.RedriveExecutionInput{ExecutionArn: &arn}); err != nil {
		t.Fatal(err)
	}
	if d := e2.wait(t, arn); d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("redrive: %s %s", d.Status, aws.ToString(d.Cause))
	}
}

// BenchmarkLoad is the start of a server over a mount with 1,000 ended
// executions: what each restart of serve pays to read them back.
func BenchmarkLoad(b *testing.B) {
	m, err := jobfs.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	cfg := sfnlocal.Config{Mount: m, Pipeline: []byte(`{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"Q"},"Q":{"Type":"Pass","End":true}}}`),
		Invoke: func(context.Context, string, json.RawMessage) (json.RawMessage, error) { return nil, nil }}
	s, err := sfnlocal.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		arn, err := s.Start(s.MachineArn(sfnlocal.PipelineName), fmt.Sprint(i), `{}`)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Wait(b.Context(), arn); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	b.ReportAllocs()
	for b.Loop() {
		s, err := sfnlocal.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// A redrive reads its history from the mount as it replays it and keeps
// of it what it needs, the last state of each thread: a 20 KB loop
// redriven at 20,000 events grew serve from 40 MB to 1.2 GB when the
// history was read whole and every state's data kept. Here the test
// process's peak resident memory (VmHWM, reset through clear_refs) may
// grow by half the history's size while the redrive replays it.
func TestRedriveDoesNotHoldTheHistory(t *testing.T) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("the peak resident memory cannot be reset: %v", err)
	}
	held := make(chan struct{}, 1)
	e := newEnvWith(t, "", nil, func(c *sfnlocal.Config) {
		c.Sleep = func(ctx context.Context, _ time.Duration) error {
			held <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}
	})
	def := `{"StartAt":"Count","States":{
		"Count":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)","n.$":"$.n","pad.$":"$.pad"},"Next":"Check"},
		"Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericGreaterThanEqualsPath":"$.n","Next":"Hold"}],"Default":"Count"},
		"Hold":{"Type":"Wait","Seconds":1,"End":true}}}`
	created := e.create(t, "big", def)
	// 100 iterations of 4 events of pad bytes: 40 MB of history.
	const pad = 100 << 10
	const history = 100 * 4 * pad
	in, _ := json.Marshal(map[string]any{"i": 0, "n": 100, "pad": strings.Repeat("x", pad)})
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Input: aws.String(string(in))})
	if err != nil {
		t.Fatal(err)
	}
	<-held
	if _, err := e.c.StopExecution(t.Context(), &sfn.StopExecutionInput{ExecutionArn: start.ExecutionArn}); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	before := peakRSS(t, true)
	if _, err := e.c.RedriveExecution(t.Context(), &sfn.RedriveExecutionInput{ExecutionArn: start.ExecutionArn}); err != nil {
		t.Fatal(err)
	}
	<-held // the redrive replayed the history and reran Hold
	grown := peakRSS(t, false) - before
	t.Logf("peak resident memory +%d MB", grown>>20)
	if grown > history/2 {
		t.Errorf("the peak resident memory grew by %d MB while the redrive of a %d MB history replayed it", grown>>20, history>>20)
	}
	if _, err := e.c.StopExecution(t.Context(), &sfn.StopExecutionInput{ExecutionArn: start.ExecutionArn}); err != nil {
		t.Fatal(err)
	}
	last, err := e.c.GetExecutionHistory(t.Context(), &sfn.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn, MaxResults: 4, ReverseOrder: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := typesOf(last.Events); got[0] != "ExecutionAborted" || got[3] != "ExecutionRedriven" {
		t.Fatalf("the history ends %v", got)
	}
}

// peakRSS is the process's peak resident memory (bytes), reset first
// with reset (clear_refs 5: the peak becomes the current size).
func peakRSS(t *testing.T, reset bool) int {
	t.Helper()
	if reset {
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if kb, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(kb), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return n << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// A page of history holds at most a few MiB of events, whatever
// maxResults asks (AWS's maxResults is an upper limit): three pages of
// 1,000 events of 250 KB at once peaked serve at 2.6 GB. Paging in either
// order still reads every event once.
func TestHistoryPageIsBounded(t *testing.T) {
	e, arn, _, release := heldLoop(t, "", 10, 200<<10, nil)
	release()
	if d := e.wait(t, arn); d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("%s %s", d.Status, aws.ToString(d.Cause))
	}
	// 10 iterations of 4 events of 200 KB, and 6 more: 9 MB, where a
	// page of 4 MiB holds about 20.
	const n = 4*10 + 6
	for _, reverse := range []bool{false, true} {
		page, err := e.c.GetExecutionHistory(t.Context(), &sfn.GetExecutionHistoryInput{ExecutionArn: &arn, MaxResults: 1000, ReverseOrder: reverse})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) == 0 || len(page.Events) >= n/2 || page.NextToken == nil {
			t.Fatalf("reverse %v: a page of %d events of 200 KB", reverse, len(page.Events))
		}
		var ids []int64
		for _, ev := range e.history(t, arn, 1000, reverse) {
			ids = append(ids, ev.Id)
		}
		if reverse {
			slices.Reverse(ids)
		}
		if len(ids) != n {
			t.Fatalf("reverse %v: %d events, want %d", reverse, len(ids), n)
		}
		consecutive(t, ids)
	}
}

// A bad line in the middle of a history (or two events swapped) is not a
// crash's torn write, which can only be the last line. It is left as it is: the next server
// starts (load decodes the last line only), the execution is as its last
// event says, and reading its history fails at the bad event, naming the
// file; cutting there would drop every event after it (a corrupt fourth
// line once cut a succeeded execution to its first three events and closed
// it as interrupted).
func TestCorruptHistory(t *testing.T) {
	mountDir := t.TempDir()
	e, arn, _, release := heldLoop(t, mountDir, 5, 10, nil)
	release()
	if d := e.wait(t, arn); d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("%s %s", d.Status, aws.ToString(d.Cause))
	}
	e.http.Close()
	e.srv.Close()
	name, _ := historyLines(t, mountDir)
	b, _ := os.ReadFile(name)
	lines := bytes.SplitAfter(b, []byte("\n"))
	lines[3] = append([]byte("{not an event"), lines[3][13:]...)
	// And two events swapped, which decode but are out of place.
	lines[1], lines[2] = lines[2], lines[1]
	corrupt := bytes.Join(lines, nil)
	if err := os.WriteFile(name, corrupt, 0o640); err != nil {
		t.Fatal(err)
	}

	e2 := newEnv(t, mountDir, nil)
	if d, err := e2.c.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: &arn}); err != nil || d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("after the restart: %+v %v", d, err)
	}
	first, err := e2.c.GetExecutionHistory(t.Context(), &sfn.GetExecutionHistoryInput{ExecutionArn: &arn, MaxResults: 1})
	if err != nil || len(first.Events) != 1 {
		t.Fatalf("the first event, before the damage: %v", err)
	}
	_, err = e2.c.GetExecutionHistory(t.Context(), &sfn.GetExecutionHistoryInput{ExecutionArn: &arn, MaxResults: 1, NextToken: first.NextToken})
	if err == nil || !strings.Contains(err.Error(), "history.jsonl: event 2 has id 3") {
		t.Fatalf("a history with two events swapped was served: %v", err)
	}
	_, err = e2.c.GetExecutionHistory(t.Context(), &sfn.GetExecutionHistoryInput{ExecutionArn: &arn, MaxResults: 2, ReverseOrder: true})
	if err != nil {
		t.Fatalf("the last events, after the damage: %v", err)
	}
	_, err = e2.c.GetExecutionHistory(t.Context(), &sfn.GetExecutionHistoryInput{ExecutionArn: &arn, MaxResults: 1, NextToken: aws.String("efspipe-3")})
	if err == nil || !strings.Contains(err.Error(), "history.jsonl: event 4") {
		t.Fatalf("a history with a corrupt fourth line was served: %v", err)
	}
	if after, _ := os.ReadFile(name); !bytes.Equal(after, corrupt) {
		t.Fatalf("the history was cut to %d bytes of %d", len(after), len(corrupt))
	}
}

// RedriveExecution refuses, with an error, an execution whose history
// file was removed since it ended: the redrive replays the file in the
// background, where its failure left the execution as it was while the
// call had answered that it was redriven.
func TestRedriveRemovedHistory(t *testing.T) {
	e, arn, dir, _ := heldLoop(t, "", 5, 10, nil)
	if _, err := e.c.StopExecution(t.Context(), &sfn.StopExecutionInput{ExecutionArn: &arn}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "history.jsonl")); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.RedriveExecution(t.Context(), &sfn.RedriveExecutionInput{ExecutionArn: &arn}, func(o *sfn.Options) { o.RetryMaxAttempts = 1 })
	if err == nil || !strings.Contains(err.Error(), "history.jsonl") {
		t.Fatalf("redrive of an execution whose history was removed: %v", err)
	}
	if d := e.wait(t, arn); d.Status != types.ExecutionStatusAborted || aws.ToInt32(d.RedriveCount) != 0 {
		t.Fatalf("%s, redriven %d times", d.Status, aws.ToInt32(d.RedriveCount))
	}
}

// A redrive whose history fails to decode once RedriveExecution has
// answered (the call checks only that the file is there and whole; the
// replay reads it in the background) leaves the execution as it was, and
// says why in serve's log: it used to fail without a word.
func TestRedriveFailureIsLogged(t *testing.T) {
	var log pipetest.Buffer
	e, arn, dir, _ := heldLoop(t, "", 5, 10, func(c *sfnlocal.Config) { c.Log = slog.New(slog.NewTextHandler(&log, nil)) })
	if _, err := e.c.StopExecution(t.Context(), &sfn.StopExecutionInput{ExecutionArn: &arn}); err != nil {
		t.Fatal(err)
	}
	e.wait(t, arn)
	name := filepath.Join(dir, "history.jsonl")
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	// The third line's first bytes, so that its size, and the file's, stay.
	lines := bytes.SplitAfter(b, []byte("\n"))
	copy(lines[2], "{not an event")
	if err := os.WriteFile(name, bytes.Join(lines, nil), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.RedriveExecution(t.Context(), &sfn.RedriveExecutionInput{ExecutionArn: &arn}); err != nil {
		t.Fatal(err)
	}
	if d := e.wait(t, arn); d.Status != types.ExecutionStatusAborted || aws.ToInt32(d.RedriveCount) != 0 {
		t.Fatalf("%s, redriven %d times", d.Status, aws.ToInt32(d.RedriveCount))
	}
	if got := log.String(); !strings.Contains(got, "redrive failed before it started") || !strings.Contains(got, "history.jsonl: event 3") {
		t.Fatalf("serve's log: %s", got)
	}
}

// Reverse-order pages of an execution that records between two calls
// follow on from each other: the token counts from the oldest event, so
// the events recorded since the first page do not shift the second (a
// token counted from the newest gave the second page's events again).
func TestReversePagesOfARunningExecution(t *testing.T) {
	e, arn, _, release := heldLoop(t, "", 5, 10, nil)
	// Held in its first Wait: two events, the first page the newer.
	first, err := e.c.GetExecutionHistory(t.Context(), &sfn.GetExecutionHistoryInput{ExecutionArn: &arn, MaxResults: 1, ReverseOrder: true})
	if err != nil || len(first.Events) != 1 || first.NextToken == nil {
		t.Fatalf("the first page: %v", err)
	}
	release()
	if d := e.wait(t, arn); d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("%s %s", d.Status, aws.ToString(d.Cause))
	}
	var ids []int64
	for _, ev := range first.Events {
		ids = append(ids, ev.Id)
	}
	p := sfn.NewGetExecutionHistoryPaginator(e.c, &sfn.GetExecutionHistoryInput{ExecutionArn: &arn, MaxResults: 1, ReverseOrder: true, NextToken: first.NextToken})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			ids = append(ids, ev.Id)
		}
	}
	for i, id := range ids {
		if want := ids[0] - int64(i); id != want {
			t.Fatalf("event ids across the pages %v: %d where %d follows", ids, id, want)
		}
	}
	if ids[0] != 2 || ids[len(ids)-1] != 1 {
		t.Fatalf("the pages end at event %d: %v", ids[len(ids)-1], ids)
	}
}
