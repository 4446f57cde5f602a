package checkpoint_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobfs"
)

// WriteFile writes a file and its record at once, so a crash can leave the
// record durable and the file not: the record must then count for nothing.
// Each case is the state such a crash leaves: no file, the temp file never
// renamed, an older run's file under the name.
func TestRecordWithoutItsFileIsRedone(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash func(t *testing.T, dir string)
		want  string
	}{
		{"file never created", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "shard.bin")) }, "file missing"},
		{"temp file never renamed", func(t *testing.T, dir string) {
			os.Rename(filepath.Join(dir, "shard.bin"), filepath.Join(dir, ".shard.bin.tmp-0123456789ab"))
		}, "file missing"},
		{"an earlier run's file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "shard.bin"), []byte("an earlier run's shard, another length"), 0o644)
		}, "size 38, recorded 16"},
		{"an earlier run's file of the same size", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "shard.bin"), []byte("EARLIER SHARD!!!"), 0o644)
		}, "checksum differs from the record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			m, err := jobfs.Open(root)
			if err != nil {
				t.Fatal(err)
			}
			job, err := jobfs.NewJob("f-crash")
			if err != nil {
				t.Fatal(err)
			}
			j := checkpoint.Open(m, job)
			rel := job.Dir() + "/shard.bin"
			rec, err := j.WriteFile("split-0000", rel, []byte("this shard's 16b"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok, reason, err := j.Verify("split-0000"); err != nil || !ok || got.SHA256 != rec.SHA256 {
				t.Fatalf("the record does not verify after WriteFile: %v %q", err, reason)
			}
			tc.crash(t, filepath.Join(root, filepath.FromSlash(job.Dir())))
			if _, ok, reason, err := j.Verify("split-0000"); err != nil || ok || reason != tc.want {
				t.Errorf("Verify: ok=%v reason=%q err=%v, want not ok for %q", ok, reason, err, tc.want)
			}
			if _, _, ok, reason, err := j.ReadVerified("split-0000"); err != nil || ok || reason != tc.want {
				t.Errorf("ReadVerified: ok=%v reason=%q err=%v, want not ok for %q", ok, reason, err, tc.want)
			}
		})
	}
}

// A path outside the job is refused before anything is written.
func TestWriteFileOutsideTheJob(t *testing.T) {
	root := t.TempDir()
	m, err := jobfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := jobfs.NewJob("f-a")
	b, _ := jobfs.NewJob("f-b")
	if _, err := checkpoint.Open(m, a).WriteFile("split-0000", b.Dir()+"/x", []byte("x"), nil); err == nil {
		t.Fatal("a record of another job's file was written")
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(b.Dir()), "x")); err == nil {
		t.Error("the other job's file was written")
	}
}
