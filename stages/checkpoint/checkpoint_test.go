package checkpoint_test

import (
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	ckpt "github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/stages/checkpoint"
)

func TestSeal(t *testing.T) {
	m := pipetest.Mount(t)
	data := pdftest.Doc(5, pdftest.DocOptions{})
	s := pipetest.Run(t, m, data, jobspec.Settings{ShardPages: 2}, "checkpoint")
	if s.Checkpoint.Pages != 5 || s.Checkpoint.Manifest != s.Job.Sealed() {
		t.Fatalf("out %+v", s.Checkpoint)
	}
	sealed, err := manifest.LoadSealed(m, s.Job, s.Checkpoint.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if sealed.Source.SHA256 != ckpt.Sum(data) || sealed.Source.Bytes != int64(len(data)) || sealed.Codec != "zstd" || sealed.Dictionary != manifest.DictionaryFile {
		t.Fatalf("sealed header %+v", sealed)
	}
	for i, p := range sealed.Pages {
		if p.Number != i+1 || p.Path != manifest.PagePath(i+1) || p.Bytes == 0 {
			t.Fatalf("page %+v", p)
		}
	}
}

// A compressed shard damaged after its record was written is caught before
// anything is sealed: the seal promises every page restores.
func TestSealRefusesDamagedShard(t *testing.T) {
	m := pipetest.Mount(t)
	s := pipetest.Run(t, m, pdftest.Doc(4, pdftest.DocOptions{}), jobspec.Settings{ShardPages: 2}, "compress")
	pipetest.Flip(t, m, s.Job.CompressedShard(1))
	_, err := (&checkpoint.Stage{Mount: m}).Handle(t.Context(), checkpoint.In{Job: s.Job.ID, Manifest: s.Split.Manifest})
	if pipeerr.KindOf(err) != pipeerr.Internal {
		t.Fatalf("got %v", err)
	}
	if m.Exists(s.Job.Sealed()) {
		t.Fatal("sealed despite a damaged shard")
	}
}
