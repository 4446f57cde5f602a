package pipetest

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// NeedsRoot skips the test when it does not run as root, saying why; CI
// runs as root, so there the test runs.
func NeedsRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run as root: %s", why)
		}
		t.Skipf("needs root (%s); skipping (CI runs as root)", why)
	}
}

// Tmpfs mounts a tmpfs of size bytes on a fresh temp dir and returns it;
// it is unmounted when the test ends. With readOnly it is mounted
// read-only. Needs root.
func Tmpfs(t testing.TB, size int64, readOnly bool) string {
	t.Helper()
	NeedsRoot(t, "mounting a tmpfs")
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var flags uintptr
	if readOnly {
		flags = unix.MS_RDONLY
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", flags, "size="+strconv.FormatInt(size, 10)); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}
