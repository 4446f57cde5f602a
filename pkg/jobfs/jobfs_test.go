package jobfs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

func open(t *testing.T) (*jobfs.Mount, string) {
	t.Helper()
	dir := t.TempDir()
	m, err := jobfs.Open(filepath.Join(dir, "mount"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, dir
}

// Every way a state input can try to leave the mount is refused.
func TestPathsCannotEscape(t *testing.T) {
	m, outside := open(t)
	secret := filepath.Join(outside, "secret")
	os.WriteFile(secret, []byte("outside the mount"), 0o600)
	job, _ := jobfs.NewJob("j1")
	if err := m.MkdirAll(job.Dir()); err != nil {
		t.Fatal(err)
	}
	// A symlink planted in the job directory, pointing out.
	os.Symlink(secret, filepath.Join(m.Dir(), job.Dir(), "source.pdf"))
	os.Symlink(outside, filepath.Join(m.Dir(), job.Dir(), "split"))
	for _, p := range []string{
		"../secret", "/etc/passwd", job.Dir() + "/../../../secret", "", "jobs/j1/./x",
		`jobs\j1`, job.Source(), job.Dir() + "/split/secret",
	} {
		if b, err := m.ReadFile(p); err == nil {
			t.Errorf("ReadFile(%q) read %q", p, b)
		} else if k := pipeerr.KindOf(err); k != pipeerr.BadRequest {
			t.Errorf("ReadFile(%q): kind %s (%v), want BadRequest", p, k, err)
		}
	}
	if err := m.WriteFile(job.Dir()+"/split/planted", []byte("x")); err == nil {
		t.Error("wrote through a symlink out of the mount")
	}
	if _, err := os.Stat(filepath.Join(outside, "planted")); err == nil {
		t.Error("a file appeared outside the mount")
	}
	for _, id := range []string{"a/b", "..", "", "x y", string(make([]byte, 81))} {
		if _, err := jobfs.NewJob(id); err == nil {
			t.Errorf("job ID %q accepted", id)
		}
	}
	if err := job.Owns("jobs/j2/source.pdf"); err == nil {
		t.Error("job j1 owns a path of j2")
	}
}

func TestAtomicWrite(t *testing.T) {
	m, _ := open(t)
	w, err := m.Create("jobs/j/out.bin")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("half"))
	if m.Exists("jobs/j/out.bin") {
		t.Fatal("visible before Commit")
	}
	w.Abort()
	ents, _ := m.ReadDir("jobs/j")
	if len(ents) != 0 {
		t.Fatalf("Abort left %d files", len(ents))
	}
	files := map[string][]byte{}
	for i := range 20 {
		files[filepath.Join("jobs/j", string(rune('a'+i)))] = []byte{byte(i)}
	}
	if err := m.WriteFiles(files); err != nil {
		t.Fatal(err)
	}
	for p, want := range files {
		if got, err := m.ReadFile(p); err != nil || string(got) != string(want) {
			t.Fatalf("%s: %v", p, err)
		}
	}
}

func TestLockIsExclusive(t *testing.T) {
	m, _ := open(t)
	job, _ := jobfs.NewJob("j1")
	unlock, err := m.Lock(job)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Lock(job); pipeerr.KindOf(err) != pipeerr.Busy {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	unlock2, err := m.Lock(job)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}

func FuzzCheckPath(f *testing.F) {
	for _, s := range []string{"jobs/a/source.pdf", "../x", "/abs", "a//b", "a/./b", `a\b`, "jobs/a/ckpt/ingest.json"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if jobfs.CheckPath(p) != nil {
			return
		}
		// Anything accepted is a clean, relative path below the root.
		if filepath.IsAbs(p) || !filepath.IsLocal(p) || filepath.Clean(p) != p {
			t.Fatalf("accepted %q", p)
		}
	})
}

// TestDirectoryReplacedUnderneath: the mount holds directory handles, and
// another process (gc, a --fresh run elsewhere) may remove and recreate a
// directory; reads and writes then reach the new directory, not the
// removed one the handle points at.
func TestDirectoryReplacedUnderneath(t *testing.T) {
	// Here "another process" acts at once; a mount trusts a directory it
	// used within the last second, so make it not.
	defer jobfs.TrustDirectoriesFor(0)()
	m, _ := open(t)
	if err := m.WriteFile("jobs/a/ckpt/x.json", []byte("old")); err != nil {
		t.Fatal(err)
	}
	if b, err := m.ReadFile("jobs/a/ckpt/x.json"); err != nil || string(b) != "old" {
		t.Fatalf("%q %v", b, err)
	}
	// Removed behind the mount's back, then written again: through the
	// same mount, and by "another process" (plain os calls).
	ckpt := filepath.Join(m.Dir(), "jobs", "a", "ckpt")
	if err := os.RemoveAll(filepath.Join(m.Dir(), "jobs", "a")); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteFile("jobs/a/ckpt/y.json", []byte("new")); err != nil {
		t.Fatalf("write after the directory was removed: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(ckpt, "y.json")); err != nil || string(b) != "new" {
		t.Fatalf("the write went elsewhere: %q %v", b, err)
	}
	os.RemoveAll(ckpt)
	os.MkdirAll(ckpt, 0o750)
	os.WriteFile(filepath.Join(ckpt, "z.json"), []byte("theirs"), 0o640)
	if b, err := m.ReadFile("jobs/a/ckpt/z.json"); err != nil || string(b) != "theirs" {
		t.Fatalf("read after the directory was recreated: %q %v", b, err)
	}
	if _, err := m.ReadFile("jobs/a/ckpt/missing.json"); pipeerr.KindOf(err) != pipeerr.Internal {
		t.Fatalf("a missing file: %v", err)
	}
	// Removed through the mount: its handles go with it.
	if err := m.RemoveAll("jobs/a"); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteFile("jobs/a/ckpt/x.json", []byte("again")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(ckpt, "x.json")); err != nil || string(b) != "again" {
		t.Fatalf("%q %v", b, err)
	}
}
