package split_test

import (
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/stages/split"
)

func TestSplit(t *testing.T) {
	m := pipetest.Mount(t)
	s := pipetest.Run(t, m, pdftest.Doc(10, pdftest.DocOptions{}), jobspec.Settings{ShardPages: 4}, "split")
	if s.Split.Pages != 10 || s.Split.Shards != 3 || s.Split.LastShard != 2 || s.Split.Manifest != s.Job.SplitManifest() {
		t.Fatalf("out %+v", s.Split)
	}
	plan, err := manifest.LoadPlan(m, s.Job, s.Split.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	journal := checkpoint.Open(m, s.Job)
	qpdf := ""
	for i := range plan.Shards {
		rec, ok, reason, err := journal.Verify(checkpoint.Unit(checkpoint.Split, i))
		if !ok || err != nil {
			t.Fatalf("shard %d: %s %v", i, reason, err)
		}
		first, last := plan.ShardRange(i)
		if len(rec.Items) != last-first+1 || rec.Items[0].Page != first {
			t.Fatalf("shard %d items %+v", i, rec.Items)
		}
		data, _ := m.ReadFile(rec.Path)
		for _, it := range rec.Items {
			page := data[it.Offset : it.Offset+it.Len]
			if checkpoint.Sum(page) != it.PDFSHA256 {
				t.Fatalf("page %d checksum", it.Page)
			}
			if i == 0 && it.Page == 1 {
				qpdf = pipetest.Tool("qpdf")
				if qpdf != "" {
					pipetest.CheckPDF(t, qpdf, page, 1)
				}
			}
		}
	}
	// A second call redoes only what no longer verifies.
	keep := pipetest.Stat(t, m, s.Job.SplitShard(0))
	pipetest.Flip(t, m, s.Job.SplitShard(1))
	if _, err := (&split.Stage{Mount: m}).Handle(t.Context(), split.In{Job: s.Job.ID, Source: s.Job.Source()}); err != nil {
		t.Fatal(err)
	}
	if !pipetest.Same(t, m, s.Job.SplitShard(0), keep) {
		t.Error("a verified shard was redone")
	}
	if _, ok, _, _ := journal.Verify(checkpoint.Unit(checkpoint.Split, 1)); !ok {
		t.Error("the damaged shard was not redone")
	}
}

func TestSplitRefusesForeignPaths(t *testing.T) {
	m := pipetest.Mount(t)
	s := pipetest.Run(t, m, pdftest.Doc(1, pdftest.DocOptions{}), jobspec.Settings{}, "ingest")
	for _, in := range []split.In{
		{Job: s.Job.ID, Source: "../../etc/passwd"},
		{Job: s.Job.ID, Source: "/etc/passwd"},
		{Job: s.Job.ID, Source: "jobs/other/source.pdf"},
		{Job: "../" + s.Job.ID, Source: s.Job.Source()},
	} {
		if _, err := (&split.Stage{Mount: m}).Handle(t.Context(), in); pipeerr.KindOf(err) != pipeerr.BadRequest {
			t.Errorf("%+v: %v", in, err)
		}
	}
}
