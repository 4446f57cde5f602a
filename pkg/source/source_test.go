package source_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/source"
)

// Remember answers the resolved source from memory and any other from the
// opener it wraps.
func TestRemember(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pdf"), filepath.Join(dir, "b.pdf")
	os.WriteFile(a, []byte("%PDF-a"), 0o644)
	os.WriteFile(b, []byte("%PDF-b"), 0o644)
	obj, err := source.Files{}.Stat(t.Context(), a, "")
	if err != nil {
		t.Fatal(err)
	}
	o := source.Remember(source.Files{}, a, "", obj)
	// Changing a afterwards does not change the answer: it was resolved.
	os.WriteFile(a, []byte("%PDF-changed"), 0o644)
	if got, err := o.Stat(t.Context(), a, ""); err != nil || got != obj {
		t.Fatalf("remembered: %+v %v", got, err)
	}
	other, err := o.Stat(t.Context(), b, "")
	if err != nil || other.JobID == obj.JobID || other.Size != 6 {
		t.Fatalf("other source: %+v %v", other, err)
	}
}

// Only regular files are sources: a FIFO, a device or a directory is
// refused at once, without being read (an open of a FIFO would wait for a
// writer forever).
func TestOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.pdf")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.pdf")
	os.Symlink("fifo.pdf", link)
	for _, p := range []string{fifo, link, "/dev/zero", dir} {
		for _, f := range []source.Files{{}, {Confined: true, Roots: []string{"/"}}} {
			_, err := f.Stat(t.Context(), p, "")
			if k := pipeerr.KindOf(err); k != pipeerr.BadRequest || !strings.Contains(err.Error(), "only regular files") {
				t.Errorf("Stat(%s) with roots %v: %v (%s)", p, f.Roots, err, k)
			}
			if _, err := f.Open(t.Context(), source.Object{URI: p}); pipeerr.KindOf(err) != pipeerr.BadRequest {
				t.Errorf("Open(%s): %v", p, err)
			}
		}
	}
}

// With Roots, a source outside them, or leaving them through a symlink or
// "..", is refused without being read; one inside is read. No error quotes
// the file's content.
func TestRoots(t *testing.T) {
	base := t.TempDir()
	allowed, outside := filepath.Join(base, "inbox"), filepath.Join(base, "private")
	os.Mkdir(allowed, 0o755)
	os.Mkdir(outside, 0o700)
	secret := filepath.Join(outside, "shadow")
	os.WriteFile(secret, []byte("root:$6$secret-hash:19000:0:99999:7:::\n"), 0o600)
	inside := filepath.Join(allowed, "doc.pdf")
	os.WriteFile(inside, []byte("%PDF-1.7 inside"), 0o644)
	os.Symlink(secret, filepath.Join(allowed, "link.pdf"))
	os.Symlink("doc.pdf", filepath.Join(allowed, "alias.pdf"))
	f := source.Files{Confined: true, Roots: []string{allowed}}
	for _, p := range []string{secret, "/etc/shadow", filepath.Join(allowed, "link.pdf"), allowed + "/../private/shadow", "file://" + secret} {
		_, err := f.Stat(t.Context(), p, "")
		if pipeerr.KindOf(err) != pipeerr.BadRequest || !strings.Contains(err.Error(), "--allow-source") {
			t.Errorf("Stat(%s): %v, want BadRequest naming --allow-source", p, err)
		}
		if err != nil && (strings.Contains(err.Error(), "root:") || strings.Contains(err.Error(), "secret-hash")) {
			t.Errorf("the error quotes the file: %v", err)
		}
		if _, err := f.Open(t.Context(), source.Object{URI: p}); pipeerr.KindOf(err) != pipeerr.BadRequest {
			t.Errorf("Open(%s): %v", p, err)
		}
	}
	if _, err := (source.Files{Confined: true}).Stat(t.Context(), inside, ""); pipeerr.KindOf(err) != pipeerr.BadRequest {
		t.Errorf("confined to no root: %v", err)
	}
	for _, p := range []string{inside, filepath.Join(allowed, "alias.pdf")} {
		obj, err := f.Stat(t.Context(), p, "")
		if err != nil || obj.Size != 15 || obj.URI != p {
			t.Errorf("Stat(%s) inside the root: %+v %v", p, obj, err)
		}
	}
}

// Hashing a source stops when its context ends.
func TestStatCancelled(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.pdf")
	os.WriteFile(p, make([]byte, 1<<20), 0o644)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := (source.Files{}).Stat(ctx, p, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stat after cancel: %v", err)
	}
}

// Inside the mount, sources are read through its os.Root: a symlink
// planted there is refused, and a job's copy must hash to its own job.
func TestOnMount(t *testing.T) {
	m, err := jobfs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	data := []byte("%PDF-1.7 the job's source")
	sum := sha256.Sum256(data)
	job := jobfs.Job{ID: jobfs.FileJobID(hex.EncodeToString(sum[:]))}
	if err := m.WriteFile(job.Source(), data); err != nil {
		t.Fatal(err)
	}
	o := source.OnMount(m, source.Files{})
	copyPath := filepath.Join(m.Dir(), job.Source())
	obj, err := o.Stat(t.Context(), copyPath, "")
	if err != nil || obj.JobID != job.ID {
		t.Fatalf("the job's copy: %+v %v", obj, err)
	}
	outside := filepath.Join(t.TempDir(), "outside.pdf")
	os.WriteFile(outside, []byte("%PDF-1.7 somebody else's"), 0o644)
	other := jobfs.Job{ID: "f-0000000000000000000000000000000000000000"}
	m.MkdirAll(other.Dir())
	os.Symlink(outside, filepath.Join(m.Dir(), other.Source()))
	if _, err := o.Stat(t.Context(), filepath.Join(m.Dir(), other.Source()), ""); pipeerr.KindOf(err) != pipeerr.BadRequest {
		t.Errorf("a symlink out of the mount: %v", err)
	}
	os.Remove(filepath.Join(m.Dir(), other.Source()))
	m.WriteFile(other.Source(), data) // job f-000...'s name, another job's bytes
	if _, err := o.Stat(t.Context(), filepath.Join(m.Dir(), other.Source()), ""); pipeerr.KindOf(err) != pipeerr.BadRequest {
		t.Errorf("a copy that is another job's content: %v", err)
	}
	// Outside the mount, o is the opener it wraps.
	if obj, err := o.Stat(t.Context(), outside, ""); err != nil || obj.URI != outside {
		t.Errorf("outside the mount: %+v %v", obj, err)
	}
}

// TestImpossibleNames: a source path no file can have (a NUL byte, a
// component over NAME_MAX, a file used as a directory) is a bad request,
// not an I/O fault to retry.
func TestImpossibleNames(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.pdf")
	os.WriteFile(file, []byte("%PDF-1.4\n"), 0o644)
	for _, p := range []string{dir + "/a\x00.pdf", filepath.Join(dir, strings.Repeat("x", 300)+".pdf"), filepath.Join(file, "b.pdf")} {
		for _, f := range []source.Files{{}, {Confined: true, Roots: []string{dir}}} {
			if _, err := f.Stat(t.Context(), p, ""); pipeerr.KindOf(err) != pipeerr.BadRequest {
				t.Errorf("Stat(%q) with roots %v: %v (%s)", p, f.Roots, err, pipeerr.KindOf(err))
			}
		}
	}
}
