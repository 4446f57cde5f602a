package compress_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/pdfcheck"
	"github.com/efspipe/efspipe/pkg/pdfsplit"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/zpage"
	"github.com/efspipe/efspipe/stages/compress"
	"github.com/efspipe/efspipe/testdata"
)

func TestCompress(t *testing.T) {
	m := pipetest.Mount(t)
	s := pipetest.Run(t, m, pdftest.Doc(6, pdftest.DocOptions{FontBytes: 64 << 10}), jobspec.Settings{ShardPages: 3}, "split")
	c := &compress.Stage{Mount: m}
	in := compress.In{Job: s.Job.ID, Manifest: s.Split.Manifest, Shard: 1}
	out, err := c.Handle(t.Context(), in)
	if err != nil || out.Shard != 1 || out.Pages != 3 {
		t.Fatalf("%+v %v", out, err)
	}
	journal := checkpoint.Open(m, s.Job)
	rec, ok, _, _ := journal.Verify(checkpoint.Unit(checkpoint.Compress, 1))
	split, _, _ := journal.Get(checkpoint.Unit(checkpoint.Split, 1))
	if !ok {
		t.Fatal("no verified record")
	}
	dict, _ := m.ReadFile(s.Job.Dictionary())
	dec, _ := zpage.NewDecoder(dict, 1<<30)
	defer dec.Close()
	frames, _ := m.ReadFile(rec.Path)
	src, _ := m.ReadFile(s.Job.Source())
	doc, err := pdfsplit.Open(bytes.NewReader(src), int64(len(src)), pdfsplit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var in64, out64 int64
	for k, it := range rec.Items {
		page, err := dec.Decode(frames[it.Offset : it.Offset+it.Len])
		want, _ := doc.Page(it.Page)
		if err != nil || !bytes.Equal(page, want) || checkpoint.Sum(page) != it.PDFSHA256 || it.PDFBytes != split.Items[k].PDFBytes {
			t.Fatalf("page %d does not restore: %v", it.Page, err)
		}
		in64, out64 = in64+it.PDFBytes, out64+it.Len
	}
	t.Logf("shard of 3 pages: %d bytes → %d with the dictionary", in64, out64)
	if out64*4 > in64 {
		t.Errorf("the dictionary did not help: %d → %d", in64, out64)
	}
	// Verified work is skipped; damaged work is redone, to the same bytes.
	before := pipetest.Stat(t, m, rec.Path)
	if _, err := c.Handle(t.Context(), in); err != nil || !pipetest.Same(t, m, rec.Path, before) {
		t.Fatalf("verified shard redone (%v)", err)
	}
	pipetest.Flip(t, m, rec.Path)
	if _, err := c.Handle(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if again, ok, _, _ := journal.Verify(checkpoint.Unit(checkpoint.Compress, 1)); !ok || again.SHA256 != rec.SHA256 {
		t.Fatal("the redone shard differs from the first")
	}
}

func TestCompressRefuses(t *testing.T) {
	m := pipetest.Mount(t)
	s := pipetest.Run(t, m, pdftest.Doc(2, pdftest.DocOptions{}), jobspec.Settings{}, "split")
	c := &compress.Stage{Mount: m}
	for _, tc := range []struct {
		in   compress.In
		want pipeerr.Kind
	}{
		{compress.In{Job: s.Job.ID, Manifest: s.Split.Manifest, Shard: 5}, pipeerr.BadRequest},
		{compress.In{Job: s.Job.ID, Manifest: s.Split.Manifest, Shard: -1}, pipeerr.BadRequest},
		{compress.In{Job: s.Job.ID, Manifest: "jobs/" + s.Job.ID + "/../../x", Shard: 0}, pipeerr.BadRequest},
		{compress.In{Job: "a/b", Manifest: s.Split.Manifest, Shard: 0}, pipeerr.BadRequest},
	} {
		if _, err := c.Handle(t.Context(), tc.in); pipeerr.KindOf(err) != tc.want {
			t.Errorf("%+v: %v, want %s", tc.in, err, tc.want)
		}
	}
	// A split shard that no longer verifies is not compressed into garbage.
	pipetest.Flip(t, m, s.Job.SplitShard(0))
	if _, err := c.Handle(t.Context(), compress.In{Job: s.Job.ID, Manifest: s.Split.Manifest, Shard: 0}); pipeerr.KindOf(err) != pipeerr.Internal {
		t.Errorf("damaged split shard: %v", err)
	}
}

// TestCompressChecksPages: a split shard whose record verifies but whose
// page does not read as a valid PDF ends the shard with an Internal error
// naming the page and the fault, and nothing is recorded; the other shard
// still compresses.
func TestCompressChecksPages(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, fault string
	}{
		{"catalog-type", "/Type /Catalog", "/Type /Catalkg", "page tree"},
		{"header", "%PDF-1.", "%PDF-9.", "header"},
		{"reference-generation", " 0 R /Type /Catalog", " 1 R /Type /Catalog", "reference"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := pipetest.Mount(t)
			s := pipetest.Run(t, m, pdftest.Doc(4, pdftest.DocOptions{}), jobspec.Settings{ShardPages: 2}, "split")
			journal := checkpoint.Open(m, s.Job)
			unit := checkpoint.Unit(checkpoint.Split, 0)
			rec, data, ok, _, err := journal.ReadVerified(unit)
			if err != nil || !ok || len(rec.Items) != 2 {
				t.Fatalf("split shard 0: %+v %v", rec, err)
			}
			// Damage page 2's recipe where it holds the page's own bytes
			// (same length: it still assembles), and record it anew so
			// the shard verifies.
			it := rec.Items[1]
			recipe := data[it.Offset : it.Offset+it.Len]
			if !bytes.Contains(recipe, []byte(tc.old)) || len(tc.old) != len(tc.new) {
				t.Fatalf("page %d's recipe has no %q", it.Page, tc.old)
			}
			damaged := slices.Concat(data[:it.Offset], bytes.Replace(recipe, []byte(tc.old), []byte(tc.new), 1), data[it.Offset+it.Len:])
			if _, err := journal.WriteFile(unit, rec.Path, damaged, rec.Items); err != nil {
				t.Fatal(err)
			}

			c := &compress.Stage{Mount: m}
			_, err = c.Handle(t.Context(), compress.In{Job: s.Job.ID, Manifest: s.Split.Manifest, Shard: 0})
			var e *pdfcheck.Error
			if pipeerr.KindOf(err) != pipeerr.Internal || !errors.As(err, &e) || string(e.Reason) != tc.fault ||
				!strings.Contains(err.Error(), "page 2 of shard 0") || !strings.Contains(err.Error(), "nothing of this job is published") {
				t.Fatalf("got %v (kind %s), want an Internal error naming page 2 and a %q fault", err, pipeerr.KindOf(err), tc.fault)
			}
			if _, ok, _ := journal.Get(checkpoint.Unit(checkpoint.Compress, 0)); ok {
				t.Fatal("the shard was recorded")
			}
			if _, err := os.Stat(filepath.Join(m.Dir(), s.Job.CompressedShard(0))); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("a compressed shard file exists: %v", err)
			}
			if out, err := c.Handle(t.Context(), compress.In{Job: s.Job.ID, Manifest: s.Split.Manifest, Shard: 1}); err != nil || out.Pages != 2 {
				t.Fatalf("the undamaged shard: %+v %v", out, err)
			}
		})
	}
}

// BenchmarkHandle compresses one shard from its split record, as a Map
// iteration does (the record of the previous iteration is forgotten, so
// each does the whole work), and, for comparison, runs only the reader's
// check (pdfcheck.Page) over the same assembled pages. Pages of the sample
// (80 KB each) and of a document with a 1 MiB font.
func BenchmarkHandle(b *testing.B) {
	for _, bc := range []struct {
		name  string
		doc   []byte
		pages int
	}{
		{"sample-12p", testdata.Sample, 12},
		{"font-1MiB-8p", pdftest.Doc(8, pdftest.DocOptions{FontBytes: 1 << 20, Image: true}), 8},
	} {
		m := pipetest.Mount(b)
		s := pipetest.Run(b, m, bc.doc, jobspec.Settings{ShardPages: bc.pages}, "split")
		c := &compress.Stage{Mount: m}
		in := compress.In{Job: s.Job.ID, Manifest: s.Split.Manifest, Shard: 0}
		journal := checkpoint.Open(m, s.Job)
		unit := checkpoint.Unit(checkpoint.Compress, 0)
		out, err := c.Handle(b.Context(), in)
		if err != nil || out.Pages != bc.pages {
			b.Fatalf("%+v %v", out, err)
		}
		var pages [][]byte
		var total int64
		src, _ := m.ReadFile(s.Job.Source())
		doc, err := pdfsplit.Open(bytes.NewReader(src), int64(len(src)), pdfsplit.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for n := 1; n <= bc.pages; n++ {
			p, err := doc.Page(n)
			if err != nil {
				b.Fatal(err)
			}
			pages, total = append(pages, p), total+int64(len(p))
		}
		b.Run(bc.name+"/handle", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(total)
			for b.Loop() {
				if err := journal.Forget(unit); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Handle(b.Context(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/check-only", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(total)
			for b.Loop() {
				for _, p := range pages {
					if err := pdfcheck.Page(p, pdfcheck.Options{}); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// cancelAfter ends a context once n pages are reported compressed, the way
// a Ctrl-C or StopExecution lands in the middle of a shard.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Total(string, int) {}
func (c *cancelAfter) Add(_ string, n int) {
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
}

// A shard whose context ends between two of its pages stops there, with a
// retryable Timeout and nothing recorded; the rerun compresses it whole.
func TestCompressStopsBetweenPages(t *testing.T) {
	m := pipetest.Mount(t)
	s := pipetest.Run(t, m, pdftest.Doc(6, pdftest.DocOptions{FontBytes: 16 << 10}), jobspec.Settings{ShardPages: 6}, "split")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	in := compress.In{Job: s.Job.ID, Manifest: s.Split.Manifest, Shard: 0}
	_, err := (&compress.Stage{Mount: m, Progress: &cancelAfter{n: 1, cancel: cancel}}).Handle(ctx, in)
	if pipeerr.KindOf(err) != pipeerr.Timeout || !errors.Is(err, context.Canceled) {
		t.Fatalf("a shard whose context ended after its first page: %v", err)
	}
	if _, ok, _, _ := checkpoint.Open(m, s.Job).Verify(checkpoint.Unit(checkpoint.Compress, 0)); ok {
		t.Fatal("recorded a shard the context stopped")
	}
	if out, err := (&compress.Stage{Mount: m}).Handle(t.Context(), in); err != nil || out.Pages != 6 {
		t.Fatalf("rerun: %+v %v", out, err)
	}
}
