package awstest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/source"
)

// StartMoto runs moto_server on a free port until t ends and returns its
// endpoint URL. Without moto_server the test is skipped, saying so, unless
// the environment variable CI is set: CI installs it, so there it fails.
func StartMoto(t testing.TB) (endpoint string) {
	t.Helper()
	bin := pipetest.NeedsTool(t, "moto_server")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	// A file, not a buffer: the child writes it while a failing test reads it.
	logs, err := os.Create(filepath.Join(t.TempDir(), "moto.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(endpoint + "/moto-api/"); err == nil {
			resp.Body.Close()
			return endpoint
		}
	}
	out, _ := os.ReadFile(logs.Name())
	t.Fatalf("moto_server did not answer on %s within 30s:\n%s", endpoint, out)
	return ""
}

// S3 starts moto_server, points the AWS config chain at it (Env), creates
// buckets and returns a client built as the CLI and the Lambdas build theirs
// (source.NewS3Client).
func S3(t testing.TB, buckets ...string) *s3.Client {
	t.Helper()
	Env(t, StartMoto(t))
	c, err := source.NewS3Client(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range buckets {
		if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// Env isolates the AWS config chain from the machine's (no shared config
// or credentials files, no instance metadata) with test credentials in
// us-east-1. A non-empty endpoint becomes AWS_ENDPOINT_URL, as a user of an
// S3-compatible store sets it; empty clears it.
func Env(t testing.TB, endpoint string) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_ACCESS_KEY_ID":           "test",
		"AWS_SECRET_ACCESS_KEY":       "test",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  "us-east-1",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
}
