package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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
	c, _, stop := startServe(t, "--out", out, "--inbox", inbox)
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
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--mount", t.TempDir()}, args...)
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
// the local endpoint with --endpoint-url.
func TestServeWithCloudCommands(t *testing.T) {
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true", envStateMachine: ""} {
		t.Setenv(k, v)
	}
	c, url, _ := startServe(t, "--out", t.TempDir())
	doc := writeDoc(t, 3)
	var stdout, stderr bytes.Buffer
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
