package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeInbox runs `efspipe serve --inbox`: a PDF dropped in the inbox
// becomes one execution named by its job ID, moved to processed/ when it
// ends; the same bytes dropped again start nothing.
func TestServeInbox(t *testing.T) {
	out, inbox := t.TempDir(), t.TempDir()
	c, _, stop := startServe(t, "--out", out, "--inbox", inbox, "--inbox-settle", "20ms")
	list := func() []types.ExecutionListItem {
		l, err := c.ListExecutions(t.Context(), &sfn.ListExecutionsInput{StateMachineArn: aws.String(machine)})
		if err != nil {
			t.Fatal(err)
		}
		return l.Executions
	}

	doc := pdftest.Doc(4, pdftest.DocOptions{})
	// A writer's temp name is not picked up; the rename is.
	tmp := filepath.Join(inbox, ".report.pdf.tmp")
	if err := os.WriteFile(tmp, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(inbox, "report.pdf")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "processed/report.pdf", func() bool {
		_, err := os.Stat(filepath.Join(inbox, "processed", "report.pdf"))
		return err == nil
	})
	execs := list()
	if len(execs) != 1 || execs[0].Status != types.ExecutionStatusSucceeded {
		t.Fatalf("executions after one drop: %+v", execs)
	}
	if _, err := os.Stat(filepath.Join(out, *execs[0].Name, "manifest.json")); err != nil {
		t.Errorf("not published under the job ID: %v", err)
	}

	// The same bytes under another name: no second job, moved aside too.
	if err := os.WriteFile(filepath.Join(inbox, "copy.pdf"), doc, 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "processed/copy.pdf", func() bool {
		_, err := os.Stat(filepath.Join(inbox, "processed", "copy.pdf"))
		return err == nil
	})
	if n := len(list()); n != 1 {
		t.Errorf("%d executions after re-dropping the same file", n)
	}
	stop()
}

const machine = "arn:aws:states:us-east-1:000000000000:stateMachine:efspipe"

// startServe runs `efspipe serve` on a free loopback port and returns a
// client for it, its URL, and a stop that checks its exit code.
func startServe(t *testing.T, args ...string) (*sfn.Client, string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var stderr pipetest.Buffer
	done := make(chan int, 1)
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--mount", t.TempDir()}, args...) // a later --mount wins
	go func() { done <- Main(ctx, args, &bytes.Buffer{}, &stderr) }()
	re := regexp.MustCompile(`endpoint on (http://127\.0\.0\.1:\d+)`)
	eventually(t, "the listening line", func() bool { return re.MatchString(stderr.String()) })
	url := re.FindStringSubmatch(stderr.String())[1]
	c := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	}
	t.Cleanup(stop)
	return c, url, stop
}

// TestServeWithCloudCommands: `efspipe start` and `efspipe history`, the
// commands that drive Step Functions in the cloud, work unchanged against
// the local endpoint with --endpoint-url, on a machine with no AWS
// configuration at all: no region, no credentials, and the EC2 instance
// metadata service not disabled (it must not be asked).
func TestServeWithCloudCommands(t *testing.T) {
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "",
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_SFN": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", envStateMachine: ""} {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	defer func() {
		if t.Failed() {
			return
		}
		// What a user would have seen of a search for credentials.
		for _, word := range []string{"EC2", "IMDS", "169.254", "credentials"} {
			if strings.Contains(stderr.String(), word) {
				t.Errorf("a command against the local endpoint mentions %q: %s", word, stderr.String())
			}
		}
	}()
	doc := writeDoc(t, 3)
	c, url, _ := startServe(t, "--out", t.TempDir(), "--allow-source", filepath.Dir(doc))
	if code := Main(t.Context(), []string{"start", "--endpoint-url", url, "--state-machine-arn", machine, "--json", doc}, &stdout, &stderr); code != 0 {
		t.Fatalf("start: exit %d: %s", code, stderr.String())
	}
	var started struct {
		Job          string
		ExecutionArn string
	}
	if err := json.Unmarshal(stdout.Bytes(), &started); err != nil || started.Job == "" {
		t.Fatalf("start printed %q: %v", stdout.String(), err)
	}
	eventually(t, "the execution to end", func() bool {
		d, err := c.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(started.ExecutionArn)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != types.ExecutionStatusRunning && d.Status != types.ExecutionStatusSucceeded {
			t.Fatalf("execution %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		return d.Status == types.ExecutionStatusSucceeded
	})
	stdout.Reset()
	if code := Main(t.Context(), []string{"history", "--endpoint-url", url, "--state-machine-arn", machine, started.Job}, &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), "ExecutionSucceeded") || !strings.Contains(stdout.String(), "MapIterationSucceeded") {
		t.Fatalf("history: exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	if code := Main(t.Context(), []string{"start", "--endpoint-url", url, "--state-machine-arn", machine, "--json", doc}, &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), `"existing":true`) {
		t.Errorf("second start: exit %d: %s %s", code, stdout.String(), stderr.String())
	}
}

func TestServeUsage(t *testing.T) {
	if _, stderr, code := run(t, "serve", "extra"); code != 2 {
		t.Errorf("serve with an argument: exit %d, %s", code, stderr)
	}
}

// startServeProcess runs `efspipe serve` as a real process (what SIGTERM
// and kill -9 are about) and returns a client, the process and its stderr.
func startServeProcess(t *testing.T, mount string, args ...string) (*sfn.Client, *exec.Cmd, *pipetest.Buffer) {
	t.Helper()
	var stderr pipetest.Buffer
	// --out a temp dir unless args give one (the last wins): the default,
	// ./out, is the package directory.
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0", "--mount", mount, "--out", t.TempDir()}, args...)...)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	re := regexp.MustCompile(`endpoint on (http://127\.0\.0\.1:\d+)`)
	eventually(t, "the listening line", func() bool { return re.MatchString(stderr.String()) })
	url := re.FindStringSubmatch(stderr.String())[1]
	return sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")}), cmd, &stderr
}

// waitExecution polls until the execution is not RUNNING.
func waitExecution(t *testing.T, c *sfn.Client, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	var d *sfn.DescribeExecutionOutput
	eventually(t, arn+" to end", func() bool {
		var err error
		d, err = c.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		return d.Status != types.ExecutionStatusRunning
	})
	return d
}

func startExecution(t *testing.T, c *sfn.Client, name string, input any) string {
	t.Helper()
	b, _ := json.Marshal(input)
	out, err := c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: aws.String(machine), Name: aws.String(name), Input: aws.String(string(b))})
	if err != nil {
		t.Fatal(err)
	}
	return *out.ExecutionArn
}

// FIFOs as sources are refused at once, without being opened for reading:
// eight of them block nothing, another job runs beside them, and SIGTERM
// stops serve.
func TestServeFIFOSources(t *testing.T) {
	dir := t.TempDir()
	c, cmd, stderr := startServeProcess(t, t.TempDir(), "--out", t.TempDir(), "--allow-source", dir)
	var arns []string
	for i := range 8 {
		fifo := filepath.Join(dir, "fifo-"+strconv.Itoa(i)+".pdf")
		if err := unix.Mkfifo(fifo, 0o644); err != nil {
			t.Fatal(err)
		}
		arns = append(arns, startExecution(t, c, "fifo-"+strconv.Itoa(i), map[string]string{"source": fifo}))
	}
	doc := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(doc, pdftest.Doc(3, pdftest.DocOptions{}), 0o644); err != nil {
		t.Fatal(err)
	}
	good := startExecution(t, c, "report", map[string]string{"source": doc})
	for _, arn := range arns {
		d := waitExecution(t, c, arn)
		if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "InvalidInput.BadRequest" || !strings.Contains(aws.ToString(d.Cause), "a FIFO") {
			t.Errorf("%s: %s %s %s", arn, d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
	}
	if d := waitExecution(t, c, good); d.Status != types.ExecutionStatusSucceeded {
		t.Errorf("the job beside the FIFOs: %s %s", d.Status, aws.ToString(d.Cause))
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, stderr.String())
	}
}

// serve reads local sources only under --allow-source roots (default: the
// inbox): anything else is refused with a clear error that quotes none of
// the file, and nothing of it reaches the mount.
func TestServeAllowSource(t *testing.T) {
	base := t.TempDir()
	inbox, allowed, private := filepath.Join(base, "inbox"), filepath.Join(base, "allowed"), filepath.Join(base, "private")
	for _, d := range []string{inbox, allowed, private} {
		os.Mkdir(d, 0o755)
	}
	secret := filepath.Join(private, "secret.pdf")
	os.WriteFile(secret, []byte("%PDF-1.4 root:$6$hash-of-a-secret\n"), 0o600)
	os.Symlink(secret, filepath.Join(allowed, "link.pdf"))
	doc := pdftest.Doc(2, pdftest.DocOptions{})
	os.WriteFile(filepath.Join(allowed, "ok.pdf"), doc, 0o644)
	os.WriteFile(filepath.Join(inbox, ".in-inbox.pdf.tmp"), doc, 0o644) // a name the inbox ignores
	for _, tc := range []struct {
		name    string
		args    []string
		source  string
		allowed bool
	}{
		{"default: outside the inbox", nil, secret, false},
		{"default: /etc/shadow", nil, "/etc/shadow", false},
		{"default: inside the inbox", nil, filepath.Join(inbox, ".in-inbox.pdf.tmp"), true},
		{"--allow-source: inside", []string{"--allow-source", allowed}, filepath.Join(allowed, "ok.pdf"), true},
		{"--allow-source: a symlink out", []string{"--allow-source", allowed}, filepath.Join(allowed, "link.pdf"), false},
		{"--allow-source: outside", []string{"--allow-source", allowed}, secret, false},
		{"--allow-source: dot-dot", []string{"--allow-source", allowed}, allowed + "/../private/secret.pdf", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mount := t.TempDir()
			c, _, stop := startServe(t, append([]string{"--mount", mount, "--out", t.TempDir(), "--inbox", inbox}, tc.args...)...)
			d := waitExecution(t, c, startExecution(t, c, "x", map[string]string{"source": tc.source}))
			stop()
			if tc.allowed {
				if d.Status != types.ExecutionStatusSucceeded {
					t.Fatalf("%s %s", d.Status, aws.ToString(d.Cause))
				}
				return
			}
			cause := aws.ToString(d.Cause)
			if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "InvalidInput.BadRequest" || !strings.Contains(cause, "--allow-source") {
				t.Fatalf("%s %s %s", d.Status, aws.ToString(d.Error), cause)
			}
			if strings.Contains(cause, "root:") || strings.Contains(cause, "hash-of-a-secret") {
				t.Errorf("the error quotes the file: %s", cause)
			}
			if ents, _ := os.ReadDir(filepath.Join(mount, "jobs")); len(ents) != 0 {
				t.Errorf("a refused source reached the mount: %v", ents)
			}
		})
	}
}

// kill -9 of serve while its inbox executions run, then a restart: the
// new server redrives the interrupted executions by itself, and every
// file ends published and in processed/.
func TestServeInboxSurvivesKill(t *testing.T) {
	mount, out, inbox := t.TempDir(), t.TempDir(), t.TempDir()
	args := []string{"--out", out, "--inbox", inbox, "--inbox-settle", "20ms"}
	c, cmd, _ := startServeProcess(t, mount, args...)
	for i := range 4 {
		doc := pdftest.Doc(150+i, pdftest.DocOptions{FontBytes: 64 << 10})
		if err := os.WriteFile(filepath.Join(inbox, "doc-"+strconv.Itoa(i)+".pdf"), doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	list := func(c *sfn.Client) []types.ExecutionListItem {
		l, err := c.ListExecutions(t.Context(), &sfn.ListExecutionsInput{StateMachineArn: aws.String(machine)})
		if err != nil {
			t.Fatal(err)
		}
		return l.Executions
	}
	eventually(t, "four executions", func() bool { return len(list(c)) == 4 })
	cmd.Process.Kill()
	cmd.Wait()

	c, _, _ = startServeProcess(t, mount, args...)
	eventually(t, "every file processed", func() bool {
		ents, _ := os.ReadDir(filepath.Join(inbox, "processed"))
		return len(ents) == 4
	})
	redriven := 0
	for _, x := range list(c) {
		if x.Status != types.ExecutionStatusSucceeded {
			t.Errorf("%s: %s", *x.Name, x.Status)
		}
		redriven += int(aws.ToInt32(x.RedriveCount))
		pipetest.Verify(t, out, *x.Name, false)
	}
	if redriven == 0 {
		t.Error("no execution was interrupted by the kill: the test did not test")
	}
	if ents, _ := os.ReadDir(filepath.Join(inbox, "failed")); len(ents) != 0 {
		t.Errorf("failed/: %v", ents)
	}
}

// TestServeObjects: with --objects DIR, a distributed Map's ItemReader
// reads s3://BUCKET/KEY from DIR/BUCKET/KEY
// (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html)
// and its ResultWriter writes there
// (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html);
// without the flag the folder is objects/ on the mount.
func TestServeObjects(t *testing.T) {
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
		"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"in","Key":"items.json"}},
		"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix":"p"}},
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}`
	mount, dir := t.TempDir(), t.TempDir()
	for _, tc := range []struct {
		name, folder string
		args         []string
	}{
		{"flag", dir, []string{"--objects", dir}},
		{"default", filepath.Join(mount, "objects"), []string{"--mount", mount}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, stop := startServe(t, append([]string{"--out", t.TempDir()}, tc.args...)...)
			defer stop()
			if err := os.MkdirAll(filepath.Join(tc.folder, "in"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(tc.folder, "in", "items.json"), []byte(`[{"a":1},{"a":2}]`), 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := c.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String("objects"), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
			if err != nil {
				t.Fatal(err)
			}
			start, err := c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn})
			if err != nil {
				t.Fatal(err)
			}
			d := waitExecution(t, c, *start.ExecutionArn)
			var out struct{ ResultWriterDetails struct{ Bucket, Key string } }
			if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &out); err != nil || d.Status != types.ExecutionStatusSucceeded {
				t.Fatalf("%s %s %s: %v", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), err)
			}
			manifest := filepath.Join(tc.folder, out.ResultWriterDetails.Bucket, filepath.FromSlash(out.ResultWriterDetails.Key))
			if b, err := os.ReadFile(manifest); err != nil || !strings.Contains(string(b), "SUCCEEDED_0.json") {
				t.Errorf("manifest %s: %s %v", manifest, b, err)
			}
		})
	}
}

// TestServeSurvivesRunawayJSONata: a definition whose JSONata recurses
// without bound fails its execution with States.QueryEvaluationError,
// saying why; before serve ran JSONata in worker processes, Go's fatal
// stack overflow ended serve and every execution in it. The next
// execution runs as usual.
func TestServeSurvivesRunawayJSONata(t *testing.T) {
	c, cmd, stderr := startServeProcess(t, t.TempDir())
	create := func(name, output string) *string {
		def := `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":` + strconv.Quote(output) + `,"End":true}}}`
		out, err := c.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(def),
			RoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
		if err != nil {
			t.Fatal(err)
		}
		return out.StateMachineArn
	}
	run := func(machine *string) *sfn.DescribeExecutionOutput {
		out, err := c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: machine, Input: aws.String(`{"n":41}`)})
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		return waitExecution(t, c, *out.ExecutionArn)
	}
	d := run(create("runaway", `{% ($f := function($n){ $f($n + 1) + 1 }; $f(0)) %}`))
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.QueryEvaluationError" || !strings.Contains(aws.ToString(d.Cause), "stack overflow") {
		t.Fatalf("runaway: %s %s %q", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	if cmd.ProcessState != nil || cmd.Process.Signal(syscall.Signal(0)) != nil {
		t.Fatalf("serve ended: %s", stderr.String())
	}
	if d := run(create("fine", `{% $states.input.n + 1 %}`)); d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != "42" {
		t.Fatalf("next execution: %s %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Cause))
	}
}

// TestServeRunawayJSONataHoldsItsOwnWorkers: an execution whose Map runs
// more never-ending expressions at once than serve has cores holds only
// its share of the JSONata workers; another execution's JSONata runs
// meanwhile. Before, the pool's one worker per core was shared by every
// execution, and the second waited until the first was stopped.
func TestServeRunawayJSONataHoldsItsOwnWorkers(t *testing.T) {
	t.Setenv("GOMAXPROCS", "2") // two workers an execution, whatever the machine
	c, cmd, stderr := startServeProcess(t, t.TempDir())
	create := func(name, def string) *string {
		out, err := c.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(def),
			RoleArn: aws.String("arn:aws:iam::000000000000:role/x")})
		if err != nil {
			t.Fatal(err)
		}
		return out.StateMachineArn
	}
	start := func(machine *string) string {
		out, err := c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: machine, Input: aws.String(`{"n":41}`)})
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		return *out.ExecutionArn
	}
	// Ten million items of a hundred thousand each: it does not end.
	spin := start(create("spin", `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":[1,2,3,4],
		"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $sum([1..10000000].($sum([1..100000]))) %}","End":true}}},"End":true}}}`))
	eventually(t, "two workers evaluating the Map's expressions", func() bool { return len(children(t, cmd.Process.Pid)) >= 2 })
	fine := start(create("fine", `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $states.input.n + 1 %}","End":true}}}`))
	if d := waitExecution(t, c, fine); d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != "42" {
		t.Fatalf("the other execution: %s %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Cause))
	}
	if n := len(children(t, cmd.Process.Pid)); n != 3 {
		t.Errorf("%d workers: want the Map's 2 and the other execution's", n)
	}
	if _, err := c.StopExecution(t.Context(), &sfn.StopExecutionInput{ExecutionArn: aws.String(spin)}); err != nil {
		t.Fatal(err)
	}
	if d := waitExecution(t, c, spin); d.Status != types.ExecutionStatusAborted {
		t.Fatalf("stopped execution: %s", d.Status)
	}
}

// children are the processes pid started that still run (proc(5):
// /proc/PID/task/TID/children lists each thread's).
func children(t *testing.T, pid int) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "children"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no /proc children files: %v", err)
	}
	var pids []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended
		}
		pids = append(pids, strings.Fields(string(b))...)
	}
	return pids
}
