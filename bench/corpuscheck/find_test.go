package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pdf := "%PDF-1.7\n"
	a := write("a b/odd name (1).pdf", pdf)
	b := write("UPPER.PDF", pdf)
	c := write("-dash.Pdf", pdf)
	lfs := write("lfs.pdf", "version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 9\n")
	big := write("deep/er/big.pdf", pdf+string(make([]byte, 2<<20)))
	write("notes.txt", pdf)
	write("pdf", pdf)
	if err := os.Mkdir(filepath.Join(dir, "dir.pdf"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.pdf")
	if err := os.Symlink(a, link); err != nil {
		t.Fatal(err)
	}
	// A link to a folder is not followed: no cycles, no file twice.
	if err := os.Symlink(dir, filepath.Join(dir, "loop")); err != nil {
		t.Fatal(err)
	}

	got, err := find([]string{dir, b}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := []candidate{
		{path: c, size: int64(len(pdf))},
		{path: b, size: int64(len(pdf))},
		{path: a, size: int64(len(pdf))},
		{path: big, size: int64(len(pdf)) + 2<<20, skip: "over 1 MiB"},
		{path: lfs, size: 63, skip: skipLFS},
		{path: link, size: int64(len(pdf))},
	}
	if len(got) != len(want) {
		t.Fatalf("found %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := find([]string{filepath.Join(dir, "missing")}, 1<<20); err == nil {
		t.Error("a missing folder is not an error")
	}
}
