package pipetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/efspipe/efspipe/internal/testenv"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/zpage"
)

// NeedsTool is testenv.NeedsTool: the path of the tool name, or a skip
// (a failure in CI) when it is not installed.
func NeedsTool(t testing.TB, name string) string {
	t.Helper()
	return testenv.NeedsTool(t, name)
}

// Verify checks <out>/<job>/ completely and returns its manifest. With
// deep, every page also goes through the zstd CLI and qpdf when present.
func Verify(t testing.TB, out, job string, deep bool) manifest.Published {
	t.Helper()
	dir := filepath.Join(out, job)
	raw, err := os.ReadFile(filepath.Join(dir, manifest.File))
	if err != nil {
		t.Fatalf("published manifest: %v", err)
	}
	var m manifest.Published
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if m.Job != job || m.Codec != "zstd" || len(m.Pages) != m.Source.Pages || m.Source.Pages == 0 {
		t.Fatalf("manifest header wrong: job %q codec %q pages %d/%d", m.Job, m.Codec, len(m.Pages), m.Source.Pages)
	}
	var dict []byte
	if m.Dictionary != "" {
		dict, err = os.ReadFile(filepath.Join(dir, m.Dictionary))
		if err != nil || sum(dict) != m.DictionarySHA256 || int64(len(dict)) != m.DictionaryBytes {
			t.Fatalf("dictionary %s does not match the manifest (err %v)", m.Dictionary, err)
		}
	}
	dec, err := zpage.NewDecoder(dict, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	total := m.DictionaryBytes
	zstdCLI, _ := exec.LookPath("zstd")
	qpdf, _ := exec.LookPath("qpdf")
	for i, p := range m.Pages {
		if p.Number != i+1 || p.Path != manifest.PagePath(i+1) {
			t.Fatalf("page %d: entry %+v", i+1, p)
		}
		frame, err := os.ReadFile(filepath.Join(dir, p.Path))
		if err != nil || int64(len(frame)) != p.Bytes {
			t.Fatalf("page %d: published file %v, %d bytes, manifest says %d", p.Number, err, len(frame), p.Bytes)
		}
		total += p.Bytes
		pdf, err := dec.Decode(frame)
		if err != nil || sum(pdf) != p.SHA256 || int64(len(pdf)) != p.PDFBytes {
			t.Fatalf("page %d does not restore to the manifest's checksum (err %v)", p.Number, err)
		}
		if !deep {
			continue
		}
		if zstdCLI != "" {
			args := []string{"-d", "-c", "-q"}
			if dict != nil {
				args = append(args, "-D", filepath.Join(dir, m.Dictionary))
			}
			got, err := exec.Command(zstdCLI, append(args, filepath.Join(dir, p.Path))...).Output()
			if err != nil || !bytes.Equal(got, pdf) {
				t.Fatalf("page %d: zstd -d does not restore it: %v", p.Number, err)
			}
		}
		if qpdf != "" {
			CheckPDF(t, qpdf, pdf, 1)
		}
	}
	if total != m.Bytes {
		t.Fatalf("manifest bytes %d, files add up to %d", m.Bytes, total)
	}
	return m
}

// CheckPDF runs `qpdf --check` on pdf and checks its page count.
func CheckPDF(t testing.TB, qpdf string, pdf []byte, pages int) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "page.pdf")
	if err := os.WriteFile(f, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(qpdf, "--check", f).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	out, err := exec.Command(qpdf, "--show-npages", f).Output()
	if err != nil || strings.TrimSpace(string(out)) != strconv.Itoa(pages) {
		t.Fatalf("qpdf --show-npages: %q, want %d (err %v)", out, pages, err)
	}
}

// Tree maps every file under dir (slash paths) to its SHA-256: two runs
// that must be byte-identical have equal trees.
func Tree(t testing.TB, dir string) map[string]string {
	t.Helper()
	tree := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		tree[filepath.ToSlash(rel)] = sum(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// SameTree fails the test where two trees differ.
func SameTree(t testing.TB, want, got map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s differs (want %.12s, got %.12s)", k, v, got[k])
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s is extra", k)
		}
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Tool is the path of an installed tool, or "" (for optional
// extra checks inside a test that runs anyway).
func Tool(name string) string {
	p, _ := exec.LookPath(name)
	return p
}
