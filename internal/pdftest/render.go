package pdftest

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	out, err := render(t, pdf, n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func render(t testing.TB, pdf []byte, n int) ([]byte, error) {
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
		return nil, fmt.Errorf("pdftoppm page %d: %v\n%s", n, err, stderr.Bytes())
	}
	return out, nil
}

// SameRendering fails t unless the one page of page renders to the same
// pixels as page n of src. Where poppler cannot render the source page as
// it is (a damaged page tree it does not repair, object numbers it refuses),
// the reference is the page qpdf splits from the source, rendered: the
// split must then match what qpdf's repair makes of it.
func SameRendering(t testing.TB, name string, src []byte, n int, page []byte) {
	t.Helper()
	got := Render(t, page, 1)
	want, err := render(t, src, n)
	if err == nil && bytes.Equal(want, got) {
		return
	}
	if ref := qpdfPage(t, src, n); ref != nil {
		if r, rerr := render(t, ref, 1); rerr == nil && bytes.Equal(r, got) && (err != nil || !bytes.Equal(r, want)) {
			return
		}
	}
	// Kept after the test, for a look at what differs.
	dir, derr := os.MkdirTemp("", "efspipe-render-")
	if derr == nil {
		os.WriteFile(filepath.Join(dir, "source.ppm"), want, 0o644)
		os.WriteFile(filepath.Join(dir, "page.ppm"), got, 0o644)
	}
	t.Errorf("%s: page %d renders differently from the source page (renderings in %s; source: %v)", name, n, dir, err)
}

// qpdfPage is page n of src as `qpdf --pages` splits it, or nil.
func qpdfPage(t testing.TB, src []byte, n int) []byte {
	t.Helper()
	NeedQPDF(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "src.pdf"), filepath.Join(dir, "page.pdf")
	if err := os.WriteFile(in, src, 0o600); err != nil {
		t.Fatal(err)
	}
	// Exit status 3 is success with warnings: the repairs qpdf made.
	err := exec.Command("qpdf", "--empty", "--pages", in, strconv.Itoa(n), "--", out).Run()
	if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 3) {
		return nil
	}
	b, _ := os.ReadFile(out)
	return b
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
