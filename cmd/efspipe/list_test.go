package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
)

func TestListEmptyMount(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-mount")
	for _, mount := range []string{t.TempDir(), missing} {
		stdout, stderr, code := cli(t, "list", "--mount", mount, "--json")
		if code != 0 || stdout != "[]\n" {
			t.Fatalf("list --json of %s: exit %d, stdout %q, stderr %q", mount, code, stdout, stderr)
		}
		stdout, stderr, code = cli(t, "list", "--mount", mount)
		if code != 0 || stdout != "no jobs on the mount "+mount+"\n" {
			t.Fatalf("list of %s: exit %d, stdout %q, stderr %q", mount, code, stdout, stderr)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("list created the mount")
	}
}

// listedJob is one element of `efspipe list --json`.
type listedJob struct {
	Job, Status, Error, Source, Problem string
	Pages                               int
	Bytes                               int64
	LastActivity                        *time.Time `json:"last_activity"`
	AgeSeconds                          *int64     `json:"age_seconds"`
}

// list shows every job on the mount, most recently active first: a
// succeeded job with its pages and published bytes, a failed one with its
// error, and jobs whose files cannot be read with their problem.
func TestList(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	good, _, code := run(t, "run", "--mount", mount, "--out", out, "--json", writeDoc(t, 3))
	if code != 0 {
		t.Fatal("run failed")
	}
	published := pipetest.Verify(t, out, good.Job, false)
	failed, _, code := run(t, "run", "--mount", mount, "--out", out, "--json", encryptedDoc(t, t.TempDir()))
	if code != 1 || failed.Status != "FAILED" {
		t.Fatalf("the encrypted document: exit %d, %+v", code, failed)
	}
	// Another, damaged, that failed an hour before; the good job two
	// hours before, the encrypted one now.
	broken := pdftest.Doc(3, pdftest.DocOptions{})
	src := filepath.Join(t.TempDir(), "broken.pdf")
	os.WriteFile(src, broken[:len(broken)/2], 0o644)
	damaged, _, code := run(t, "run", "--mount", mount, "--out", out, "--json", src)
	if code != 1 || damaged.Status != "FAILED" {
		t.Fatalf("the damaged document: exit %d, %+v", code, damaged)
	}
	now := time.Now()
	touch(t, filepath.Join(mount, "jobs", good.Job), now.Add(-2*time.Hour))
	touch(t, filepath.Join(mount, "jobs", damaged.Job), now.Add(-time.Hour))
	// Jobs whose records cannot be read: settings that are not JSON, a
	// status that is a directory. Beside them, things that are no jobs.
	jobs := filepath.Join(mount, "jobs")
	unreadable := map[string]string{"f-0000000000000000000000000000000000000001": "job.json", "f-0000000000000000000000000000000000000002": "status.json"}
	for id, file := range unreadable {
		os.MkdirAll(filepath.Join(jobs, id), 0o750)
		if file == "status.json" {
			os.Mkdir(filepath.Join(jobs, id, file), 0o750)
		} else {
			os.WriteFile(filepath.Join(jobs, id, file), []byte("{not json"), 0o640)
		}
		touch(t, filepath.Join(jobs, id), now.Add(-24*time.Hour))
	}
	os.WriteFile(filepath.Join(jobs, "README"), []byte("not a job"), 0o644)
	os.Mkdir(filepath.Join(jobs, "not a job ID"), 0o750)

	var got []listedJob
	cliJSON(t, &got, "list", "--mount", mount)
	order := []string{failed.Job, damaged.Job, good.Job, "f-0000000000000000000000000000000000000001", "f-0000000000000000000000000000000000000002"}
	if len(got) != len(order) {
		t.Fatalf("listed %d jobs, want %d: %+v", len(got), len(order), got)
	}
	for i, j := range got {
		if j.Job != order[i] {
			t.Fatalf("job %d is %s, want %s (most recent first): %+v", i, j.Job, order[i], got)
		}
	}
	byJob := map[string]listedJob{}
	for _, j := range got {
		byJob[j.Job] = j
	}
	age := func(j listedJob) time.Duration {
		if j.AgeSeconds == nil || j.LastActivity == nil {
			t.Fatalf("%s: no age: %+v", j.Job, j)
		}
		return time.Duration(*j.AgeSeconds) * time.Second
	}
	if j := byJob[good.Job]; j.Status != "SUCCEEDED" || j.Pages != 3 || j.Bytes != published.Bytes || j.Source != "report.pdf" || j.Problem != "" ||
		age(j) < 2*time.Hour-time.Minute || age(j) > 2*time.Hour+time.Minute {
		t.Errorf("the succeeded job: %+v", j)
	}
	if j := byJob[failed.Job]; j.Status != "FAILED" || j.Error != "InvalidInput.Encrypted" || j.Source != "locked.pdf" || j.Bytes != 0 || j.Problem != "" || age(j) > time.Minute {
		t.Errorf("the encrypted job: %+v", j)
	}
	if j := byJob[damaged.Job]; j.Status != "FAILED" || j.Error != "InvalidInput.Damaged" || j.Source != "broken.pdf" || j.Problem != "" {
		t.Errorf("the damaged job: %+v", j)
	}
	for id, file := range unreadable {
		if j := byJob[id]; j.Status != "INCOMPLETE" || !strings.Contains(j.Problem, file) {
			t.Errorf("the job with an unreadable %s: %+v", file, j)
		}
	}

	// The same as a table.
	stdout, stderr, code := cli(t, "list", "--mount", mount)
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if code != 0 || len(lines) != 1+len(order) {
		t.Fatalf("list: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if f := strings.Fields(lines[0]); strings.Join(f, " ") != "JOB STATUS PAGES BYTES AGE SOURCE" {
		t.Errorf("header %q", lines[0])
	}
	if f := strings.Fields(lines[3]); len(f) != 6 || f[0] != good.Job || f[1] != "SUCCEEDED" || f[2] != "3" || f[4] != "2h" || f[5] != "report.pdf" {
		t.Errorf("the succeeded job's line: %q", lines[3])
	}
	if !strings.Contains(lines[1], "FAILED (InvalidInput.Encrypted)") || !strings.Contains(lines[4], "[cannot read: ") {
		t.Errorf("lines:\n%s", stdout)
	}
}

// touch sets the modification time of everything under dir.
func touch(t *testing.T, dir string, at time.Time) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, at, at)
	})
	if err != nil {
		t.Fatal(err)
	}
}
