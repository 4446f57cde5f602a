package pdftest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/efspipe/efspipe/internal/testenv"
)

// RenderDPI is the resolution pages are compared at: enough for a missing
// glyph, image or layer to change pixels, small enough to stay fast.
const RenderDPI = 40

// Render returns page n (1-based) of pdf rasterized by poppler's pdftoppm
// at RenderDPI as a binary PPM. It skips t without poppler-utils (CI
// installs it). A page a reader must compare is checked as a reader sees
// it: two pages that render to the same pixels look the same.
func Render(t testing.TB, pdf []byte, n int) []byte {
	t.Helper()
	tool := testenv.NeedsTool(t, "pdftoppm")
	path := filepath.Join(t.TempDir(), "in.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	page := strconv.Itoa(n)
	cmd := exec.Command(tool, "-r", strconv.Itoa(RenderDPI), "-f", page, "-l", page, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || len(out) == 0 {
		t.Fatalf("pdftoppm page %d: %v\n%s", n, err, stderr.Bytes())
	}
	return out
}

// SameRendering fails t unless page n of src and the one page of page
// render to the same pixels.
func SameRendering(t testing.TB, name string, src []byte, n int, page []byte) {
	t.Helper()
	want, got := Render(t, src, n), Render(t, page, 1)
	if !bytes.Equal(want, got) {
		// Kept after the test, for a look at what differs.
		dir, err := os.MkdirTemp("", "efspipe-render-")
		if err == nil {
			os.WriteFile(filepath.Join(dir, "source.ppm"), want, 0o644)
			os.WriteFile(filepath.Join(dir, "page.ppm"), got, 0o644)
		}
		t.Errorf("%s: page %d renders differently from the source page (renderings in %s)", name, n, dir)
	}
}

// QPDFJSON returns `qpdf --json` of pdf (qpdf's JSON v2: pages with their
// labels, the AcroForm fields with their pages, the objects). It skips t
// without qpdf.
func QPDFJSON(t testing.TB, pdf []byte) QPDFDoc {
	t.Helper()
	NeedQPDF(t)
	path := filepath.Join(t.TempDir(), "in.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("qpdf", "--json", path).Output()
	if err != nil {
		t.Fatalf("qpdf --json: %v", err)
	}
	var doc QPDFDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("qpdf --json output: %v", err)
	}
	return doc
}

// QPDFDoc is the part of `qpdf --json` the tests read.
type QPDFDoc struct {
	Pages []struct {
		Label        map[string]any `json:"label"`
		PagePosFrom1 int            `json:"pageposfrom1"`
	} `json:"pages"`
	AcroForm struct {
		HasAcroForm bool `json:"hasacroform"`
		Fields      []struct {
			FullName     string `json:"fullname"`
			PagePosFrom1 int    `json:"pageposfrom1"`
			Value        any    `json:"value"`
		} `json:"fields"`
	} `json:"acroform"`
	QPDF []json.RawMessage `json:"qpdf"`
}
