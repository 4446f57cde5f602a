package ingest_test

import (
	"os"
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/source"
	"github.com/efspipe/efspipe/stages/ingest"
)

func TestIngest(t *testing.T) {
	m := pipetest.Mount(t)
	data := pdftest.Doc(2, pdftest.DocOptions{})
	src := pipetest.File(t, data)
	s := &ingest.Stage{Mount: m, Sources: source.Files{}, Settings: jobspec.Settings{ShardPages: 7}}
	out, err := s.Handle(t.Context(), ingest.In{Source: src, Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	job := jobfs.Job{ID: out.ID}
	if out.Source != job.Source() || out.Bytes != int64(len(data)) || out.Password != "pw" {
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.s.Handle(t.Context(), tc.in)
			if k := pipeerr.KindOf(err); k != tc.want {
				t.Fatalf("kind %s (%v), want %s", k, err, tc.want)
			}
		})
	}
}
