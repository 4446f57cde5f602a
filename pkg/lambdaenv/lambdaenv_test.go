package lambdaenv_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/efspipe/efspipe/internal/awstest"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/lambdaenv"
	"github.com/efspipe/efspipe/pkg/source"
)

func getenv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestNewChecksTheMount(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string // in the error; "" means success
		root bool   // root writes anywhere: the case cannot fail as root
	}{
		{"ok", map[string]string{"EFSPIPE_MOUNT": t.TempDir()}, "", false},
		{"missing", map[string]string{"EFSPIPE_MOUNT": filepath.Join(t.TempDir(), "efs")}, "does not exist", false},
		{"not a directory", map[string]string{"EFSPIPE_MOUNT": file}, "not a directory", false},
		{"read-only", map[string]string{"EFSPIPE_MOUNT": readOnly}, "not writable as uid", true},
		{"full", map[string]string{"EFSPIPE_MOUNT": t.TempDir(), "EFSPIPE_MIN_FREE_MIB": "999999999999"}, "bytes free, less than", false},
		{"bad min free", map[string]string{"EFSPIPE_MOUNT": t.TempDir(), "EFSPIPE_MIN_FREE_MIB": "lots"}, "EFSPIPE_MIN_FREE_MIB", false},
		{"bad log level", map[string]string{"EFSPIPE_MOUNT": t.TempDir(), "EFSPIPE_LOG_LEVEL": "loud"}, "EFSPIPE_LOG_LEVEL", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() == 0 {
				t.Skip("running as root: every directory is writable")
			}
			var logs bytes.Buffer
			env, err := lambdaenv.New(getenv(tc.vars), &logs, 0)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.want)
				}
				if tc.name == "missing" {
					if _, err := os.Stat(tc.vars["EFSPIPE_MOUNT"]); err == nil {
						t.Fatal("a missing mount was created")
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer env.Mount.Close()
			var line struct {
				Level, Msg string
				Path       string `json:"path"`
				Free       int64  `json:"free_bytes"`
				FS         string `json:"fs"`
			}
			if err := json.Unmarshal(bytes.SplitN(logs.Bytes(), []byte("\n"), 2)[0], &line); err != nil {
				t.Fatalf("the log is not JSON: %q", logs.String())
			}
			if line.Msg != "mount ok" || line.Path != tc.vars["EFSPIPE_MOUNT"] || line.Free <= 0 || line.FS == "" {
				t.Fatalf("mount log line = %+v", line)
			}
			ents, _ := os.ReadDir(tc.vars["EFSPIPE_MOUNT"])
			if len(ents) != 0 {
				t.Fatalf("the probe left %v behind", ents)
			}
		})
	}
}

func TestMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	for _, tc := range []struct {
		vars map[string]string
		want int64
	}{
		{map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024"}, 1024 << 20 / 10 * 9},
		// The stack's value is the limit (memory less its headroom), not
		// a memory size to take 90% of again.
		{map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024", "EFSPIPE_MEMORY_LIMIT_MIB": "922"}, 922 << 20},
	} {
		tc.vars["EFSPIPE_MOUNT"] = t.TempDir()
		env, err := lambdaenv.New(getenv(tc.vars), &bytes.Buffer{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		env.Mount.Close()
		if got := debug.SetMemoryLimit(-1); got != tc.want || env.MemoryLimit != tc.want {
			t.Fatalf("%v: memory limit %d (reported %d), want %d", tc.vars, got, env.MemoryLimit, tc.want)
		}
	}
	if _, err := lambdaenv.New(getenv(map[string]string{"EFSPIPE_MOUNT": t.TempDir(), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "big"}), &bytes.Buffer{}, 0); err == nil {
		t.Fatal("a bad memory size was accepted")
	}
}

func TestSettingsAndNeeds(t *testing.T) {
	vars := map[string]string{
		"EFSPIPE_MOUNT":       t.TempDir(),
		"EFSPIPE_SHARD_PAGES": "16",
		"EFSPIPE_MAX_BYTES":   "1000000",
		"EFSPIPE_MAX_PAGES":   "50",
		"EFSPIPE_LEVEL":       "fastest",
		"EFSPIPE_KEEP":        "true",
	}
	if _, err := lambdaenv.New(getenv(vars), &bytes.Buffer{}, lambdaenv.Output); err == nil || !strings.Contains(err.Error(), "EFSPIPE_OUT") {
		t.Fatalf("finalize without EFSPIPE_OUT: %v", err)
	}
	vars["EFSPIPE_OUT"] = t.TempDir()
	env, err := lambdaenv.New(getenv(vars), &bytes.Buffer{}, lambdaenv.Output)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Mount.Close()
	if env.OutURL != vars["EFSPIPE_OUT"] {
		t.Fatalf("OutURL = %q", env.OutURL)
	}
	want := jobspec.Settings{ShardPages: 16, MaxBytes: 1000000, MaxPages: 50, Level: "fastest", Keep: true}
	if env.Settings != want {
		t.Fatalf("settings %+v, want %+v", env.Settings, want)
	}
	vars["EFSPIPE_MAX_PAGES"] = "-3"
	if _, err := lambdaenv.New(getenv(vars), &bytes.Buffer{}, 0); err == nil || !strings.Contains(err.Error(), "EFSPIPE_MAX_PAGES") {
		t.Fatalf("bad max pages: %v", err)
	}
}

// TestAWSFromTheLambdaEnvironment: the configuration built from the
// variables Lambda sets drives a real S3 API (moto_server) through the
// client the Lambdas build; without them the cold start says what is
// missing.
func TestAWSFromTheLambdaEnvironment(t *testing.T) {
	if _, err := lambdaenv.AWS(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Fatalf("empty environment: %v", err)
	}
	endpoint := awstest.StartMoto(t)
	env := map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_SESSION_TOKEN": "token", "AWS_ENDPOINT_URL": endpoint,
	}
	cfg, err := lambdaenv.AWS(getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	c := source.S3ClientFor(cfg, "")
	bucket, key := "efspipe-out", "job/pages/000001.pdf.zst"
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{
		Bucket:                    aws.String(bucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("frame")}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	if b, _ := io.ReadAll(got.Body); string(b) != "frame" {
		t.Fatalf("read back %q", b)
	}
}
