package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/secret"
	"github.com/efspipe/efspipe/pkg/source"
	"github.com/efspipe/efspipe/stages/ingest"
)

func TestIngest(t *testing.T) {
	m := pipetest.Mount(t)
	data := pdftest.Doc(2, pdftest.DocOptions{})
	src := pipetest.File(t, data)
	s := &ingest.Stage{Mount: m, Sources: source.Files{}, Settings: jobspec.Settings{ShardPages: 7}}
	out, err := s.Handle(t.Context(), ingest.In{Source: src, Ref: secret.Ref{Env: "PW"}})
	if err != nil {
		t.Fatal(err)
	}
	job := jobfs.Job{ID: out.ID}
	if out.Source != job.Source() || out.Bytes != int64(len(data)) || out.PasswordRef != (secret.Ref{Env: "PW"}) {
		t.Fatalf("out %+v", out)
	}
	if got, _ := m.ReadFile(job.Source()); string(got) != string(data) {
		t.Fatal("the copy differs from the source")
	}
	spec, err := jobspec.Load(m, job)
	if err != nil || spec.Settings.ShardPages != 7 || spec.Source.Name != "doc.pdf" || spec.Source.SHA256 != checkpoint.Sum(data) {
		t.Fatalf("spec %+v %v", spec, err)
	}
	// Settings are fixed at ingest: a second ingest with other settings
	// keeps the job's, and does not copy again.
	before := pipetest.Stat(t, m, job.Source())
	s.Settings.ShardPages = 99
	if _, err := s.Handle(t.Context(), ingest.In{Source: src}); err != nil {
		t.Fatal(err)
	}
	if spec, _ := jobspec.Load(m, job); spec.Settings.ShardPages != 7 {
		t.Fatalf("settings changed to %d", spec.Settings.ShardPages)
	}
	if !pipetest.Same(t, m, job.Source(), before) {
		t.Fatal("a verified source was copied again")
	}
	// A damaged copy is replaced.
	pipetest.Flip(t, m, job.Source())
	if _, err := s.Handle(t.Context(), ingest.In{Source: src}); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.ReadFile(job.Source()); string(got) != string(data) {
		t.Fatal("the damaged copy was not redone")
	}
}

func TestIngestRefuses(t *testing.T) {
	m := pipetest.Mount(t)
	big := pipetest.File(t, make([]byte, 4096))
	for _, tc := range []struct {
		name string
		s    ingest.Stage
		in   ingest.In
		want pipeerr.Kind
	}{
		{"no source", ingest.Stage{Mount: m, Sources: source.Files{}}, ingest.In{}, pipeerr.BadRequest},
		{"missing file", ingest.Stage{Mount: m, Sources: source.Files{}}, ingest.In{Source: "/nonexistent/x.pdf"}, pipeerr.BadRequest},
		{"a directory", ingest.Stage{Mount: m, Sources: source.Files{}}, ingest.In{Source: os.TempDir()}, pipeerr.BadRequest},
		{"too large", ingest.Stage{Mount: m, Sources: source.Files{}, Settings: jobspec.Settings{MaxBytes: 1000}}, ingest.In{Source: big}, pipeerr.TooLarge},
		{"bucket without an opener", ingest.Stage{Mount: m, Sources: source.Files{}}, ingest.In{Source: "s3://b/k.pdf"}, pipeerr.BadRequest},
		// A password in the input would be kept in the execution history.
		{"a plain password", ingest.Stage{Mount: m, Sources: source.Files{}}, ingest.In{Source: big, Password: "pw"}, pipeerr.BadRequest},
		{"two password references", ingest.Stage{Mount: m, Sources: source.Files{}}, ingest.In{Source: big, Ref: secret.Ref{Env: "A", File: "/b"}}, pipeerr.BadRequest},
		{"not a secret's ARN", ingest.Stage{Mount: m, Sources: source.Files{}}, ingest.In{Source: big, Ref: secret.Ref{SecretArn: "arn:aws:s3:::b/k"}}, pipeerr.BadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.s.Handle(t.Context(), tc.in)
			if k := pipeerr.KindOf(err); k != tc.want {
				t.Fatalf("kind %s (%v), want %s", k, err, tc.want)
			}
			if tc.in.Password != "" && (strings.Contains(err.Error(), tc.in.Password) || m.Exists("jobs")) {
				t.Fatalf("the password is quoted, or a job was made: %v", err)
			}
		})
	}
}

// A copy stops when its context ends (StopExecution, Ctrl-C), leaving
// nothing half-written on the mount.
func TestIngestCancelled(t *testing.T) {
	m := pipetest.Mount(t)
	src := pipetest.File(t, pdftest.Doc(2, pdftest.DocOptions{FontBytes: 1 << 20}))
	obj, err := source.Files{}.Stat(t.Context(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s := &ingest.Stage{Mount: m, Sources: source.Remember(source.Files{}, src, "", obj)}
	if _, err := s.Handle(ctx, ingest.In{Source: src}); !errors.Is(err, context.Canceled) {
		t.Fatalf("ingest after cancel: %v", err)
	}
	job := jobfs.Job{ID: obj.JobID}
	if ents, _ := m.ReadDir(job.Dir()); len(ents) != 0 {
		t.Fatalf("left on the mount: %v", ents)
	}
}

// With the source's SHA-256 in the input (the inbox's executions), a
// source that has moved since is replaced by the job's copy on the mount,
// provided the job's record says it came from that path and the copy
// verifies; a source whose content changed is refused.
func TestIngestTrustsItsRecord(t *testing.T) {
	m := pipetest.Mount(t)
	data := pdftest.Doc(2, pdftest.DocOptions{})
	src := pipetest.File(t, data)
	sum := checkpoint.Sum(data)
	s := &ingest.Stage{Mount: m, Sources: source.Files{}}
	first, err := s.Handle(t.Context(), ingest.In{Source: src, SHA256: sum})
	if err != nil {
		t.Fatal(err)
	}
	moved := src + ".moved"
	if err := os.Rename(src, moved); err != nil {
		t.Fatal(err)
	}
	again, err := s.Handle(t.Context(), ingest.In{Source: src, SHA256: sum})
	if err != nil || again != first {
		t.Fatalf("after the source moved: %+v %v, want %+v", again, err, first)
	}
	// Without the hash, or from another path, the record is not the source.
	for _, in := range []ingest.In{{Source: src}, {Source: src + ".other", SHA256: sum}} {
		if _, err := s.Handle(t.Context(), in); pipeerr.KindOf(err) != pipeerr.BadRequest {
			t.Errorf("%+v: %v, want BadRequest", in, err)
		}
	}
	// A copy that no longer verifies is not trusted.
	pipetest.Flip(t, m, jobfs.Job{ID: first.ID}.Source())
	if _, err := s.Handle(t.Context(), ingest.In{Source: src, SHA256: sum}); pipeerr.KindOf(err) != pipeerr.BadRequest {
		t.Errorf("with a damaged copy: %v, want BadRequest", err)
	}
	// The file back with other bytes: not the content the execution was
	// started for.
	os.WriteFile(src, pdftest.Doc(3, pdftest.DocOptions{}), 0o644)
	if _, err := s.Handle(t.Context(), ingest.In{Source: src, SHA256: sum}); pipeerr.KindOf(err) != pipeerr.BadRequest || !strings.Contains(err.Error(), "no longer has the content") {
		t.Errorf("changed content: %v", err)
	}
}

// A file that is plainly not a PDF is refused before any of it reaches the
// mount, and the reason quotes none of it.
func TestIngestSniffs(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":  nil,
		"shadow": []byte("root:$6$hash-of-a-secret:19000:0:99999:7:::\n"),
		"long":   bytes.Repeat([]byte("root:$6$hash-of-a-secret:19000:0:99999:7:::\n"), 1000),
		"a zip":  []byte("PK\x03\x04 zip"),
	} {
		t.Run(name, func(t *testing.T) {
			m := pipetest.Mount(t)
			_, err := (&ingest.Stage{Mount: m, Sources: source.Files{}}).Handle(t.Context(), ingest.In{Source: pipetest.File(t, data)})
			if pipeerr.KindOf(err) != pipeerr.NotPDF || strings.Contains(err.Error(), "root") || strings.Contains(err.Error(), "PK") {
				t.Fatalf("%v", err)
			}
			filepath.WalkDir(m.Dir(), func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					t.Errorf("copied onto the mount: %s", p)
				}
				return nil
			})
		})
	}
	// A header past the first 1024 bytes, or none before the objects: the
	// split stage repairs those, so ingest copies them.
	for _, c := range pdftest.Corpus() {
		if c.Name == "header-after-1024" || c.Name == "header-missing" {
			if _, err := (&ingest.Stage{Mount: pipetest.Mount(t), Sources: source.Files{}}).Handle(t.Context(), ingest.In{Source: pipetest.File(t, c.Data)}); err != nil {
				t.Errorf("%s: %v", c.Name, err)
			}
		}
	}
}

// An input refused in ingest is recorded as the job's outcome when an
// engine holds the job's lock (efspipe run, serve): its directory exists,
// and without the record status and list took the job for one a kill had
// interrupted. The record names the source, since no job.json does. A
// later run the same content passes (other settings) removes it before
// saving the settings. Without a lock (the cloud) nothing is written.
func TestIngestRecordsARefusal(t *testing.T) {
	m := pipetest.Mount(t)
	data := pdftest.Doc(2, pdftest.DocOptions{})
	src := pipetest.File(t, data)
	obj, err := source.Files{}.Stat(t.Context(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	job, _ := jobfs.NewJob(obj.JobID)
	small := &ingest.Stage{Mount: m, Sources: source.Files{}, Settings: jobspec.Settings{MaxBytes: 100}}
	if _, err := small.Handle(t.Context(), ingest.In{Source: src}); pipeerr.KindOf(err) != pipeerr.TooLarge {
		t.Fatalf("without a lock: %v", err)
	}
	if m.Exists(job.Dir()) {
		t.Fatal("a refusal without a lock made the job's directory")
	}

	unlock, err := m.Lock(job)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = small.Handle(t.Context(), ingest.In{Source: src})
	if pipeerr.KindOf(err) != pipeerr.TooLarge {
		t.Fatalf("under the lock: %v", err)
	}
	st, serr := jobspec.LoadStatus(m, job)
	if serr != nil || st.Status != jobspec.Failed || st.Error != string(pipeerr.TooLarge) || st.Cause != err.Error() ||
		st.Source == nil || st.Source.Name != filepath.Base(src) || st.Source.Bytes != int64(len(data)) {
		t.Fatalf("status %+v (source %+v), %v", st, st.Source, serr)
	}

	if _, err := (&ingest.Stage{Mount: m, Sources: source.Files{}}).Handle(t.Context(), ingest.In{Source: src}); err != nil {
		t.Fatal(err)
	}
	if _, err := jobspec.LoadStatus(m, job); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the refusal outlived the job's acceptance: %v", err)
	}
	if !m.Exists(job.Settings()) {
		t.Fatal("no settings saved")
	}
}

// A source cut or grown between its hash and its copy fails saying it
// changed (Transient.IO: a writer may finish), with nothing committed: the
// reason was "read 50000 bytes, expected 692256768".
func TestIngestSourceChangedWhileRead(t *testing.T) {
	for name, change := range map[string]func(p string) error{
		"cut": func(p string) error { return os.Truncate(p, 1000) },
		"grown": func(p string) error {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, err = f.Write([]byte("\n% more\n"))
			return errors.Join(err, f.Close())
		},
	} {
		t.Run(name, func(t *testing.T) {
			m := pipetest.Mount(t)
			src := pipetest.File(t, pdftest.Doc(2, pdftest.DocOptions{}))
			obj, err := source.Files{}.Stat(t.Context(), src, "")
			if err != nil {
				t.Fatal(err)
			}
			if err := change(src); err != nil {
				t.Fatal(err)
			}
			s := &ingest.Stage{Mount: m, Sources: source.Remember(source.Files{}, src, "", obj)}
			_, err = s.Handle(t.Context(), ingest.In{Source: src})
			if pipeerr.KindOf(err) != pipeerr.IO || !strings.Contains(err.Error(), filepath.Base(src)+" changed while it was being read") {
				t.Fatalf("%v", err)
			}
			if m.Exists(jobfs.Job{ID: obj.JobID}.Source()) {
				t.Fatal("a copy of a changing file was committed")
			}
		})
	}
}
