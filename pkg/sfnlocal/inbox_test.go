package sfnlocal

import (
	"os"
	"path/filepath"
	"testing"
)

func TestIgnored(t *testing.T) {
	for name, want := range map[string]bool{
		"report.pdf": false, "Report.PDF": false, "no-extension": false,
		".report.pdf": true, "~$report.pdf": true, "report.pdf~": true, "report.pdf.tmp": true,
		"report.pdf.part": true, "report.pdf.crdownload": true, ".DS_Store": true,
	} {
		if got := ignored(name); got != want {
			t.Errorf("ignored(%q) = %v", name, got)
		}
	}
}

// A file moved aside never replaces one already there.
func TestMoveAside(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ProcessedDir), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"a.pdf", "a.1.pdf", "a.2.pdf"} {
		if err := os.WriteFile(filepath.Join(dir, "a.pdf"), []byte{byte(i)}, 0o644); err != nil {
			t.Fatal(err)
		}
		dst, err := moveAside(dir, ProcessedDir, "a.pdf")
		if err != nil || dst != filepath.Join(dir, ProcessedDir, want) {
			t.Fatalf("move %d: %s %v, want %s", i, dst, err, want)
		}
		if b, _ := os.ReadFile(dst); len(b) != 1 || b[0] != byte(i) {
			t.Errorf("%s holds %v", dst, b)
		}
	}
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"a": true, "job-01_x.y": true, "ünïcødé": true, string(make([]rune, 80)): false,
		"": false, "a b": false, "a\tb": false, "a\u00a0b": false, "a\x7fb": false, "a\u0085b": false,
		"a<b": false, "a>b": false, "a{b": false, "a}b": false, "a[b": false, "a]b": false, "a?b": false, "a*b": false,
		`a"b`: false, "a#b": false, "a%b": false, `a\b`: false, "a^b": false, "a|b": false, "a~b": false, "a`b": false,
		"a$b": false, "a&b": false, "a,b": false, "a;b": false, "a:b": false, "a/b": false,
	} {
		if err := checkName(name); (err == nil) != ok {
			t.Errorf("checkName(%q): %v", name, err)
		}
	}
	long := ""
	for range 80 {
		long += "é"
	}
	if err := checkName(long); err != nil {
		t.Errorf("80 characters: %v", err)
	}
	if err := checkName(long + "x"); err == nil {
		t.Error("81 characters accepted")
	}
}
