package lambdaenv_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/internal/testenv"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/source"
	"github.com/efspipe/efspipe/stages/ingest"
	"github.com/efspipe/efspipe/stages/split"
)

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestSplitUnderRIE runs the split Lambda's real bootstrap (built for this
// machine) under the AWS Lambda Runtime Interface Emulator, invoked over
// HTTP on a job ingested onto a temp mount.
func TestSplitUnderRIE(t *testing.T) {
	rie := pipetest.NeedsTool(t, "aws-lambda-rie")
	if testing.Short() {
		t.Skip("builds a Lambda binary")
	}
	dir := t.TempDir()
	bootstrap := filepath.Join(dir, "bootstrap")
	// Built as go test built this package (with the race detector under
	// make test), not as make build cross-compiles it (static, for
	// linux/arm64): so it links from the build cache, and what runs under
	// the emulator is the same handler code.
	if out, err := testenv.GoBuild(bootstrap, "github.com/efspipe/efspipe/stages/split/lambda", "-tags", "lambda.norpc").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	mountDir := t.TempDir()
	m, err := jobfs.Open(mountDir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	pdf := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(pdf, pdftest.Doc(5, pdftest.DocOptions{}), 0o644); err != nil {
		t.Fatal(err)
	}
	job, err := (&ingest.Stage{Mount: m, Sources: source.Files{}}).Handle(t.Context(), ingest.In{Source: pdf})
	if err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	logs := &pipetest.Buffer{}
	cmd := exec.Command(rie, "--runtime-api-address", freeAddr(t), "--runtime-interface-emulator-address", addr, bootstrap)
	cmd.Env = append(os.Environ(), "EFSPIPE_MOUNT="+mountDir, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "AWS_LAMBDA_FUNCTION_TIMEOUT=60")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("RIE and function log:\n%s", logs.String())
		}
	})
	url := "http://" + addr + "/2015-03-31/functions/function/invocations"
	invoke := func(payload any) []byte {
		t.Helper()
		body, _ := json.Marshal(payload)
		var lastErr error
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			resp, err := http.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				lastErr = err
				continue
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return out
		}
		t.Fatalf("RIE did not answer: %v", lastErr)
		return nil
	}

	var out split.Out
	raw := invoke(split.In{Job: job.ID, Source: job.Source})
	// Reported, not asserted (timing belongs in benchmarks): process start
	// of the emulator and the bootstrap, cold start with the mount check,
	// and a 5-page split, polled every 2 ms.
	t.Logf("first invocation answered %v after the emulator process started", time.Since(started).Round(time.Millisecond))
	// The emulator's own account: the bootstrap's init (process start to
	// the first poll for work: Go runtime, package inits, the mount check)
	// and the first invocation's duration.
	if m := regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)[\s\S]*?INVOKE RTDONE\(status: success[^)]*duration: ([0-9.]+)ms\)`).FindStringSubmatch(logs.String()); m != nil {
		t.Logf("emulator report: init %s ms, first invocation %s ms", m[1], m[2])
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Pages != 5 || out.Shards < 1 {
		t.Fatalf("split under RIE: %s (%v)", raw, err)
	}
	if !m.Exists(out.Manifest) {
		t.Fatalf("the plan %s is not on the mount", out.Manifest)
	}

	// An error leaves the function with its ASL name as the type.
	var fail struct{ ErrorType, ErrorMessage string }
	raw = invoke(map[string]string{"job": "../etc", "source": "x"})
	if err := json.Unmarshal(raw, &fail); err != nil || fail.ErrorType != "InvalidInput.BadRequest" {
		t.Fatalf("bad input under RIE: %s", raw)
	}
	if !bytes.Contains([]byte(logs.String()), []byte(`"msg":"mount ok"`)) {
		t.Fatalf("no cold-start mount line in the log")
	}
}
