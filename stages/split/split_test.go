package split_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pdfsplit"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/zlevel"
	"github.com/efspipe/efspipe/stages/split"
)

func TestSplit(t *testing.T) {
	m := pipetest.Mount(t)
	s := pipetest.Run(t, m, pdftest.Doc(10, pdftest.DocOptions{FontBytes: 16 << 10}), jobspec.Settings{ShardPages: 4}, "split")
	if s.Split.Pages != 10 || s.Split.Shards != 3 || s.Split.LastShard != 2 || s.Split.Manifest != s.Job.SplitManifest() {
		t.Fatalf("out %+v", s.Split)
	}
	plan, err := manifest.LoadPlan(m, s.Job, s.Split.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	journal := checkpoint.Open(m, s.Job)
	_, table, ok, reason, err := journal.ReadVerified(checkpoint.Objects)
	if !ok || err != nil {
		t.Fatalf("objects: %s %v", reason, err)
	}
	objects, err := pdfsplit.DecodeObjects(table)
	if err != nil {
		t.Fatal(err)
	}
	// Each recipe assembles to the page a fresh split of the source makes.
	src, _ := m.ReadFile(s.Job.Source())
	doc, err := pdfsplit.Open(bytes.NewReader(src), int64(len(src)), pdfsplit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var recipes, pages int64
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
			page, err := objects.Assemble(nil, data[it.Offset:it.Offset+it.Len])
			if err != nil || int64(len(page)) != it.PDFBytes {
				t.Fatalf("page %d: %d bytes, recorded %d (%v)", it.Page, len(page), it.PDFBytes, err)
			}
			if want, _ := doc.Page(it.Page); !bytes.Equal(page, want) {
				t.Fatalf("page %d assembles to other bytes than Page makes", it.Page)
			}
			recipes, pages = recipes+it.Len, pages+it.PDFBytes
			if i == 0 && it.Page == 1 {
				qpdf = pipetest.Tool("qpdf")
				if qpdf != "" {
					pipetest.CheckPDF(t, qpdf, page, 1)
				}
			}
		}
	}
	// The recipes leave the shared font out of every page.
	if recipes*4 > pages {
		t.Errorf("recipes are %d bytes for %d bytes of pages", recipes, pages)
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

// TestSplitWorkersAgree: several workers, each with its own parse adopting
// the one shared-object table, write the same bytes as one worker; and on a
// replay, where the table is read back from the mount and every worker
// parses, the shards redone are the same bytes again.
func TestSplitWorkersAgree(t *testing.T) {
	doc := pdftest.Doc(40, pdftest.DocOptions{FontBytes: 8 << 10, Image: true, HomeLink: true})
	settings := jobspec.Settings{ShardPages: 4}
	files := func(m *jobfs.Mount, job jobfs.Job, shards int) map[string][]byte {
		t.Helper()
		out := map[string][]byte{}
		names := []string{job.Objects(), job.Dictionary(), job.SplitManifest()}
		for i := range shards {
			names = append(names, job.SplitShard(i), job.Checkpoints()+"/"+checkpoint.Unit(checkpoint.Split, i)+".json")
		}
		for _, n := range names {
			b, err := m.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			out[n] = b
		}
		return out
	}
	var want map[string][]byte
	for _, workers := range []int{1, 3} {
		m := pipetest.Mount(t)
		s := pipetest.Run(t, m, doc, settings, "ingest")
		out, err := (&split.Stage{Mount: m, Workers: workers}).Handle(t.Context(), split.In{Job: s.Job.ID, Source: s.Job.Source()})
		if err != nil || out.Shards != 10 {
			t.Fatalf("%d workers: %+v %v", workers, out, err)
		}
		got := files(m, s.Job, out.Shards)
		if want == nil {
			want = got
			continue
		}
		for n, b := range want {
			if !bytes.Equal(got[n], b) {
				t.Errorf("%d workers: %s differs from one worker's", workers, n)
			}
		}
		// Replay: three shards damaged, the table read back, two workers.
		for _, i := range []int{0, 5, 9} {
			pipetest.Flip(t, m, s.Job.SplitShard(i))
		}
		if _, err := (&split.Stage{Mount: m, Workers: 2}).Handle(t.Context(), split.In{Job: s.Job.ID, Source: s.Job.Source()}); err != nil {
			t.Fatal(err)
		}
		for n, b := range files(m, s.Job, out.Shards) {
			if !bytes.Equal(want[n], b) {
				t.Errorf("replay: %s differs", n)
			}
		}
	}
}

// TestOlderTableIsRemade: a job begun by an efspipe whose shared-object
// table had another format (recorded and verifying, but not decodable now)
// is split again from its source, not failed.
func TestOlderTableIsRemade(t *testing.T) {
	m := pipetest.Mount(t)
	s := pipetest.Run(t, m, pdftest.Doc(6, pdftest.DocOptions{FontBytes: 4 << 10}), jobspec.Settings{ShardPages: 4}, "split")
	journal := checkpoint.Open(m, s.Job)
	if _, err := journal.WriteFile(checkpoint.Objects, s.Job.Objects(), []byte("efspipe-objects 1\n\x00"), nil); err != nil {
		t.Fatal(err)
	}
	out, err := (&split.Stage{Mount: m}).Handle(t.Context(), split.In{Job: s.Job.ID, Source: s.Job.Source()})
	if err != nil || out.Pages != 6 {
		t.Fatalf("%+v %v", out, err)
	}
	_, table, ok, _, err := journal.ReadVerified(checkpoint.Objects)
	if !ok || err != nil {
		t.Fatalf("objects: %v", err)
	}
	if _, err := pdfsplit.DecodeObjects(table); err != nil {
		t.Errorf("the table was not remade: %v", err)
	}
}

// TestAutoLevel: a job left at the "auto" level compresses at "default"
// until its shared objects exceed zlevel.AutoBetterAbove, then at "better"
// with "better"'s dictionary reach; an explicit level is kept.
func TestAutoLevel(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fontBytes int
		level     zlevel.Level
		want      zlevel.Level
	}{
		{"small shared objects", 64 << 10, "", zlevel.Default},
		{"large shared objects", 800 << 10, "", zlevel.Better},
		{"large, default asked for", 800 << 10, zlevel.Default, zlevel.Default},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := pipetest.Mount(t)
			s := pipetest.Run(t, m, pdftest.Doc(3, pdftest.DocOptions{FontBytes: tc.fontBytes}), jobspec.Settings{Level: tc.level}, "split")
			plan, err := manifest.LoadPlan(m, s.Job, s.Split.Manifest)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Level != tc.want {
				t.Fatalf("plan level %q, want %q", plan.Level, tc.want)
			}
			rec, ok, _, err := checkpoint.Open(m, s.Job).Verify(checkpoint.Dictionary)
			if !ok || err != nil {
				t.Fatalf("dictionary record: %v", err)
			}
			if tc.want == zlevel.Better && rec.Bytes <= int64(zlevel.AutoBetterAbove) {
				t.Fatalf("dictionary %d bytes: cut at default's reach?", rec.Bytes)
			}
		})
	}
}

// A split whose context has ended stops before walking the pages for the
// shared-object table (most of a large document's split) and records no
// plan: a Ctrl-C during the split of l3kernel's 1,611-page source3.pdf
// took 15 s to end the run, 1.6 s now.
func TestSplitStopsWhenCancelled(t *testing.T) {
	m := pipetest.Mount(t)
	s := pipetest.Run(t, m, pdftest.Doc(20, pdftest.DocOptions{FontBytes: 16 << 10}), jobspec.Settings{ShardPages: 4}, "ingest")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := (&split.Stage{Mount: m}).Handle(ctx, split.In{Job: s.Job.ID, Source: s.Job.Source()})
	if pipeerr.KindOf(err) != pipeerr.Timeout || !errors.Is(err, context.Canceled) {
		t.Fatalf("split after cancel: %v", err)
	}
	units, err := checkpoint.Open(m, s.Job).Units()
	if err != nil {
		t.Fatal(err)
	}
	for u := range units {
		if u != checkpoint.Ingest {
			t.Errorf("recorded %s after the context ended", u)
		}
	}
	// The replay splits as a run that was never stopped.
	if _, err := (&split.Stage{Mount: m}).Handle(t.Context(), split.In{Job: s.Job.ID, Source: s.Job.Source()}); err != nil {
		t.Fatal(err)
	}
}
