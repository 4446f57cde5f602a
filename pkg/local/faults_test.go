package local_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// TestStorageFaultsEndAtOnce runs the pipeline on a real mount that is
// full (a tmpfs smaller than the source) and on one that is read-only:
// the execution ends at the first failure, never retried, with the
// fault's own kind and a cause that names the path and the reason.
func TestStorageFaultsEndAtOnce(t *testing.T) {
	src := writePDF(t, pdftest.Doc(4, pdftest.DocOptions{FontBytes: 256 << 10}))
	for _, tc := range []struct {
		name     string
		size     int64
		readOnly bool
		want     pipeerr.Kind
		cause    string
	}{
		{"full", 64 << 10, false, pipeerr.NoSpace, "no space left on device"},
		{"read-only", 1 << 20, true, pipeerr.ReadOnly, "read-only file system"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := pipetest.Tmpfs(t, tc.size, tc.readOnly)
			m, err := jobfs.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			out, _ := pipetest.Out(t)
			var (
				mu    sync.Mutex
				slept []time.Duration
			)
			p, err := local.New(local.Config{Mount: m, Out: out, Sleep: func(_ context.Context, d time.Duration) error {
				mu.Lock()
				slept = append(slept, d)
				mu.Unlock()
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			var failures int
			res, err := p.Run(t.Context(), local.Input{Source: src}, func(ev asl.Event) {
				if ev.Type == "LambdaFunctionFailed" {
					failures++
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != jobspec.Failed || res.Error != string(tc.want) {
				t.Fatalf("result %+v, want FAILED %s", res, tc.want)
			}
			if !strings.Contains(res.Cause, tc.cause) || !strings.Contains(res.Cause, "jobs/") {
				t.Errorf("cause %q names neither the path on the mount nor %q", res.Cause, tc.cause)
			}
			if failures != 1 || len(slept) != 0 {
				t.Errorf("%d failed invocations, retry waits %v: a storage fault is not retried", failures, slept)
			}
			t.Logf("%s: %s", res.Error, res.Cause)
		})
	}
}
