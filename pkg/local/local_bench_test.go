package local_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/publish"
)

// BenchmarkRun runs the whole local pipeline on a 200-page document per op,
// on a fresh mount and output folder each time. EFSPIPE_BENCH_PDF names a
// real PDF to run instead, to profile a document from the bench corpus:
//
//	EFSPIPE_BENCH_PDF=bench/corpus/…/octave.pdf go test -run - -bench Run -cpuprofile cpu.out ./pkg/local
func BenchmarkRun(b *testing.B) {
	f := os.Getenv("EFSPIPE_BENCH_PDF")
	if f == "" {
		f = filepath.Join(b.TempDir(), "doc.pdf")
		src := pdftest.Doc(200, pdftest.DocOptions{FontBytes: 32 << 10, Image: true})
		if err := os.WriteFile(f, src, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	st, err := os.Stat(f)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	pages := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		mdir, odir := b.TempDir(), b.TempDir()
		m, err := jobfs.Open(mdir)
		if err != nil {
			b.Fatal(err)
		}
		out, err := publish.Open(b.Context(), odir, nil)
		if err != nil {
			b.Fatal(err)
		}
		p, err := local.New(local.Config{Mount: m, Out: out,
			Sleep: func(context.Context, time.Duration) error { return nil }})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := p.Run(b.Context(), local.Input{Source: f}, nil)
		if err != nil || res.Status != jobspec.Succeeded {
			b.Fatalf("run: %+v, %v", res, err)
		}
		pages = res.Pages
		b.StopTimer()
		out.Close()
		m.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
}
