package slowfs

import (
	"os"
	"testing"
)

// MountForTest mounts a slow passthrough of a fresh temp dir (back) on
// another (mnt) for t, unmounted when t ends. It skips t where this
// machine cannot mount FUSE (no /dev/fuse, not root); with CI set and
// /dev/fuse present, a failed mount fails t instead, so that CI never
// skips what it is there to run.
func MountForTest(t testing.TB, o Options) (s *FS, back, mnt string) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("slowfs: /dev/fuse is absent; FUSE mounts are not possible here")
	}
	if os.Geteuid() != 0 {
		t.Skip("slowfs: not root; DirectMount needs root (run the test as root)")
	}
	back, mnt = t.TempDir(), t.TempDir()
	s, err := Mount(back, mnt, o)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI with /dev/fuse present, but mounting failed: %v", err)
		}
		t.Skipf("slowfs: cannot mount FUSE here: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	return s, back, mnt
}
