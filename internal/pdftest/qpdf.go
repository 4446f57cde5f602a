package pdftest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// NeedQPDF skips t when the qpdf CLI is absent. CI installs it (apt-get
// install qpdf), so the checks run there.
func NeedQPDF(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("qpdf"); err != nil {
		t.Skip("qpdf not installed (apt-get install qpdf): skipping the independent validity check")
	}
}

// QPDFCheck fails t unless `qpdf --check` accepts data without errors or
// warnings, and returns the page count qpdf reads. It skips t without qpdf.
func QPDFCheck(t testing.TB, name string, data []byte) int {
	t.Helper()
	NeedQPDF(t)
	path := filepath.Join(t.TempDir(), "check.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("qpdf", "--check", path).CombinedOutput(); err != nil {
		t.Errorf("%s: qpdf --check: %v\n%s", name, err, out)
		return 0
	}
	out, err := exec.Command("qpdf", "--show-npages", path).Output()
	if err != nil {
		t.Errorf("%s: qpdf --show-npages: %v", name, err)
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Errorf("%s: qpdf --show-npages printed %q", name, out)
	}
	return n
}
