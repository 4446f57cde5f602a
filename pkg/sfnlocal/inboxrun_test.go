package sfnlocal_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/sfnlocal"
)

// runInbox runs an inbox on dir with a short settle interval until the test ends.
func runInbox(t *testing.T, e *env, dir string, settle time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		ib := &sfnlocal.Inbox{Dir: dir, Server: e.srv, Settle: settle, Poll: 5 * time.Millisecond}
		if err := ib.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// A file is taken only once it is complete: a writer that pauses half-way
// (for less than the settle interval) is not read early, and names
// writers use while writing are never taken. A file that fails goes to
// failed/ with a one-line reason beside it; one that succeeds to
// processed/.
func TestInboxTakesCompleteFiles(t *testing.T) {
	e := newEnv(t, "", nil)
	dir := t.TempDir()
	runInbox(t, e, dir, 300*time.Millisecond)

	doc := pdftest.Doc(3, pdftest.DocOptions{})
	for _, name := range []string{".hidden.pdf", "report.pdf.part", "report.pdf.tmp"} {
		os.WriteFile(filepath.Join(dir, name), doc[:len(doc)/2], 0o644)
	}
	f, err := os.Create(filepath.Join(dir, "slow.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	f.Write(doc[:len(doc)/2])
	time.Sleep(100 * time.Millisecond) // the writer pauses, for less than the settle interval
	f.Write(doc[len(doc)/2:])
	f.Close()
	os.WriteFile(filepath.Join(dir, "bad.pdf"), []byte("not a PDF at all\n"), 0o644)

	waitFor(t, func() bool {
		return exists(filepath.Join(dir, "processed", "slow.pdf")) && exists(filepath.Join(dir, "failed", "bad.pdf.error"))
	})
	execs := e.srv.Executions(e.pipeline)
	if len(execs) != 2 {
		t.Fatalf("%d executions, want 2 (the complete slow.pdf and bad.pdf): %+v", len(execs), execs)
	}
	want := jobfs.FileJobID(checkpoint.Sum(doc))
	for _, x := range execs {
		if strings.Contains(x.Input, "slow.pdf") && (x.Name != want || x.Status != "SUCCEEDED") {
			t.Errorf("slow.pdf: execution %s %s, want %s SUCCEEDED: taken before it was complete", x.Name, x.Status, want)
		}
	}
	line, err := os.ReadFile(filepath.Join(dir, "failed", "bad.pdf.error"))
	if err != nil || !strings.HasPrefix(string(line), "InvalidInput.NotPDF: not a PDF") || strings.Count(string(line), "\n") != 1 {
		t.Errorf("bad.pdf.error: %q %v", line, err)
	}
	if exists(filepath.Join(dir, "processed", "bad.pdf")) || exists(filepath.Join(dir, "failed", "slow.pdf")) {
		t.Error("a file went to the wrong place")
	}
	for _, name := range []string{".hidden.pdf", "report.pdf.part", "report.pdf.tmp"} {
		if !exists(filepath.Join(dir, name)) {
			t.Errorf("%s was taken", name)
		}
	}
}

// A file whose execution failed for a reason a rerun can fix is retried
// when it is dropped again: its execution is redriven.
func TestInboxRedrivesOnRedrop(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	e := newEnv(t, "", func(_ context.Context, fn string, _ json.RawMessage) error {
		if fn == "checkpoint" && fail.Load() {
			return pipeerr.New(pipeerr.Internal, "injected")
		}
		return nil
	})
	dir := t.TempDir()
	runInbox(t, e, dir, 20*time.Millisecond)
	doc := pdftest.Doc(2, pdftest.DocOptions{})
	os.WriteFile(filepath.Join(dir, "doc.pdf"), doc, 0o644)
	waitFor(t, func() bool { return exists(filepath.Join(dir, "failed", "doc.pdf.error")) })
	fail.Store(false)
	os.Rename(filepath.Join(dir, "failed", "doc.pdf"), filepath.Join(dir, "doc.pdf"))
	waitFor(t, func() bool { return exists(filepath.Join(dir, "processed", "doc.pdf")) })
	x, err := e.srv.Describe(e.srv.ExecutionArn(e.pipeline, jobfs.FileJobID(checkpoint.Sum(doc))))
	if err != nil || x.Status != "SUCCEEDED" {
		t.Fatalf("%+v %v", x, err)
	}
}
