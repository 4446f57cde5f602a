package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/efspipe/efspipe/internal/awstest"
	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/internal/testenv"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/local"
)

// binary is efspipe built once for the tests that need a real process.
var binary string

func TestMain(m *testing.M) {
	if os.Getenv(signalChildEnv) != "" {
		signalChild()
		return
	}
	if os.Getenv(jsonataWorkerEnv) != "" {
		// A JSONata worker of a serve these tests run in process.
		os.Exit(runJSONataWorker())
	}
	dir, err := os.MkdirTemp("", "efspipe-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "efspipe")
	if out, err := testenv.GoBuild(binary, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	_, err = os.Stat("out")
	hadOut := err == nil
	code := m.Run()
	os.RemoveAll(dir)
	// The package directory is the tests' working directory: a command
	// run without --out publishes into ./out there, which a test must not
	// leave behind (serve started without --out did).
	if _, err := os.Stat("out"); err == nil && !hadOut && code == 0 {
		fmt.Fprintln(os.Stderr, "a test left ./out in the package directory: pass --out t.TempDir()")
		code = 1
	}
	os.Exit(code)
}

type result struct {
	Job, Status, Manifest, Error, Cause string
	Pages                               int
}

func run(t *testing.T, args ...string) (result, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(t.Context(), args, &stdout, &stderr)
	var r result
	if strings.Contains(strings.Join(args, " "), "--json") && stdout.Len() > 0 {
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("--json output %q: %v", stdout.String(), err)
		}
	}
	return r, stderr.String(), code
}

func writeDoc(t *testing.T, pages int) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(f, pdftest.Doc(pages, pdftest.DocOptions{FontBytes: 64 << 10}), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRunJSONContract(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	src := writeDoc(t, 4)
	r, stderr, code := run(t, "run", "--mount", mount, "--out", out, "--json", src)
	if code != 0 || r.Status != "SUCCEEDED" || r.Job == "" || r.Manifest != filepath.Join(out, r.Job, "manifest.json") {
		t.Fatalf("exit %d, %+v, stderr %s", code, r, stderr)
	}
	pipetest.Verify(t, out, r.Job, true)
	// The same file again is the same job, and free.
	r2, _, code := run(t, "run", "--mount", mount, "--out", out, "--json", src)
	if code != 0 || r2.Job != r.Job || r2.Manifest != r.Manifest {
		t.Fatalf("second run: exit %d, %+v", code, r2)
	}
}

func TestBundledSample(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	r, stderr, code := run(t, "run", "--mount", mount, "--out", out, "--json")
	if code != 0 || r.Status != "SUCCEEDED" || r.Pages != 12 {
		t.Fatalf("exit %d, %+v, %s", code, r, stderr)
	}
	pipetest.Verify(t, out, r.Job, true)
	// The manifest names the sample as sample.pdf, whatever temp file it
	// was read from: the same bytes on every machine.
	b, err := os.ReadFile(filepath.Join(out, r.Job, "manifest.json"))
	if err != nil || !strings.Contains(string(b), `"name": "sample.pdf"`) {
		t.Errorf("manifest %s (%v): want the source named sample.pdf", b, err)
	}
}

func TestBadInputOneLine(t *testing.T) {
	src := filepath.Join(t.TempDir(), "notes.pdf")
	os.WriteFile(src, []byte("just some text\n"), 0o644)
	out := t.TempDir()
	_, stderr, code := run(t, "run", "--mount", t.TempDir(), "--out", out, src)
	if code != 1 || stderr != "efspipe: notes.pdf: not a PDF: notes.pdf has no %PDF- header and no objects\n" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("want one line, got %q", stderr)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Fatal("a failed job published something")
	}
	if _, _, code := run(t, "run", "--bogus"); code != 2 {
		t.Fatalf("usage error exit %d", code)
	}
}

// A second run of a job that is being processed says so and changes nothing.
func TestConcurrentRunIsRefused(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	src := writeDoc(t, 3)
	var stdout bytes.Buffer
	code := Main(t.Context(), []string{"run", "--mount", mount, "--out", out, "--json", src}, &stdout, &bytes.Buffer{})
	if code != 0 {
		t.Fatal("first run failed")
	}
	var r result
	json.Unmarshal(stdout.Bytes(), &r)
	m, _ := jobfs.Open(mount)
	defer m.Close()
	job, _ := jobfs.NewJob(r.Job)
	unlock, err := m.Lock(job)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, stderr, code := run(t, "replay", "--no-wait", "--mount", mount, "--out", out, r.Job)
	if code != 1 || !strings.Contains(stderr, "is being processed") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// Without --no-wait, a run of a job another engine holds waits for it and
// then finds the work done: both succeed. Interrupted while it waits
// (Ctrl-C), it says so, and with --json still prints its status.
func TestConcurrentRunWaits(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	src := writeDoc(t, 3)
	first, _, code := run(t, "run", "--mount", mount, "--out", out, "--json", src)
	if code != 0 {
		t.Fatal("first run failed")
	}
	m, _ := jobfs.Open(mount)
	defer m.Close()
	job, _ := jobfs.NewJob(first.Job)
	unlock, err := m.Lock(job)
	if err != nil {
		t.Fatal(err)
	}
	// A real process, since the lock is what other processes see.
	var stdout, stderr pipetest.Buffer
	cmd := exec.Command(binary, "run", "--mount", mount, "--out", out, src)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the waiting line", func() bool { return strings.Contains(stderr.String(), "is being processed by another run; waiting") })
	unlock()
	if err := cmd.Wait(); err != nil || !strings.Contains(stdout.String(), "manifest: ") {
		t.Fatalf("waiting run: %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}

	// Interrupted while waiting.
	if unlock, err = m.Lock(job); err != nil {
		t.Fatal(err)
	}
	defer unlock()
	for _, asJSON := range []bool{false, true} {
		args := []string{"run", "--mount", mount, "--out", out}
		if asJSON {
			args = append(args, "--json")
		}
		args = append(args, src)
		var stdout, stderr pipetest.Buffer
		cmd := exec.Command(binary, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the run to wait", func() bool { return strings.Contains(stderr.String(), "waiting") })
		cmd.Process.Signal(os.Interrupt)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Fatalf("interrupted run: %v, stderr %q", err, stderr.String())
		}
		if want := "efspipe: interrupted; resume with `efspipe replay " + first.Job + "`\n"; stderr.String() != want && !strings.HasSuffix(stderr.String(), want) {
			t.Errorf("stderr %q, want %q", stderr.String(), want)
		}
		if asJSON {
			var r result
			if err := json.Unmarshal([]byte(stdout.String()), &r); err != nil || r.Status != "INTERRUPTED" || r.Job != first.Job {
				t.Errorf("--json printed %q (%v)", stdout.String(), err)
			}
		}
	}
}

// Corrupt intermediates between runs: status reports them, replay redoes
// exactly those units, and the output is byte-identical.
func TestCorruptedIntermediateIsRedone(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	src := writeDoc(t, 12)
	r, _, code := run(t, "run", "--mount", mount, "--out", out, "--json", "--keep", "--shard-pages", "4", src)
	if code != 0 {
		t.Fatal("run failed")
	}
	want := pipetest.Tree(t, out)
	os.RemoveAll(filepath.Join(out, r.Job))
	os.Remove(filepath.Join(mount, "jobs", r.Job, "status.json"))
	// A damaged split shard whose compressed output is gone (a kill between
	// the two), and a damaged compressed shard. (A damaged split shard whose
	// compressed output still verifies is not needed, and is not redone.)
	for _, f := range []string{"split/shard-0001.pages", "zst/shard-0002.zst"} {
		pipetest.FlipFile(t, filepath.Join(mount, "jobs", r.Job, f))
	}
	os.Remove(filepath.Join(mount, "jobs", r.Job, "zst", "shard-0001.zst"))
	var stdout bytes.Buffer
	if Main(t.Context(), []string{"status", "--mount", mount, "--json", r.Job}, &stdout, &bytes.Buffer{}) != 0 {
		t.Fatal("status failed")
	}
	var rep local.Report
	json.Unmarshal(stdout.Bytes(), &rep)
	invalid := map[string]int{}
	for _, s := range rep.Stages {
		invalid[s.Stage] = s.Invalid
	}
	if invalid["split"] != 1 || invalid["compress"] != 2 {
		t.Fatalf("status: %+v", rep.Stages)
	}
	if _, stderr, code := run(t, "replay", "--mount", mount, "--out", out, "--json", "--keep", r.Job); code != 0 {
		t.Fatalf("replay: %s", stderr)
	}
	pipetest.SameTree(t, want, pipetest.Tree(t, out))
	stdout.Reset()
	Main(t.Context(), []string{"status", "--mount", mount, "--json", r.Job}, &stdout, &bytes.Buffer{})
	rep = local.Report{}
	json.Unmarshal(stdout.Bytes(), &rep)
	for _, s := range rep.Stages {
		if s.Invalid != 0 || s.Done != s.Units {
			t.Errorf("after replay, %s: %d/%d verified, %d invalid", s.Stage, s.Done, s.Units, s.Invalid)
		}
	}
}

// TestKillAnywhere kills a real `efspipe run` with SIGKILL at many points —
// after each checkpoint record appears: inside ingest, split (per shard),
// the compress Map (per shard), checkpoint and finalize — then replays, and
// requires the published tree to equal an uninterrupted run's, and never to
// show a manifest naming a missing page in between.
func TestKillAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("kills many processes")
	}
	src := writeDoc(t, 48)
	args := []string{"--shard-pages", "4"}
	cleanOut := t.TempDir()
	r, stderr, code := run(t, append([]string{"run", "--mount", t.TempDir(), "--out", cleanOut, "--json"}, append(args, src)...)...)
	if code != 0 {
		t.Fatalf("clean run: %s", stderr)
	}
	want := pipetest.Tree(t, cleanOut)
	// ingest + objects + dictionary + plan + 12 split + 12 compress +
	// sealed + published (the per-shard publication records come on top)
	const records = 4 + 12 + 12 + 2
	killed := 0
	for k := 0; k < records; k++ {
		mount, out := t.TempDir(), t.TempDir()
		cmd := exec.Command(binary, append([]string{"run", "--mount", mount, "--out", out}, append(args, src)...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ckpt := filepath.Join(mount, "jobs", r.Job, "ckpt")
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		exited := false
	poll:
		for {
			select {
			case <-done:
				exited = true
				break poll
			default:
			}
			if ents, _ := os.ReadDir(ckpt); countRecords(ents) > k {
				cmd.Process.Signal(syscall.SIGKILL)
				<-done
				break poll
			}
			time.Sleep(200 * time.Microsecond)
		}
		if !exited {
			killed++
		}
		// A reader never sees a manifest naming missing pages.
		if _, err := os.Stat(filepath.Join(out, r.Job, "manifest.json")); err == nil {
			pipetest.Verify(t, out, r.Job, false)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		var so, se bytes.Buffer
		code := Main(ctx, []string{"replay", "--mount", mount, "--out", out, r.Job}, &so, &se)
		cancel()
		if code != 0 {
			t.Fatalf("kill after %d records: replay exit %d: %s", k, code, se.String())
		}
		pipetest.SameTree(t, want, pipetest.Tree(t, out))
	}
	t.Logf("%d kill points, %d runs killed before finishing", records, killed)
	if killed < records/2 {
		t.Errorf("only %d of %d runs were killed mid-way; the test is not testing", killed, records)
	}
}

func countRecords(ents []os.DirEntry) int {
	n := 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}

func TestGC(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	src := writeDoc(t, 6)
	r, _, code := run(t, "run", "--mount", mount, "--out", out, "--json", "--keep", src)
	if code != 0 {
		t.Fatal("run failed")
	}
	split := filepath.Join(mount, "jobs", r.Job, "split")
	if _, err := os.Stat(split); err != nil {
		t.Fatal("--keep removed intermediates")
	}
	var so bytes.Buffer
	Main(t.Context(), []string{"gc", "--mount", mount, "--older-than", "1h"}, &so, &bytes.Buffer{})
	if _, err := os.Stat(split); err != nil {
		t.Fatal("gc removed a fresh job's intermediates")
	}
	// What writers killed between create and rename leave (the source's
	// copy, a record, the settings): gone once older than any stage call
	// can run (15 minutes), kept while a writer may still be at it.
	dir := filepath.Join(mount, "jobs", r.Job)
	old := []string{".source.pdf.tmp-0123456789ab", "ckpt/.split-0000.json.tmp-a1b2c3d4e5f6", ".job.json.tmp-00000000000f"}
	for _, name := range old {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("half written"), 0o640)
		hourAgo := time.Now().Add(-time.Hour)
		os.Chtimes(p, hourAgo, hourAgo)
	}
	fresh := filepath.Join(dir, "ckpt", ".compress-0000.json.tmp-fedcba987654")
	os.WriteFile(fresh, []byte("being written"), 0o640)
	lookalike := filepath.Join(dir, ".notes.tmp-by-hand")
	os.WriteFile(lookalike, []byte("not ours"), 0o640)
	Main(t.Context(), []string{"gc", "--mount", mount, "--older-than", "0s"}, &so, &bytes.Buffer{})
	if _, err := os.Stat(split); err == nil {
		t.Fatalf("gc left intermediates: %s", so.String())
	}
	if _, err := os.Stat(filepath.Join(mount, "jobs", r.Job, "source.pdf")); err != nil {
		t.Fatal("gc removed the source without --all")
	}
	for _, name := range old {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("gc left the orphaned %s", name)
		}
	}
	for _, p := range []string{fresh, lookalike} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("gc removed %s", p)
		}
	}
	pipetest.Verify(t, out, r.Job, false)
}

// gc --json prints a JSON array: [] when nothing was collected.
func TestGCJSON(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	// Days are a length gc takes, as people give retention in them.
	for _, older := range []string{"0s", "1h", "3d"} {
		if stdout, stderr, code := cli(t, "gc", "--json", "--mount", mount, "--older-than", older); code != 0 || stdout != "[]\n" {
			t.Fatalf("gc of an empty mount: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	}
	r, _, code := run(t, "run", "--mount", mount, "--out", out, "--json", "--keep", writeDoc(t, 2))
	if code != 0 {
		t.Fatal("run failed")
	}
	for _, older := range []string{"1h", "1d"} {
		if stdout, stderr, code := cli(t, "gc", "--json", "--mount", mount, "--older-than", older); code != 0 || stdout != "[]\n" {
			t.Fatalf("gc --older-than %s of a fresh job: exit %d, stdout %q, stderr %q", older, code, stdout, stderr)
		}
	}
	var got []map[string]any
	cliJSON(t, &got, "gc", "--mount", mount, "--older-than", "0s")
	if len(got) != 1 || got[0]["job"] != r.Job || got[0]["status"] != "SUCCEEDED" {
		t.Fatalf("gc --json: %v", got)
	}
}

// A run that failed on a stage error is redriven by replay: the failed
// state reruns, succeeded Map iterations are reused.
func TestReplayRedrivesFailedExecution(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	src := writeDoc(t, 8)
	r, _, code := run(t, "run", "--mount", mount, "--out", out, "--json", "--keep", "--shard-pages", "2", src)
	if code != 0 {
		t.Fatal("run failed")
	}
	want := pipetest.Tree(t, out)
	// Make the recorded execution a failed one, as a crash inside finalize
	// would leave it: drop the publication and the end of the history.
	hist := filepath.Join(mount, "jobs", r.Job, "execution.json")
	b, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	var events []map[string]any
	json.Unmarshal(b, &events)
	cut := -1
	for i, ev := range events {
		if ev["type"] == "LambdaFunctionScheduled" {
			if d, _ := ev["lambdaFunctionScheduledEventDetails"].(map[string]any); d != nil && strings.Contains(d["resource"].(string), "finalize") {
				cut = i + 1
			}
		}
	}
	if cut < 0 {
		t.Fatal("no finalize in the history")
	}
	events = append(events[:cut], map[string]any{
		"type": "LambdaFunctionFailed", "id": float64(cut + 1), "previousEventId": float64(cut), "timestamp": 1.7e9,
		"lambdaFunctionFailedEventDetails": map[string]any{"error": "Internal", "cause": "injected"},
	}, map[string]any{
		"type": "ExecutionFailed", "id": float64(cut + 2), "previousEventId": float64(cut + 1), "timestamp": 1.7e9,
		"executionFailedEventDetails": map[string]any{"error": "Internal", "cause": "injected"},
	})
	b, _ = json.Marshal(events)
	os.WriteFile(hist, b, 0o640)
	os.RemoveAll(filepath.Join(out, r.Job))
	os.Remove(filepath.Join(mount, "jobs", r.Job, "status.json"))

	_, stderr, code := run(t, "replay", "--mount", mount, "--out", out, r.Job)
	if code != 0 || !strings.Contains(stderr, "redrove") {
		t.Fatalf("replay exit %d: %q", code, stderr)
	}
	pipetest.SameTree(t, want, pipetest.Tree(t, out))
	b, _ = os.ReadFile(hist)
	if !strings.Contains(string(b), "ExecutionRedriven") {
		t.Fatal("the history does not record the redrive")
	}
}

// Ctrl-C in the middle of a run: the run stops, says how to resume, and
// the replay it names finishes the job.
func TestInterruptMidRun(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	src := writeDoc(t, 48)
	var stdout, stderr pipetest.Buffer
	cmd := exec.Command(binary, "run", "--mount", mount, "--out", out, "--json", "--shard-pages", "1", src)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the ingest record", func() bool {
		ents, _ := os.ReadDir(filepath.Join(mount, "jobs"))
		for _, e := range ents {
			if _, err := os.Stat(filepath.Join(mount, "jobs", e.Name(), "ckpt", "ingest.json")); err == nil {
				return true
			}
		}
		return false
	})
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("interrupted run: %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
	var r result
	if err := json.Unmarshal([]byte(stdout.String()), &r); err != nil || r.Status != "INTERRUPTED" || r.Job == "" {
		t.Fatalf("--json printed %q (%v)", stdout.String(), err)
	}
	if want := "efspipe: interrupted; resume with `efspipe replay " + r.Job + "`\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
	if _, se, code := run(t, "replay", "--mount", mount, "--out", out, r.Job); code != 0 {
		t.Fatalf("replay: exit %d: %s", code, se)
	}
	pipetest.Verify(t, out, r.Job, false)
}

const signalChildEnv = "EFSPIPE_TEST_SIGNAL_CHILD"

// signalChild is the process TestSecondSignalEndsTheProcess signals: it
// takes signals as main does, reports when its context is cancelled, and
// then blocks for good, as a stage stuck in a system call would.
func signalChild() {
	ctx, _ := signalContext()
	fmt.Println("ready")
	<-ctx.Done()
	fmt.Println("cancelled")
	select {}
}

// startSignalChild starts signalChild and waits for its "ready". A child
// that never ends is killed after a minute, which fails the test instead
// of hanging it.
func startSignalChild(t *testing.T) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), signalChildEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	t.Cleanup(func() { timer.Stop() })
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child printed %q, want ready", lines.Text())
	}
	return cmd, lines
}

// endedBy waits for cmd and returns the signal that ended it, 0 if none.
func endedBy(cmd *exec.Cmd) (syscall.Signal, error) {
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal(), err
	}
	return 0, err
}

// The first SIGINT cancels the command's context; a second one ends the
// process even when nothing will ever look at that context.
func TestSecondSignalEndsTheProcess(t *testing.T) {
	cmd, lines := startSignalChild(t)
	cmd.Process.Signal(os.Interrupt)
	if !lines.Scan() || lines.Text() != "cancelled" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child printed %q, want cancelled", lines.Text())
	}
	cmd.Process.Signal(os.Interrupt)
	if sig, err := endedBy(cmd); sig != syscall.SIGINT {
		t.Fatalf("after a second SIGINT the child ended with %v, want killed by SIGINT", err)
	}
}

// A second signal that comes before the first is handled (a SIGTERM and
// a SIGINT sent together) ends the process too: it used to be dropped, and
// the process went on as if signalled once. Whether the two arrive before
// the handler runs is up to the scheduler; either way the child must end
// by a signal, never stay blocked.
func TestTwoSignalsAtOnceEndTheProcess(t *testing.T) {
	for range 10 {
		cmd, _ := startSignalChild(t)
		syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		syscall.Kill(cmd.Process.Pid, syscall.SIGINT)
		// Pending together, the kernel delivers SIGINT first: the child
		// ends by whichever of the two comes second.
		if sig, err := endedBy(cmd); sig != syscall.SIGINT && sig != syscall.SIGTERM {
			t.Fatalf("after a SIGTERM and a SIGINT sent together the child ended with %v, want killed by one of them", err)
		}
	}
}

// replay trusts the job's copy of its source only as far as the ingest
// record vouches for it: a copy with one byte changed, or replaced by a
// symlink out of the mount, is re-ingested from the original while that
// still has the recorded content, and otherwise the replay fails saying
// why; never is another file published, as this job or as another.
func TestReplayTamperedSource(t *testing.T) {
	outsider := filepath.Join(t.TempDir(), "other.pdf")
	if err := os.WriteFile(outsider, pdftest.Doc(2, pdftest.DocOptions{}), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		tamper       func(t testing.TB, copy string)
		originalGone bool
		ok           bool
	}{
		{"one byte changed, original there", pipetest.FlipFile, false, true},
		{"one byte changed, original gone", pipetest.FlipFile, true, false},
		{"symlink out, original there", symlinkTo(outsider), false, true},
		{"symlink out, original gone", symlinkTo(outsider), true, false},
		// A named pipe blocked the replay in open(2) for good, the job's
		// lock held, and SIGTERM could not end it.
		{"named pipe, original there", fifo, false, true},
		{"named pipe, original gone", fifo, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mount, out := t.TempDir(), t.TempDir()
			src := writeDoc(t, 4)
			r, _, code := run(t, "run", "--mount", mount, "--out", out, "--json", src)
			if code != 0 {
				t.Fatal("run failed")
			}
			want := pipetest.Tree(t, out)
			os.RemoveAll(filepath.Join(out, r.Job))
			os.Remove(filepath.Join(mount, "jobs", r.Job, "status.json"))
			tc.tamper(t, filepath.Join(mount, "jobs", r.Job, "source.pdf"))
			if tc.originalGone {
				os.Remove(src)
			}
			got, stderr, code := run(t, "replay", "--mount", mount, "--out", out, "--json", r.Job)
			if !tc.ok {
				if code != 1 || !strings.Contains(stderr, "does not match its ingest record") {
					t.Fatalf("exit %d, stderr %q", code, stderr)
				}
				if ents, _ := os.ReadDir(out); len(ents) != 0 {
					t.Fatalf("published %v", ents)
				}
				return
			}
			if code != 0 || got.Job != r.Job || !strings.Contains(stderr, "re-ingesting from "+src) {
				t.Fatalf("exit %d, %+v, stderr %q", code, got, stderr)
			}
			pipetest.SameTree(t, want, pipetest.Tree(t, out))
			if fi, err := os.Lstat(filepath.Join(mount, "jobs", r.Job, "source.pdf")); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("the copy was not replaced: %v %v", fi, err)
			}
		})
	}
}

func fifo(t testing.TB, p string) {
	os.Remove(p)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A kill in ingest can leave a job's directory without its settings
// (job.json), which name the source: replay and status cannot resume it and
// say how to, and a run of the source does.
func TestReplayOfAJobKilledInIngest(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	src := writeDoc(t, 3)
	r, _, code := run(t, "run", "--mount", mount, "--out", out, "--json", src)
	if code != 0 {
		t.Fatal("run failed")
	}
	want := pipetest.Tree(t, out)
	os.RemoveAll(filepath.Join(out, r.Job))
	// What a kill between the copy and the settings leaves: the copy, no
	// settings, no record.
	dir := filepath.Join(mount, "jobs", r.Job)
	for _, name := range []string{"job.json", "status.json", "execution.json", "ckpt"} {
		os.RemoveAll(filepath.Join(dir, name))
	}
	for _, cmd := range []string{"replay", "status"} {
		_, stderr, code := run(t, cmd, "--mount", mount, r.Job)
		if code != 1 || !strings.Contains(stderr, "interrupted in ingest") || !strings.Contains(stderr, "efspipe run FILE") {
			t.Errorf("%s: exit %d, stderr %q", cmd, code, stderr)
		}
	}
	if _, stderr, code := run(t, "replay", "--mount", t.TempDir(), r.Job); code != 1 || !strings.Contains(stderr, "not found on the mount") {
		t.Errorf("replay of a job the mount never had: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := run(t, "run", "--mount", mount, "--out", out, src); code != 0 {
		t.Fatalf("run of the source: exit %d: %s", code, stderr)
	}
	pipetest.SameTree(t, want, pipetest.Tree(t, out))
}

// A job whose input ingest refused (not a PDF, over --max-bytes) is
// FAILED with its reason in status and list, and replay says why it has
// nothing to replay: they took it for one a kill had interrupted in
// ingest ("run the source again to resume it"). Run again with settings
// that let it pass, the job is no longer FAILED.
func TestIngestRefusalIsTheOutcome(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	notes := filepath.Join(t.TempDir(), "notes.pdf")
	os.WriteFile(notes, []byte("just some text\n"), 0o644)
	src := writeDoc(t, 2)
	for _, c := range []struct {
		args []string
		kind string
	}{
		{[]string{notes}, "InvalidInput.NotPDF"},
		{[]string{"--max-bytes", "100", src}, "InvalidInput.TooLarge"},
	} {
		r, stderr, code := run(t, append([]string{"run", "--mount", mount, "--out", out, "--json"}, c.args...)...)
		if code != 1 || r.Status != "FAILED" || r.Error != c.kind {
			t.Fatalf("run %v: exit %d, %+v, %s", c.args, code, r, stderr)
		}
		var st struct {
			Status, Error, Cause string
			Source               struct{ Name string }
		}
		cliJSON(t, &st, "status", "--mount", mount, "--out", out, r.Job)
		if st.Status != "FAILED" || st.Error != c.kind || st.Cause != r.Cause || st.Source.Name != filepath.Base(c.args[len(c.args)-1]) {
			t.Errorf("status of %v: %+v, want FAILED %s: %s", c.args, st, c.kind, r.Cause)
		}
		var jobs []listedJob
		cliJSON(t, &jobs, "list", "--mount", mount)
		i := slices.IndexFunc(jobs, func(j listedJob) bool { return j.Job == r.Job })
		if i < 0 || jobs[i].Status != "FAILED" || jobs[i].Error != c.kind || jobs[i].Source != st.Source.Name {
			t.Errorf("list of %v: %+v", c.args, jobs)
		}
		if _, stderr, code := run(t, "replay", "--mount", mount, "--out", out, r.Job); code != 1 || !strings.Contains(stderr, "ingest refused") || !strings.Contains(stderr, r.Cause) {
			t.Errorf("replay of %v: exit %d, %s", c.args, code, stderr)
		}
	}
	r, stderr, code := run(t, "run", "--mount", mount, "--out", out, "--json", src)
	if code != 0 {
		t.Fatalf("run within the limit: exit %d: %s", code, stderr)
	}
	var st struct{ Status, Error string }
	cliJSON(t, &st, "status", "--mount", mount, "--out", out, r.Job)
	if st.Status != "SUCCEEDED" || st.Error != "" {
		t.Errorf("status after the run within the limit: %+v", st)
	}
}

func symlinkTo(target string) func(t testing.TB, p string) {
	return func(t testing.TB, p string) {
		os.Remove(p)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
}

// A symlink planted at <out>/<job> makes the run fail clearly, and
// nothing is written where it points.
func TestSymlinkedOutput(t *testing.T) {
	src := writeDoc(t, 3)
	r, _, code := run(t, "run", "--mount", t.TempDir(), "--out", t.TempDir(), "--json", src)
	if code != 0 {
		t.Fatal("run failed")
	}
	out, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(out, r.Job)); err != nil {
		t.Fatal(err)
	}
	got, stderr, code := run(t, "run", "--mount", t.TempDir(), "--out", out, "--json", src)
	if code == 0 || got.Status != "FAILED" || !strings.Contains(stderr, "in the output folder is a symlink") {
		t.Fatalf("exit %d, %+v, stderr %q", code, got, stderr)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("written outside --out: %v", ents)
	}
}

// A job an operator ran as root stays usable by the access point's user:
// with --uid/--gid (or, as root, by default when the mount directory
// belongs to that user) everything root creates on the mount is that
// user's, and `efspipe replay --fresh` run as the user then discards and
// redoes the job. Without them, the user's replay fails at once saying
// "permission denied" and naming the path, not after minutes of retries.
func TestSecondUser(t *testing.T) {
	pipetest.NeedsRoot(t, "running efspipe as another user")
	const uid, gid = 4242, 4343
	// A tree the other user can reach: t.TempDir's parents are root's 0700.
	base, err := os.MkdirTemp("", "efspipe-uid")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	bin := filepath.Join(base, "efspipe")
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(base, "report.pdf")
	for p, b := range map[string][]byte{bin: data, src: pdftest.Doc(3, pdftest.DocOptions{})} {
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(base, 0o755)
	as := func(cred *syscall.Credential, args ...string) (result, string, error) {
		cmd := exec.CommandContext(t.Context(), bin, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var r result
		json.Unmarshal(stdout.Bytes(), &r)
		return r, stderr.String(), err
	}
	user := &syscall.Credential{Uid: uid, Gid: gid}
	for _, tc := range []struct {
		name      string
		owned     bool     // the mount directory belongs to the user
		rootFlags []string // what root passes
		ok        bool
	}{
		{"--uid/--gid", false, []string{"--uid", "4242", "--gid", "4343"}, true},
		{"mount directory's owner", true, nil, true},
		{"neither", false, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, err := os.MkdirTemp(base, "case")
			if err != nil {
				t.Fatal(err)
			}
			os.Chmod(dir, 0o777)
			mount, out := filepath.Join(dir, "mount"), filepath.Join(dir, "out")
			os.Mkdir(mount, 0o755)
			if tc.owned {
				os.Chown(mount, uid, gid)
			} else {
				os.Chmod(mount, 0o777)
			}
			args := append([]string{"run", "--keep", "--json", "--mount", mount, "--out", out}, tc.rootFlags...)
			r, stderr, err := as(nil, append(args, src)...)
			if err != nil || r.Status != "SUCCEEDED" {
				t.Fatalf("root's run: %v %+v %s", err, r, stderr)
			}
			got, stderr, err := as(user, "replay", "--fresh", "--json", "--mount", mount, "--out", filepath.Join(dir, "out2"), r.Job)
			if !tc.ok {
				if err == nil || !strings.Contains(stderr, "permission denied") || !strings.Contains(stderr, "jobs/"+r.Job) {
					t.Fatalf("the user's replay of root's job: %v %+v %s", err, got, stderr)
				}
				return
			}
			if err != nil || got.Status != "SUCCEEDED" || got.Job != r.Job {
				t.Fatalf("the user's replay: %v %+v %s", err, got, stderr)
			}
			pipetest.SameTree(t, pipetest.Tree(t, out), pipetest.Tree(t, filepath.Join(dir, "out2")))
		})
	}
}

// TestLogLinesNameTheirJob: with -v every line of a run names its job and
// stage, in the one format --log-format chose; an unknown format is a
// usage error before any work.
func TestLogLinesNameTheirJob(t *testing.T) {
	doc := writeDoc(t, 3)
	mount, out := t.TempDir(), t.TempDir()
	r, stderr, code := run(t, "run", "--json", "-v", "--mount", mount, "--out", out, doc)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	stages := map[string]bool{}
	for _, l := range lines {
		if !strings.HasPrefix(l, "time=") || !strings.Contains(l, " job="+r.Job+" ") {
			t.Errorf("text line without job=%s: %q", r.Job, l)
		}
		if _, s, ok := strings.Cut(l, " stage="); ok {
			stages[strings.Fields(s)[0]] = true
		}
	}
	if len(stages) != 5 {
		t.Errorf("stages logged: %v, want the five", stages)
	}
	_, stderr, code = run(t, "run", "--json", "-v", "--log-format", "json", "--fresh", "--mount", mount, "--out", out, doc)
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, stderr)
	}
	for l := range strings.SplitSeq(strings.TrimSpace(stderr), "\n") {
		var line struct{ Job, Stage, Msg string }
		if err := json.Unmarshal([]byte(l), &line); err != nil || line.Job != r.Job || line.Stage == "" {
			t.Errorf("json line %q: %+v %v", l, line, err)
		}
	}
	if _, stderr, code := run(t, "run", "--log-format", "xml", "--mount", mount, "--out", out, doc); code != 2 || !strings.Contains(stderr, "text or json") {
		t.Errorf("--log-format xml: exit %d, %s", code, stderr)
	}
}

// TestFailedJobRerunsWithNewSettings: a job that failed on a setting
// (--max-pages too low) is started over when run again with other
// settings, and status says which settings a job has.
func TestFailedJobRerunsWithNewSettings(t *testing.T) {
	doc := writeDoc(t, 3)
	mount, out := t.TempDir(), t.TempDir()
	r, stderr, code := run(t, "run", "--json", "--max-pages", "2", "--mount", mount, "--out", out, doc)
	if code != 1 || r.Status != "FAILED" {
		t.Fatalf("--max-pages 2 on 3 pages: exit %d %+v %s", code, r, stderr)
	}
	var st local.Report
	cliJSON(t, &st, "status", "--mount", mount, r.Job)
	if st.Settings.MaxPages != 2 {
		t.Fatalf("status settings %+v, want max_pages 2", st.Settings)
	}
	// The same settings again: the same failure, nothing started over.
	if _, stderr, code := run(t, "run", "--max-pages", "2", "--mount", mount, "--out", out, doc); code != 1 || strings.Contains(stderr, "starting it over") {
		t.Fatalf("same settings: exit %d %s", code, stderr)
	}
	r, stderr, code = run(t, "run", "--json", "--max-pages", "100", "--mount", mount, "--out", out, doc)
	if code != 0 || r.Status != "SUCCEEDED" || r.Pages != 3 || !strings.Contains(stderr, "max_pages 2 -> 100") {
		t.Fatalf("--max-pages 100: exit %d %+v %s", code, r, stderr)
	}
	cliJSON(t, &st, "status", "--mount", mount, r.Job)
	if st.Settings.MaxPages != 100 || st.Status != "SUCCEEDED" {
		t.Fatalf("status after the rerun: %+v", st)
	}
	stdout, _, _ := cli(t, "status", "--mount", mount, r.Job)
	if !strings.Contains(stdout, "max_pages=100") {
		t.Errorf("status does not show the settings:\n%s", stdout)
	}
	// A finished job keeps its settings, and says so when asked for others;
	// so does a replay.
	if _, stderr, code := run(t, "run", "--level", "best", "--mount", mount, "--out", out, doc); code != 0 || !strings.Contains(stderr, "keeps the settings it started with, not these (level auto -> best)") {
		t.Errorf("--level best on a finished job: exit %d, %q", code, stderr)
	}
	if _, stderr, code := run(t, "replay", r.Job, "--level", "best", "--mount", mount, "--out", out); code != 0 || !strings.Contains(stderr, "(level auto -> best); efspipe run --fresh FILE") {
		t.Errorf("replay --level best: exit %d, %q", code, stderr)
	}
}

// TestUnusableOutputFailsFirst: an output that cannot be written (a
// read-only folder, a bucket that does not exist) fails the run before
// anything is ingested, naming the output, and serve before it listens.
func TestUnusableOutputFailsFirst(t *testing.T) {
	doc := writeDoc(t, 2)
	readOnly := pipetest.Tmpfs(t, 1<<20, true)
	awstest.S3(t, "exists")
	for _, out := range []string{readOnly, "s3://no-such-bucket/prefix"} {
		mount := t.TempDir()
		_, stderr, code := run(t, "run", "--mount", mount, "--out", out, doc)
		if code != 1 || !strings.Contains(stderr, "output") || !strings.Contains(stderr, strings.TrimSuffix(out, "/prefix")) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("--out %s: exit %d, %q", out, code, stderr)
		}
		if ents, _ := os.ReadDir(filepath.Join(mount, "jobs")); len(ents) != 0 {
			t.Errorf("--out %s: %d jobs on the mount; nothing should have been ingested", out, len(ents))
		}
	}
	// serve finds out at start, not at its first execution's publish.
	if _, stderr, code := run(t, "serve", "--addr", "127.0.0.1:0", "--mount", t.TempDir(), "--out", readOnly); code != 1 || !strings.Contains(stderr, "cannot be written") {
		t.Errorf("serve --out read-only: exit %d, %q", code, stderr)
	}
}

// TestSymlinkedJobFolderLeavesOtherJobsAlone: a job folder, or its pages
// folder, replaced by a symlink to another job's makes the rerun of the
// job fail saying so, and the other job's publication is untouched: no
// file of it is deleted to "mend" the first.
func TestSymlinkedJobFolderLeavesOtherJobsAlone(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	srcA, srcB := writeDoc(t, 3), writeDoc(t, 4)
	a, _, codeA := run(t, "run", "--json", "--mount", mount, "--out", out, srcA)
	b, _, codeB := run(t, "run", "--json", "--mount", mount, "--out", out, srcB)
	if codeA != 0 || codeB != 0 {
		t.Fatal("runs failed")
	}
	wantA := pipetest.Tree(t, filepath.Join(out, a.Job))
	for _, link := range []struct{ at, to string }{
		{filepath.Join(out, b.Job, "pages"), filepath.Join("..", a.Job, "pages")},
		{filepath.Join(out, b.Job), a.Job},
	} {
		if err := os.RemoveAll(link.at); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(link.to, link.at); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range [][]string{{"run", srcB}, {"replay", b.Job}} {
			_, stderr, code := run(t, cmd[0], "--mount", mount, "--out", out, cmd[1])
			if code != 1 || !strings.Contains(stderr, "is a symlink") {
				t.Errorf("%s with %s -> %s: exit %d, %q", cmd[0], link.at, link.to, code, stderr)
			}
			pipetest.SameTree(t, wantA, pipetest.Tree(t, filepath.Join(out, a.Job)))
		}
		os.Remove(link.at)
	}
}

// TestStatusChecksTheOutput: status of a finished job says whether its
// publication at --out is all there, and what replay would do if not.
func TestStatusChecksTheOutput(t *testing.T) {
	doc := writeDoc(t, 3)
	mount, out := t.TempDir(), t.TempDir()
	r, _, code := run(t, "run", "--json", "--mount", mount, "--out", out, doc)
	if code != 0 {
		t.Fatal("run failed")
	}
	for _, tc := range []struct {
		out, want string
		damage    func()
	}{
		{out, "verified by size", func() {}},
		{out, "damaged: page 2: pages/000002.pdf.zst: missing", func() { os.Remove(filepath.Join(out, r.Job, "pages", "000002.pdf.zst")) }},
		{t.TempDir(), "not published", func() {}},
	} {
		tc.damage()
		var st statusReport
		cliJSON(t, &st, "status", "--mount", mount, "--out", tc.out, r.Job)
		if st.Output != tc.want || (tc.want == "verified by size") == strings.HasPrefix(st.Next, "republish") {
			t.Errorf("--out %s: output %q, next %q; want %q", tc.out, st.Output, st.Next, tc.want)
		}
	}
}
