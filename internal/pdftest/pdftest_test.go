package pdftest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

var update = flag.Bool("update", false, "rewrite the files in testdata/")

// Golden files: the bundled sample and a small document, checked in under the
// module's testdata/ and compared byte for byte with what Doc writes.
var golden = []struct {
	file  string
	pages int
	opt   DocOptions
}{
	{"sample.pdf", 12, DocOptions{FontBytes: 64 << 10, Image: true}},
	{"pages-3.pdf", 3, DocOptions{FontBytes: 4 << 10, Image: true}},
}

func TestGolden(t *testing.T) {
	for _, g := range golden {
		t.Run(g.file, func(t *testing.T) {
			path := filepath.Join("..", "..", "testdata", g.file)
			want := Doc(g.pages, g.opt)
			if *update {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/pdftest -run TestGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from Doc(%d, %+v): run with -update if the change is intended", path, g.pages, g.opt)
			}
		})
	}
}

func TestDocValid(t *testing.T) {
	for _, tc := range []struct {
		pages int
		opt   DocOptions
	}{
		{1, DocOptions{}},
		{3, DocOptions{Image: true}},
		{64, DocOptions{FontBytes: 1024}},  // flat tree, full node
		{65, DocOptions{FontBytes: 1024}},  // two-level tree
		{200, DocOptions{FontBytes: 1024}}, // inherited MediaBox through two levels
	} {
		data := Doc(tc.pages, tc.opt)
		if n := QPDFCheck(t, "Doc", data); n != tc.pages {
			t.Errorf("Doc(%d, %+v): qpdf counts %d pages", tc.pages, tc.opt, n)
		}
	}
}

func TestDocDeterministic(t *testing.T) {
	a, b := Doc(20, DocOptions{Image: true}), Doc(20, DocOptions{Image: true})
	if !bytes.Equal(a, b) {
		t.Fatal("Doc is not deterministic")
	}
	if n := len(Doc(1, DocOptions{FontBytes: 5000})); n <= 5000 {
		t.Errorf("Doc with FontBytes 5000 is only %d bytes", n)
	}
}

func TestCorpus(t *testing.T) {
	names := map[string]bool{}
	known := map[pipeerr.Kind]bool{"": true}
	for _, k := range pipeerr.Kinds() {
		known[k] = true
	}
	for _, c := range Corpus() {
		if names[c.Name] {
			t.Errorf("duplicate case %q", c.Name)
		}
		names[c.Name] = true
		if !known[c.Want] {
			t.Errorf("%s: unknown kind %q", c.Name, c.Want)
		}
	}
	// The hand-built files that must split are well-formed apart from their
	// one defect; the ones below have none qpdf objects to.
	for _, c := range Corpus() {
		switch c.Name {
		case "many-tiny-pages", "encrypted-owner-only": // not the bomb: qpdf --check inflates it
			QPDFCheck(t, c.Name, c.Data)
		}
	}
}

// TestImageDoc: qpdf accepts it, it is deterministic, and its images are
// nearly all of it, one of the size asked for per page.
func TestImageDoc(t *testing.T) {
	data := ImageDoc(7, 30000)
	if n := QPDFCheck(t, "ImageDoc", data); n != 7 {
		t.Errorf("qpdf counts %d pages, want 7", n)
	}
	if !bytes.Equal(data, ImageDoc(7, 30000)) {
		t.Fatal("ImageDoc is not deterministic")
	}
	if n := len(data); n < 7*29000 || n > 7*31000 {
		t.Errorf("ImageDoc(7, 30000) is %d bytes", n)
	}
}
