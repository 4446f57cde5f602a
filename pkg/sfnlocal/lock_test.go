package sfnlocal_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"golang.org/x/sys/unix"

	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/sfnlocal"
)

// Two executions with different names on the same PDF: the second waits
// for the first's lock instead of running beside it (the first's finalize
// would remove the intermediates it uses), then finds the work done; both
// succeed with the same published job. A redrive of a finished execution's
// job takes the same lock.
func TestTwoExecutionsOfOneJob(t *testing.T) {
	g := newGate()
	e := newEnv(t, "", g.hook)
	src := writePDF(t, 6)
	first, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &e.pipeline, Name: aws.String("first"), Input: input(t, src)})
	if err != nil {
		t.Fatal(err)
	}
	<-g.entered // the first is inside compress, its job locked
	second, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &e.pipeline, Name: aws.String("second"), Input: input(t, src)})
	if err != nil {
		t.Fatal(err)
	}
	// The second waits for the lock: RUNNING, and no stage called.
	waitFor(t, func() bool {
		d, err := e.c.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: second.ExecutionArn})
		return err == nil && d.Status == types.ExecutionStatusRunning
	})
	for _, ev := range e.history(t, *second.ExecutionArn, 0, false) {
		if ev.Type == types.HistoryEventTypeLambdaFunctionScheduled {
			t.Fatalf("the second execution called a stage while the first held the job: %s", ev.Type)
		}
	}
	close(g.open)
	a, b := e.wait(t, *first.ExecutionArn), e.wait(t, *second.ExecutionArn)
	if a.Status != types.ExecutionStatusSucceeded || b.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("first %s (%s), second %s (%s: %s)", a.Status, aws.ToString(a.Cause), b.Status, aws.ToString(b.Error), aws.ToString(b.Cause))
	}
	var ra, rb local.Result
	json.Unmarshal([]byte(*a.Output), &ra)
	json.Unmarshal([]byte(*b.Output), &rb)
	if ra.Job == "" || ra.Job != rb.Job || ra.Manifest != rb.Manifest {
		t.Fatalf("outputs differ: %+v %+v", ra, rb)
	}
	pipetest.Verify(t, e.out, ra.Job, false)
	// The executions record the job they locked: gc leaves it alone while
	// one of them runs, and no longer once both histories on the mount
	// end (DescribeExecution answers from memory, before the last flush).
	waitFor(t, func() bool {
		running, err := sfnlocal.RunningJobs(e.mount)
		if err != nil {
			t.Fatal(err)
		}
		return len(running) == 0
	})
}

// gc during an execution leaves its job alone: the execution holds the
// job's lock from its first state to its last, and a job whose execution
// has not ended is skipped even when nothing holds the lock at that
// instant (between two states, or left by a server that died).
func TestGCDuringExecution(t *testing.T) {
	g := newGate()
	e := newEnv(t, "", g.hook)
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &e.pipeline, Name: aws.String("busy"), Input: input(t, writePDF(t, 6))})
	if err != nil {
		t.Fatal(err)
	}
	<-g.entered
	running, err := sfnlocal.RunningJobs(e.mount)
	if err != nil || len(running) != 1 {
		t.Fatalf("running jobs: %v %v", running, err)
	}
	var job string
	for j := range running {
		job = j
	}
	split := filepath.Join("jobs", job, "split")
	// gc as another process would run it: its own mount, nothing running
	// known to it (the lock alone protects the job), then with the
	// running executions (what `efspipe gc` passes).
	other, err := jobfs.Open(e.mountDir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, opts := range []local.GCOptions{{}, {Running: running}} {
		got, err := local.GC(other, opts)
		if err != nil || len(got) != 0 || !e.mount.Exists(split) {
			t.Fatalf("gc during the execution: collected %+v, %v; split/ still there: %v", got, err, e.mount.Exists(split))
		}
	}
	close(g.open)
	if d := e.wait(t, *start.ExecutionArn); d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("%s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
}

// TestOneServerPerMount: a second server on a mount a server uses is
// refused (pipeerr.Busy), where it closed the first's running execution
// as interrupted by a restart, appending ExecutionFailed to the history
// the first server still appended to. Once the first is closed, the next
// server starts.
func TestOneServerPerMount(t *testing.T) {
	g := newGate()
	mountDir := t.TempDir()
	e := newEnv(t, mountDir, g.hook)
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &e.pipeline, Input: input(t, writePDF(t, 2))})
	if err != nil {
		t.Fatal(err)
	}
	<-g.entered
	// A second process's mount: its own handle on the same directory.
	m, err := jobfs.Open(mountDir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cfg := sfnlocal.Config{Mount: m, Invoke: func(context.Context, string, json.RawMessage) (json.RawMessage, error) { return nil, nil }}
	if s, err := sfnlocal.New(cfg); pipeerr.KindOf(err) != pipeerr.Busy {
		if err == nil {
			s.Close()
		}
		t.Fatalf("a second server on the mount: %v, want a Busy error", err)
	}
	if h := readHistory(t, mountDir); strings.Contains(h, "ExecutionFailed") {
		t.Fatalf("the running execution's history was ended by the second server:\n%s", h)
	}
	close(g.open)
	if d := e.wait(t, *start.ExecutionArn); d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("%s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	e.http.Close()
	e.srv.Close()
	s, err := sfnlocal.New(cfg)
	if err != nil {
		t.Fatalf("a server after the first closed: %v", err)
	}
	s.Close()
}

// TestReadOnlyMount: a server on a mount it cannot write to (here a
// read-only bind mount of one a server left) serves the executions on
// it, without the server lock it cannot create, as it did before there
// was one.
func TestReadOnlyMount(t *testing.T) {
	mountDir := t.TempDir()
	e := newEnv(t, mountDir, nil)
	created := e.create(t, "pass", passDefinition("x"))
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn})
	if err != nil {
		t.Fatal(err)
	}
	e.wait(t, *start.ExecutionArn)
	e.http.Close()
	e.srv.Close()
	// A mount with no lock file yet, as one from before the lock.
	if err := os.Remove(filepath.Join(mountDir, "sfn", "server.lock")); err != nil {
		t.Fatal(err)
	}
	ro := t.TempDir()
	if err := unix.Mount(mountDir, ro, "", unix.MS_BIND, ""); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("bind mount: %v", err)
		}
		t.Skipf("a bind mount needs root here: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(ro, 0) })
	if err := unix.Mount("", ro, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	m, err := jobfs.Open(ro)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := sfnlocal.New(sfnlocal.Config{Mount: m, Invoke: func(context.Context, string, json.RawMessage) (json.RawMessage, error) { return nil, nil }})
	if err != nil {
		t.Fatalf("a server on a read-only mount: %v", err)
	}
	defer s.Close()
	if x, err := s.Describe(*start.ExecutionArn); err != nil || x.Status != "SUCCEEDED" {
		t.Fatalf("%+v %v", x, err)
	}
}
