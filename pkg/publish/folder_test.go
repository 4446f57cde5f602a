package publish_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/publish"
)

// A local output folder is an os.Root: a symlink planted at <out>/<job> or
// <out>/<job>/pages that leads out of it is refused, and nothing is
// written, read or removed outside the folder.
func TestFolderConfined(t *testing.T) {
	for _, tc := range []struct{ name, link, rel string }{
		{"job folder", "job", "job/manifest.json"},
		{"pages folder", "job/pages", "job/pages/000001.pdf.zst"},
		{"page file", "job/pages/000001.pdf.zst", "job/pages/000001.pdf.zst"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, outside := t.TempDir(), t.TempDir()
			victim := filepath.Join(outside, "victim")
			if err := os.WriteFile(victim, []byte("not yours"), 0o644); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(out, filepath.FromSlash(tc.link))
			os.MkdirAll(filepath.Dir(link), 0o755)
			target := outside
			if filepath.Base(tc.rel) == filepath.Base(tc.link) {
				target = victim
			}
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			tgt, err := publish.Open(t.Context(), out, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tgt.Close()
			if _, _, err := tgt.Get(t.Context(), tc.rel); pipeerr.KindOf(err) != pipeerr.BadRequest {
				t.Errorf("Get through a symlink out: %v", err)
			}
			if _, _, err := tgt.Size(t.Context(), tc.rel); pipeerr.KindOf(err) != pipeerr.BadRequest {
				t.Errorf("Size through a symlink out: %v", err)
			}
			err = tgt.Put(t.Context(), tc.rel, []byte("page"))
			if tc.link == tc.rel {
				// A symlink in a page's place is replaced (the rename is
				// of the name), never written through.
				if fi, lerr := os.Lstat(link); err != nil || lerr != nil || !fi.Mode().IsRegular() {
					t.Errorf("Put over a symlinked page: %v, %v %v", err, fi, lerr)
				}
			} else if pipeerr.KindOf(err) != pipeerr.BadRequest {
				t.Errorf("Put through a symlink out: %v", err)
			}
			if err := tgt.Delete(t.Context(), tc.rel); pipeerr.KindOf(err) != pipeerr.BadRequest && tc.link != tc.rel {
				t.Errorf("Delete through a symlink out: %v", err)
			}
			if err := tgt.Sweep(t.Context(), "job"); err != nil && pipeerr.KindOf(err) != pipeerr.BadRequest {
				t.Errorf("Sweep: %v", err)
			}
			ents, _ := os.ReadDir(outside)
			if b, err := os.ReadFile(victim); len(ents) != 1 || err != nil || string(b) != "not yours" {
				t.Errorf("outside the folder: %v, victim %q %v", ents, b, err)
			}
		})
	}
	for _, rel := range []string{"../x", "/etc/x", "a/../../x", ""} {
		tgt, err := publish.Open(t.Context(), t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := tgt.Put(t.Context(), rel, nil); pipeerr.KindOf(err) != pipeerr.BadRequest {
			t.Errorf("Put %q: %v", rel, err)
		}
		tgt.Close()
	}
}

// Published files and folders have FileMode and DirMode whatever the
// umask, 000 included (which would make them world-writable) and 077.
func TestFolderModes(t *testing.T) {
	for _, mask := range []int{0, 0o077} {
		old := syscall.Umask(mask)
		out := filepath.Join(t.TempDir(), "out")
		tgt, err := publish.Open(t.Context(), out, nil)
		if err == nil {
			err = tgt.Put(t.Context(), "job/pages/000001.pdf.zst", []byte("page"))
			tgt.Close()
		}
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		for p, want := range map[string]os.FileMode{
			"":                         publish.DirMode,
			"job":                      publish.DirMode,
			"job/pages":                publish.DirMode,
			"job/pages/000001.pdf.zst": publish.FileMode,
		} {
			fi, err := os.Stat(filepath.Join(out, p))
			if err != nil || fi.Mode().Perm() != want {
				t.Errorf("umask %03o: %s has %v (%v), want %v", mask, p, fi.Mode().Perm(), err, want)
			}
		}
	}
}

// TestFolderNoCrossJobLinks: a symlink inside the output folder from one
// job's pages to another's is refused, not written through: one job's
// publication never overwrites another's.
func TestFolderNoCrossJobLinks(t *testing.T) {
	out := t.TempDir()
	os.MkdirAll(filepath.Join(out, "A", "pages"), 0o755)
	os.WriteFile(filepath.Join(out, "A", "pages", "000001.pdf.zst"), []byte("A's page"), 0o644)
	os.MkdirAll(filepath.Join(out, "B"), 0o755)
	if err := os.Symlink("../A/pages", filepath.Join(out, "B", "pages")); err != nil {
		t.Fatal(err)
	}
	tgt, err := publish.Open(t.Context(), out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if err := tgt.Put(t.Context(), "B/pages/000001.pdf.zst", []byte("B's page")); pipeerr.KindOf(err) != pipeerr.BadRequest {
		t.Errorf("Put through a link to another job: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "A", "pages", "000001.pdf.zst")); string(b) != "A's page" {
		t.Errorf("A's page is now %q", b)
	}
}

// A FIFO or a directory planted where a job's manifest (or any file
// finalize reads back) goes is refused at once as a bad request: a FIFO
// used to block the read forever, waiting for a writer that never comes,
// and a directory was an I/O error that finalize retried for minutes.
func TestFolderGetRefusesFIFOAndDirectory(t *testing.T) {
	out := t.TempDir()
	os.MkdirAll(filepath.Join(out, "fifo"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(out, "fifo", "manifest.json"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	os.MkdirAll(filepath.Join(out, "dir", "manifest.json"), 0o755)
	tgt, err := publish.Open(t.Context(), out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	for _, rel := range []string{"fifo/manifest.json", "dir/manifest.json"} {
		if _, found, err := tgt.Get(t.Context(), rel); pipeerr.KindOf(err) != pipeerr.BadRequest || found {
			t.Errorf("Get %s: found %v, %v; want a bad request", rel, found, err)
		}
	}
}

// A directory planted where a page or the manifest goes, and a file or a
// FIFO where a job's pages directory goes, are refused at once as a bad
// request, and left as they were: they used to be I/O errors (EEXIST,
// ENOTDIR) that finalize retried for minutes before failing.
func TestFolderPutRefusesWhatIsInTheWay(t *testing.T) {
	out := t.TempDir()
	os.MkdirAll(filepath.Join(out, "a", "pages", "000001.pdf.zst", "sub"), 0o755)
	os.MkdirAll(filepath.Join(out, "b", "manifest.json"), 0o755)
	os.MkdirAll(filepath.Join(out, "c"), 0o755)
	os.WriteFile(filepath.Join(out, "c", "pages"), []byte("c"), 0o644)
	os.MkdirAll(filepath.Join(out, "d"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(out, "d", "pages"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	tgt, err := publish.Open(t.Context(), out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	for _, rel := range []string{"a/pages/000001.pdf.zst", "c/pages/000001.pdf.zst", "d/pages/000001.pdf.zst"} {
		if err := tgt.Put(t.Context(), rel, []byte("page")); pipeerr.KindOf(err) != pipeerr.BadRequest {
			t.Errorf("Put %s: %v; want a bad request", rel, err)
		}
	}
	if err := tgt.Commit(t.Context(), "b/manifest.json", []byte("{}")); pipeerr.KindOf(err) != pipeerr.BadRequest {
		t.Errorf("Commit b/manifest.json over a directory: %v; want a bad request", err)
	}
	if _, _, err := tgt.Size(t.Context(), "c/pages/000001.pdf.zst"); pipeerr.KindOf(err) != pipeerr.BadRequest {
		t.Errorf("Size below a file: %v; want a bad request", err)
	}
	if fi, err := os.Stat(filepath.Join(out, "a", "pages", "000001.pdf.zst", "sub")); err != nil || !fi.IsDir() {
		t.Errorf("the planted directory is gone: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "c", "pages")); err != nil || string(b) != "c" {
		t.Errorf("the planted file is now %q, %v", b, err)
	}
}
