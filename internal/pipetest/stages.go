package pipetest

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/publish"
	"github.com/efspipe/efspipe/pkg/source"
	"github.com/efspipe/efspipe/stages/checkpoint"
	"github.com/efspipe/efspipe/stages/compress"
	"github.com/efspipe/efspipe/stages/ingest"
	"github.com/efspipe/efspipe/stages/split"
)

// Mount opens a mount on a fresh temp dir.
func Mount(t testing.TB) *jobfs.Mount {
	t.Helper()
	m, err := jobfs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// File writes data to a temp file and returns its path.
func File(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Stages brings a job through the real stage handlers up to and including
// stage ("ingest", "split", "compress", "checkpoint"), calling them as the
// state machine would, and returns what each returned.
type Stages struct {
	Job        jobfs.Job
	Ingest     ingest.Out
	Split      split.Out
	Checkpoint checkpoint.Out
}

// Run runs the stages up to last on data with settings.
func Run(t testing.TB, m *jobfs.Mount, data []byte, settings jobspec.Settings, last string) Stages {
	t.Helper()
	ctx := t.Context()
	var s Stages
	in, err := (&ingest.Stage{Mount: m, Sources: source.Files{}, Settings: settings}).Handle(ctx, ingest.In{Source: File(t, data)})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	s.Ingest, s.Job = in, jobfs.Job{ID: in.ID}
	if last == "ingest" {
		return s
	}
	if s.Split, err = (&split.Stage{Mount: m}).Handle(ctx, split.In{Job: in.ID, Source: in.Source}); err != nil {
		t.Fatalf("split: %v", err)
	}
	if last == "split" {
		return s
	}
	c := &compress.Stage{Mount: m}
	for i := range s.Split.Shards {
		if _, err := c.Handle(ctx, compress.In{Job: in.ID, Manifest: s.Split.Manifest, Shard: i}); err != nil {
			t.Fatalf("compress %d: %v", i, err)
		}
	}
	if last == "compress" {
		return s
	}
	if s.Checkpoint, err = (&checkpoint.Stage{Mount: m}).Handle(ctx, checkpoint.In{Job: in.ID, Manifest: s.Split.Manifest}); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	return s
}

// Flip inverts one byte in the middle of a file on the mount.
func Flip(t testing.TB, m *jobfs.Mount, rel string) {
	t.Helper()
	FlipFile(t, filepath.Join(m.Dir(), rel))
}

// FlipFile inverts one byte in the middle of the file at p, in place: the
// same size, another content.
func FlipFile(t testing.TB, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(p, b, 0o640); err != nil {
		t.Fatal(err)
	}
}

// Same reports whether rel is still the file it was when before was taken
// (an atomic rewrite replaces the file, so a redone unit is a new file).
func Same(t testing.TB, m *jobfs.Mount, rel string, before fs.FileInfo) bool {
	t.Helper()
	return os.SameFile(before, Stat(t, m, rel))
}

// Stat describes a file on the mount.
func Stat(t testing.TB, m *jobfs.Mount, rel string) fs.FileInfo {
	t.Helper()
	fi, err := m.Stat(rel)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// Out opens a publication target on a fresh temp dir and returns it with
// the dir.
func Out(t testing.TB) (*publish.Target, string) {
	t.Helper()
	dir := t.TempDir()
	out, err := publish.Open(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	return out, dir
}
