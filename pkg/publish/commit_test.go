package publish

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// TestCommitSyncsTheJobOnce: Put syncs no directory; Commit syncs every
// directory of the job, below and above its manifest, before the manifest
// is in place (pages an earlier, killed process put included), and the
// manifest's own directory after it.
func TestCommitSyncsTheJobOnce(t *testing.T) {
	out := t.TempDir()
	// A page a killed process renamed into place: this process never put
	// into job/pages/old, but the manifest names what is there.
	if err := os.MkdirAll(filepath.Join(out, "job", "pages", "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(out, "job", "pages", "old", "000001.pdf.zst"), []byte("p1"), 0o644)
	tgt, err := Open(t.Context(), out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	manifest := filepath.Join(out, "job", "manifest.json")
	var synced []string
	var after []bool // whether the manifest was in place at each sync
	tgt.dir.synced = func(dir string) {
		_, err := os.Stat(manifest)
		synced, after = append(synced, dir), append(after, err == nil)
	}
	for _, rel := range []string{"job/pages/000002.pdf.zst", "job/pages/000003.pdf.zst", "job/dictionary.zstd"} {
		if err := tgt.Put(t.Context(), rel, []byte(rel)); err != nil {
			t.Fatal(err)
		}
	}
	if len(synced) != 0 {
		t.Errorf("Put synced %v; only Commit syncs directories", synced)
	}
	if err := tgt.Commit(t.Context(), "job/manifest.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if want := []string{"job", "job/pages", "job/pages/old", ".", "job"}; !slices.Equal(synced, want) {
		t.Errorf("Commit synced %v, want %v", synced, want)
	}
	if want := []bool{false, false, false, false, true}; !slices.Equal(after, want) {
		t.Errorf("manifest in place at each sync: %v, want %v (only at the last)", after, want)
	}
	if b, err := os.ReadFile(manifest); err != nil || string(b) != "{}" {
		t.Errorf("manifest %q, %v", b, err)
	}
}

// A Commit into a job folder nothing was put into yet creates it, and one
// through a symlinked job folder is refused before anything is synced.
func TestCommitNewAndLinkedFolders(t *testing.T) {
	out, outside := t.TempDir(), t.TempDir()
	tgt, err := Open(t.Context(), out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if err := tgt.Commit(t.Context(), "new/manifest.json", []byte("{}")); err != nil {
		t.Fatalf("Commit into a new job folder: %v", err)
	}
	if err := os.Symlink(outside, filepath.Join(out, "linked")); err != nil {
		t.Fatal(err)
	}
	var synced []string
	tgt.dir.synced = func(dir string) { synced = append(synced, dir) }
	err = tgt.Commit(t.Context(), "linked/manifest.json", []byte("{}"))
	if pipeerr.KindOf(err) != pipeerr.BadRequest || len(synced) != 0 {
		t.Errorf("Commit through a symlinked job folder: %v, synced %v", err, synced)
	}
	if _, err := os.Stat(filepath.Join(outside, "manifest.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a manifest was written outside the folder: %v", err)
	}
}
