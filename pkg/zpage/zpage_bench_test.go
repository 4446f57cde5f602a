package zpage_test

import (
	"bytes"
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/pkg/pdfsplit"
	"github.com/efspipe/efspipe/pkg/zlevel"
	"github.com/efspipe/efspipe/pkg/zpage"
)

// benchPages splits a 64-page synthetic document the way the split stage
// does and returns its pages and shared-resource dictionary.
func benchPages(b *testing.B) (pages [][]byte, dict []byte, total int64) {
	b.Helper()
	src := pdftest.Doc(64, pdftest.DocOptions{FontBytes: 32 << 10, Image: true})
	doc, err := pdfsplit.Open(bytes.NewReader(src), int64(len(src)), pdfsplit.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for n := 1; n <= doc.Pages(); n++ {
		p, err := doc.Page(n)
		if err != nil {
			b.Fatal(err)
		}
		pages = append(pages, p)
		total += int64(len(p))
	}
	objects, err := doc.Objects()
	if err != nil {
		b.Fatal(err)
	}
	return pages, objects.Dictionary(zlevel.Better.Reach()), total
}

func BenchmarkEncode(b *testing.B) {
	pages, dict, total := benchPages(b)
	for _, tc := range []struct {
		name string
		dict []byte
	}{{"nodict", nil}, {"dict", dict}} {
		b.Run(tc.name, func(b *testing.B) {
			enc, err := zpage.NewEncoder(tc.dict, zlevel.Better)
			if err != nil {
				b.Fatal(err)
			}
			defer enc.Close()
			var out int
			buf := make([]byte, 0, 1<<20)
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				out = 0
				for _, p := range pages {
					buf, _ = enc.Encode(buf[:0], p)
					out += len(buf)
				}
			}
			b.ReportMetric(float64(out)/float64(total), "out/in")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	pages, dict, total := benchPages(b)
	for _, tc := range []struct {
		name string
		dict []byte
	}{{"nodict", nil}, {"dict", dict}} {
		b.Run(tc.name, func(b *testing.B) {
			enc, err := zpage.NewEncoder(tc.dict, zlevel.Better)
			if err != nil {
				b.Fatal(err)
			}
			frames := make([][]byte, len(pages))
			for i, p := range pages {
				frames[i], _ = enc.Encode(nil, p)
			}
			enc.Close()
			dec, err := zpage.NewDecoder(tc.dict, 64<<20)
			if err != nil {
				b.Fatal(err)
			}
			defer dec.Close()
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				for _, f := range frames {
					if _, err := dec.Decode(f); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
