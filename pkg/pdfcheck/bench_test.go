package pdfcheck

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/testdata"
)

// dictBytes is how many bytes of f's output are not stream data: the
// dictionaries, arrays and tables Page parses token by token.
func dictBytes(f *file) int {
	total := len(f.bytes())
	for _, o := range f.objs {
		switch {
		case o.stream:
			total -= len(o.data)
		case o.raw != nil:
			if i, j := bytes.Index(o.raw, []byte("stream\n")), bytes.LastIndex(o.raw, []byte("\nendstream")); i >= 0 && j > i {
				total -= j - i - len("stream\n")
			}
		}
	}
	return total
}

// BenchmarkPage measures Page on pages like the ones efspipe writes. Beside
// ns/op and MB/s (over the whole page, stream data included, which Page
// skips) it reports the thread's CPU time per call (cpu-ns/op, Linux: on a
// shared machine wall time also counts the other work) and CPU ns per KiB of
// everything that is not stream data, the part whose cost grows with the
// page's dictionaries.
func BenchmarkPage(b *testing.B) {
	big := makePage(pageOpts{Fonts: 4, Image: true, GState: true, Annots: 600, Info: true})
	// Pages pdfsplit writes: the sample's first (a 64 KiB font and an image,
	// 80 KB), a page of a document with a 1 MiB font, and one with free
	// entries.
	written := func(src []byte, page int) *file {
		pages, err := split(src, "")
		if err != nil {
			b.Fatal(err)
		}
		return fromPage(pages[page-1])
	}
	for _, bc := range []struct {
		name string
		f    *file
		opts Options
	}{
		{"minimal-4obj", makePage(pageOpts{}), Options{}},
		{"typical-22obj", typical(), Options{}},
		{"typical-22obj-noprobe", typical(), Options{NoProbe: true}},
		{"pdftest-doc-8obj", docPage(pdftest.DocOptions{Image: true, HomeLink: true}), Options{}},
		{"fonts8-annots400", makePage(pageOpts{Fonts: 8, Annots: 400, Info: true}), Options{}},
		{"dicts-heavy-628obj", big, Options{}},
		{"dicts-heavy-628obj-noprobe", big, Options{NoProbe: true}},
		{"split-sample-p1", written(testdata.Sample, 1), Options{}},
		{"split-doc-1MiB-font", written(pdftest.Doc(3, pdftest.DocOptions{FontBytes: 1 << 20, Image: true, HomeLink: true}), 2), Options{}},
		{"split-form-fields", written(pdftest.FormFields(), 1), Options{}},
		{"split-free-entries", written(sharedFonts(40), 7), Options{}},
	} {
		pdf := bc.f.bytes()
		if err := Page(pdf, bc.opts); err != nil {
			b.Fatalf("%s: %v", bc.name, err)
		}
		dict := dictBytes(bc.f)
		b.Run(bc.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.SetBytes(int64(len(pdf)))
			cpu0, cpuOK := threadCPU()
			for b.Loop() {
				if err := Page(pdf, bc.opts); err != nil {
					b.Fatal(err)
				}
			}
			cpu1, _ := threadCPU()
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if cpuOK {
				ns = float64(cpu1-cpu0) / float64(b.N)
				b.ReportMetric(ns, "cpu-ns/op")
			}
			b.ReportMetric(float64(len(bc.f.objs)), "objects")
			b.ReportMetric(float64(dict)/1024, "dict-KiB")
			b.ReportMetric(ns/(float64(dict)/1024), "ns/dict-KiB")
		})
	}
}
