package slowfs

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const testWrite = 20 * time.Millisecond // large against scheduler noise

func durableWrite(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

func TestPassthroughAndLatency(t *testing.T) {
	s, back, _ := MountForTest(t, Options{ReadLatency: testWrite / 3, WriteLatency: testWrite})
	mnt := s.Mountpoint

	t.Run("roundtrip", func(t *testing.T) {
		data := make([]byte, 3<<20+12345) // several 1 MiB chunks
		rand.Read(data)
		if err := os.MkdirAll(filepath.Join(mnt, "a", "b"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := durableWrite(filepath.Join(mnt, "a", "b"), "f", data); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{filepath.Join(mnt, "a", "b", "f"), filepath.Join(back, "a", "b", "f")} {
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("%s: read back %d bytes, differ from the %d written", p, len(got), len(data))
			}
		}
		ents, err := os.ReadDir(filepath.Join(mnt, "a", "b"))
		if err != nil || len(ents) != 1 || ents[0].Name() != "f" {
			t.Fatalf("ReadDir = %v, %v; want [f]", ents, err)
		}
	})

	t.Run("serial ops pay each latency", func(t *testing.T) {
		// create + write + fsync + rename: at least 4 write-class round trips.
		start := time.Now()
		if err := durableWrite(mnt, "one", []byte("hello")); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 3*testWrite {
			t.Fatalf("create+write+fsync+rename took %v, want ≥ %v (3× write latency)", d, 3*testWrite)
		}
	})

	t.Run("concurrent ops overlap", func(t *testing.T) {
		start := time.Now()
		if err := durableWrite(mnt, "solo", []byte("x")); err != nil {
			t.Fatal(err)
		}
		one := time.Since(start)

		// One directory per writer: the kernel serializes create, rename and
		// unlink within one directory (the parent's i_rwsem), on NFS as here.
		const n = 16
		for i := range n {
			if err := os.Mkdir(filepath.Join(mnt, fmt.Sprint("d", i)), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start = time.Now()
		for i := range n {
			wg.Go(func() {
				if err := durableWrite(filepath.Join(mnt, fmt.Sprint("d", i)), "c", []byte("x")); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		all := time.Since(start)
		t.Logf("one writer %v; %d concurrent writers %v", one, n, all)
		if all > time.Duration(n)*one/4 {
			t.Fatalf("%d concurrent writers took %v, want far less than %d× one (%v)", n, all, n, time.Duration(n)*one)
		}
	})
	t.Logf("ops: %s", s.StatsString())
}
