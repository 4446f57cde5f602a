package pdftest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepairCasesQPDF: qpdf, which repairs what the cases break, reads
// each repair case as the document it was made from: its pages, their
// text, and (for the encrypted ones, written by crypt.go) the clear text
// behind the encryption, opened with the password the case is about.
// Four cases break what qpdf does not repair: they name no usable
// catalog, have no header at all, or an object stream's /N is wrong.
func TestRepairCasesQPDF(t *testing.T) {
	NeedQPDF(t)
	notQPDF := map[string]bool{"catalog-missing": true, "catalog-damaged": true, "header-missing": true, "object-stream-n-too-large": true}
	for _, c := range RepairCases() {
		t.Run(c.Name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "in.pdf")
			if err := os.WriteFile(path, c.Data, 0o600); err != nil {
				t.Fatal(err)
			}
			var pw []string
			if c.Want != "" {
				pw = []string{"--password=" + UserPassword}
			}
			out, err := exec.Command("qpdf", append(pw, "--qdf", "--object-streams=disable", path, "-")...).Output()
			if notQPDF[c.Name] {
				if err == nil {
					t.Logf("qpdf now reads %s", c.Name)
				}
				return
			}
			if code := exitCode(err); code != 0 && code != 3 {
				t.Fatalf("qpdf refuses it: %v", err)
			}
			for i := 1; i <= RepairPages; i++ {
				if want := fmt.Sprintf("(Page %d of %d)", i, RepairPages); !strings.Contains(string(out), want) {
					t.Errorf("qpdf does not read %s in it", want)
				}
			}
			if !strings.HasPrefix(c.Name, "encrypted-") {
				return
			}
			if strings.Contains(string(out), "/Annots") && !strings.Contains(string(out), AnnotationText) {
				t.Error("qpdf does not decrypt the annotation's string")
			}
			// A well-formed encryption: qpdf checks it without a warning.
			// qpdf 11.3's linearization check crashes (SIGSEGV) on the
			// linearized case, whose hint stream is missing; its pages
			// are read above.
			if strings.Contains(c.Name, "linearized") {
				return
			}
			if err := exec.Command("qpdf", append(pw, "--check", path)...).Run(); exitCode(err) != 0 && !strings.HasSuffix(c.Name, "-prev-broken") {
				t.Errorf("qpdf --check: %v", err)
			}
			show, _ := exec.Command("qpdf", append(pw, "--show-encryption", path)...).Output()
			if c.Name == "encrypted-r6-empty-owner" && !strings.Contains(string(show), "Supplied password is owner password") {
				t.Errorf("qpdf does not open it with the empty owner password:\n%s", show)
			}
		})
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}
