package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/efspipe/efspipe/internal/awstest"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/publish"
)

const testMachine = "arn:aws:states:us-east-1:123456789012:stateMachine:efspipe"

// cloudEnv isolates the AWS config chain and serves a fake Step Functions.
func cloudEnv(t *testing.T) (*awstest.FakeSFN, []string) {
	awstest.Env(t, "")
	t.Setenv(envStateMachine, "")
	f := awstest.NewFakeSFN(t)
	return f, []string{"--state-machine-arn", testMachine, "--endpoint-url", f.URL}
}

func cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(t.Context(), args, &o, &e)
	return o.String(), e.String(), code
}

func cliJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out, stderr, code := cli(t, append([]string{args[0], "--json"}, args[1:]...)...)
	if code != 0 {
		t.Fatalf("efspipe %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("efspipe %s --json: %q: %v", strings.Join(args, " "), out, err)
	}
}

type startOut struct {
	Job, ExecutionArn, Action string
	Existing                  bool
}

func TestCloudStartIsIdempotent(t *testing.T) {
	f, flags := cloudEnv(t)
	src := writeDoc(t, 2)
	var first, again, after startOut
	cliJSON(t, &first, append([]string{"start"}, append(flags, src)...)...)
	if err := jobfs.CheckJobID(first.Job); err != nil || !strings.HasPrefix(first.Job, "f-") || first.ExecutionArn != awstest.ExecutionARN(testMachine, first.Job) {
		t.Fatalf("start: %+v", first)
	}
	cliJSON(t, &again, append([]string{"start"}, append(flags, src)...)...)
	if again.Job != first.Job || again.Existing {
		t.Fatalf("a second start while running: %+v (same name and input is the same execution)", again)
	}
	f.Finish(first.ExecutionArn, "SUCCEEDED", "NOT_REDRIVABLE")
	cliJSON(t, &after, append([]string{"start"}, append(flags, src)...)...)
	if !after.Existing || after.Job != first.Job {
		t.Fatalf("start after success: %+v, want existing", after)
	}
	if f.Starts() != 1 {
		t.Fatalf("%d executions, want 1", f.Starts())
	}
	var in struct{ Source, Version string }
	abs, _ := filepath.Abs(src)
	if err := json.Unmarshal([]byte(f.Executions()[first.ExecutionArn].Input), &in); err != nil || in.Source != abs {
		t.Fatalf("input %q", f.Executions()[first.ExecutionArn].Input)
	}
	// Without a state machine, start is a usage error.
	t.Setenv(envStateMachine, "")
	if _, stderr, code := cli(t, "start", src); code != 2 || !strings.Contains(stderr, "--state-machine-arn") {
		t.Fatalf("start without ARN: exit %d %q", code, stderr)
	}
}

func TestCloudReplay(t *testing.T) {
	f, flags := cloudEnv(t)
	src := writeDoc(t, 2)
	var st startOut
	cliJSON(t, &st, append([]string{"start"}, append(flags, src)...)...)
	replay := append([]string{"replay"}, append(flags, st.Job)...)

	if _, stderr, code := cli(t, replay...); code != 1 || !strings.Contains(stderr, "still running") {
		t.Fatalf("replay while running: exit %d %q", code, stderr)
	}

	// Redrivable: RedriveExecution, no new execution.
	f.Finish(st.ExecutionArn, "FAILED", "REDRIVABLE")
	var r startOut
	cliJSON(t, &r, replay...)
	if r.Action != "redrive" || r.ExecutionArn != st.ExecutionArn || f.Starts() != 1 || f.Executions()[st.ExecutionArn].RedriveCount != 1 {
		t.Fatalf("replay of a redrivable execution: %+v, %d starts", r, f.Starts())
	}

	// Not redrivable (too old, or succeeded): a new execution, same input.
	for i, want := range []string{st.Job + "-r1", st.Job + "-r2"} {
		last := st.ExecutionArn
		if i > 0 {
			last = awstest.ExecutionARN(testMachine, st.Job+"-r1")
		}
		f.Finish(last, "FAILED", "NOT_REDRIVABLE")
		cliJSON(t, &r, replay...)
		if r.Action != "start" || r.ExecutionArn != awstest.ExecutionARN(testMachine, want) {
			t.Fatalf("replay %d: %+v, want a start of %s", i, r, want)
		}
		if got := f.Executions()[r.ExecutionArn].Input; got != f.Executions()[st.ExecutionArn].Input {
			t.Fatalf("replay input %q differs from the original's", got)
		}
	}

	// Without an ARN, replay is the local command.
	t.Setenv(envStateMachine, "")
	if _, stderr, code := cli(t, "replay", "--mount", t.TempDir(), st.Job); code != 1 || !strings.Contains(stderr, "not found on the mount") {
		t.Fatalf("local replay: exit %d %q", code, stderr)
	}
}

func TestCloudStatusMergesCheckpoints(t *testing.T) {
	f, flags := cloudEnv(t)
	// A job that ran on this mount, as the Lambdas would leave it.
	mount := t.TempDir()
	m, err := jobfs.Open(mount)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	out, err := publish.Open(t.Context(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	p, err := local.New(local.Config{Mount: m, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	src := writeDoc(t, 3)
	res, err := p.Run(t.Context(), local.Input{Source: src}, nil)
	if err != nil || res.Status != jobspec.Succeeded {
		t.Fatalf("run: %+v, %v", res, err)
	}
	var st startOut
	cliJSON(t, &st, append([]string{"start"}, append(flags, src)...)...)
	if st.Job != res.Job {
		t.Fatalf("start named the job %s, the pipeline %s", st.Job, res.Job)
	}
	f.Finish(st.ExecutionArn, "FAILED", "REDRIVABLE")

	var got cloudStatus
	cliJSON(t, &got, append([]string{"status", "--mount", mount}, append(flags, st.Job)...)...)
	if got.Status != "FAILED" || got.Error != "States.TaskFailed" || got.Redrive != "REDRIVABLE" || got.Checkpoint == nil ||
		got.Checkpoint.Status != jobspec.Succeeded || len(got.Checkpoint.Stages) != 5 {
		t.Fatalf("status: %+v", got)
	}
	var away cloudStatus
	cliJSON(t, &away, append([]string{"status", "--mount", filepath.Join(mount, "nope")}, append(flags, st.Job)...)...)
	if away.Checkpoint != nil || away.Status != "FAILED" || !strings.Contains(away.Mount, "not reachable") {
		t.Fatalf("status without the mount: %+v", away)
	}
	text, _, code := cli(t, append([]string{"status", "--mount", mount}, append(flags, st.Job)...)...)
	if code != 0 || !strings.Contains(text, "FAILED") || !strings.Contains(text, "compress") {
		t.Fatalf("status text: %q", text)
	}
	if _, stderr, code := cli(t, append([]string{"status"}, append(flags, "o-0000000000000000000000000000000000000000")...)...); code != 1 || !strings.Contains(stderr, "has no execution") {
		t.Fatalf("status of an unknown job: exit %d %q", code, stderr)
	}
}

func TestCloudHistory(t *testing.T) {
	f, flags := cloudEnv(t)
	src := writeDoc(t, 1)
	var st startOut
	cliJSON(t, &st, append([]string{"start"}, append(flags, src)...)...)
	f.Finish(st.ExecutionArn, "FAILED", "NOT_REDRIVABLE")
	var h struct {
		ExecutionArn string
		Events       []struct {
			ID     int64
			Type   string
			Detail string
		}
	}
	cliJSON(t, &h, append([]string{"history"}, append(flags, st.Job)...)...)
	if h.ExecutionArn != st.ExecutionArn || len(h.Events) != 3 || h.Events[1].Detail != "Ingest" || !strings.Contains(h.Events[2].Detail, "compress step failed") {
		t.Fatalf("history: %+v", h)
	}
	text, _, code := cli(t, append([]string{"history"}, append(flags, st.Job)...)...)
	if code != 0 || !strings.Contains(text, "ExecutionFailed") {
		t.Fatalf("history text: %q", text)
	}
}

func TestCloudConfigured(t *testing.T) {
	t.Setenv(envStateMachine, "")
	for args, want := range map[string]bool{
		"JOB": false, "--state-machine-arn arn JOB": true, "-state-machine-arn=arn JOB": true,
		"--mount d JOB": false, "state-machine-arn": false,
	} {
		if got := cloudConfigured(strings.Fields(args)); got != want {
			t.Errorf("cloudConfigured(%q) = %v", args, got)
		}
	}
	t.Setenv(envStateMachine, testMachine)
	if !cloudConfigured([]string{"JOB"}) {
		t.Error("the environment variable is ignored")
	}
}
