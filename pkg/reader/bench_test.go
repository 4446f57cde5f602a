package reader_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/pkg/reader"
)

// BenchmarkVerify is what checking a publication costs, as `efspipe run`
// of a finished job pays it: CheckSizes (one listing, no page read) and
// Verify (every page read, restored and hashed). Bytes/s are of restored
// PDF. EFSPIPE_BENCH_PDF names a real PDF to publish and check instead of
// the synthetic documents:
//
//	EFSPIPE_BENCH_PDF=bench/corpus/…/octave.pdf go test -run - -bench Verify ./pkg/reader
func BenchmarkVerify(b *testing.B) {
	docs := map[string][]byte{}
	if f := os.Getenv("EFSPIPE_BENCH_PDF"); f != "" {
		src, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		docs[filepath.Base(f)] = src
	} else {
		for _, n := range []int{200, 2000} {
			docs["synth-"+strconv.Itoa(n)] = pdftest.Doc(n, pdftest.DocOptions{FontBytes: 32 << 10, Image: true})
		}
	}
	for name, src := range docs {
		out, job := published(b, src)
		j, err := reader.Open(b.Context(), out, job, nil)
		if err != nil {
			b.Fatal(err)
		}
		var pdfBytes int64
		for _, p := range j.Manifest().Pages {
			pdfBytes += p.PDFBytes
		}
		for _, check := range []struct {
			name string
			run  func() ([]reader.Problem, error)
		}{
			{"sizes", func() ([]reader.Problem, error) { return j.CheckSizes(b.Context()) }},
			{"full", func() ([]reader.Problem, error) { return j.Verify(b.Context()) }},
		} {
			b.Run(name+"/"+check.name, func(b *testing.B) {
				if check.name == "full" {
					b.SetBytes(pdfBytes)
				}
				b.ReportAllocs()
				for b.Loop() {
					if probs, err := check.run(); err != nil || len(probs) != 0 {
						b.Fatal(probs, err)
					}
				}
				b.ReportMetric(float64(j.Len()*b.N)/b.Elapsed().Seconds(), "pages/s")
			})
		}
		j.Close()
	}
}
