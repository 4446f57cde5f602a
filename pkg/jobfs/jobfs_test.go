package jobfs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/efspipe/efspipe/internal/pipetest"
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
	// A write whose name is the planted link replaces the link (rename
	// never follows its target's final component): the file outside keeps
	// its bytes. One whose name is a directory fails, the directory kept.
	if err := m.WriteFile(job.Source(), []byte("the source")); err != nil {
		t.Fatalf("write over a planted link: %v", err)
	}
	if b, _ := os.ReadFile(secret); string(b) != "outside the mount" {
		t.Errorf("the file outside now holds %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(m.Dir(), job.Source())); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the planted link was not replaced by a file: %v", err)
	}
	os.Mkdir(filepath.Join(m.Dir(), job.Dir(), "adir"), 0o750)
	if err := m.WriteFile(job.Dir()+"/adir", []byte("x")); err == nil {
		t.Error("a file replaced a directory")
	} else if fi, err := os.Lstat(filepath.Join(m.Dir(), job.Dir(), "adir")); err != nil || !fi.IsDir() {
		t.Errorf("the directory is gone: %v", err)
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

// A named pipe or a directory where the pipeline reads a file is refused at
// once as BadRequest, naming what it is: opening a pipe for reading blocks
// until a writer comes, which held a replay and its job lock for good.
func TestReadsOnlyRegularFiles(t *testing.T) {
	m, _ := open(t)
	job, _ := jobfs.NewJob("j1")
	if err := m.MkdirAll(job.Checkpoints()); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(m.Dir(), job.Dir())
	if err := unix.Mkfifo(filepath.Join(dir, "source.pdf"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Were the pipe opened as before, ReadFile would block here until the
	// test binary's -timeout.
	for rel, want := range map[string]string{job.Source(): "a FIFO", job.Checkpoints(): "a directory"} {
		_, rerr := m.ReadFile(rel)
		f, oerr := m.Open(rel)
		if oerr == nil {
			f.Close()
		}
		for op, err := range map[string]error{"ReadFile": rerr, "Open": oerr} {
			if pipeerr.KindOf(err) != pipeerr.BadRequest || !strings.Contains(err.Error(), want) {
				t.Errorf("%s(%s): %v, want BadRequest naming %s", op, rel, err, want)
			}
		}
	}
	// A regular file still reads whole, an empty one too.
	for _, data := range [][]byte{nil, []byte("x"), make([]byte, 1<<20+3)} {
		if err := m.WriteFile(job.Dir()+"/f", data); err != nil {
			t.Fatal(err)
		}
		if got, err := m.ReadFile(job.Dir() + "/f"); err != nil || len(got) != len(data) {
			t.Errorf("ReadFile of %d bytes: %d, %v", len(data), len(got), err)
		}
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

// An append-only log grows durably, a torn record is cut, and only a
// regular file inside the mount is appended to.
func TestAppend(t *testing.T) {
	m, outside := open(t)
	if err := m.MkdirAll("log"); err != nil {
		t.Fatal(err)
	}
	var off int64
	for _, rec := range []string{"one\n", "two\n", "thr"} {
		if err := m.Append("log/l", off, []byte(rec)); err != nil {
			t.Fatal(err)
		}
		off += int64(len(rec))
	}
	if got, err := m.ReadFile("log/l"); err != nil || string(got) != "one\ntwo\nthr" {
		t.Fatalf("after three appends: %q %v", got, err)
	}
	if err := m.Truncate("log/l", 8); err != nil {
		t.Fatal(err)
	}
	if err := m.Append("log/l", 8, []byte("three\n")); err != nil {
		t.Fatal(err)
	}
	if got, err := m.ReadFile("log/l"); err != nil || string(got) != "one\ntwo\nthree\n" {
		t.Fatalf("after the cut: %q %v", got, err)
	}
	// An append that failed part-way left "fo" past the log's end: the
	// next, at the same offset, cuts it.
	os.WriteFile(filepath.Join(m.Dir(), "log/l"), []byte("one\ntwo\nthree\nfo"), 0o640)
	if err := m.Append("log/l", 14, []byte("four\n")); err != nil {
		t.Fatal(err)
	}
	if got, err := m.ReadFile("log/l"); err != nil || string(got) != "one\ntwo\nthree\nfour\n" {
		t.Fatalf("after a torn append: %q %v", got, err)
	}
	// A log removed or cut by someone else is not written where its
	// writer's offsets would find other records.
	os.WriteFile(filepath.Join(m.Dir(), "log/cut"), []byte("one\n"), 0o640)
	for rel, off := range map[string]int64{"log/cut": 8, "log/removed": 4} {
		if err := m.Append(rel, off, []byte("x\n")); !errors.Is(err, jobfs.ErrShort) || pipeerr.KindOf(err) != pipeerr.Internal {
			t.Errorf("Append(%s, %d): %v, want ErrShort", rel, off, err)
		}
	}
	if _, err := os.Stat(filepath.Join(m.Dir(), "log/removed")); !os.IsNotExist(err) {
		t.Fatalf("a removed log was begun again: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(m.Dir(), "log/l")); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode: %v %v", fi, err)
	}

	secret := filepath.Join(outside, "secret")
	os.WriteFile(secret, []byte("outside"), 0o600)
	os.Symlink(secret, filepath.Join(m.Dir(), "log/out"))
	unix.Mkfifo(filepath.Join(m.Dir(), "log/fifo"), 0o644)
	for rel, want := range map[string]pipeerr.Kind{"log/out": pipeerr.BadRequest, "log/fifo": pipeerr.BadRequest, "log": pipeerr.BadRequest, "../x": pipeerr.BadRequest, "gone/l": pipeerr.Internal} {
		// Were the FIFO opened write-only, Append would block here or
		// fail as a hiccup to retry.
		if err := m.Append(rel, 0, []byte("x\n")); pipeerr.KindOf(err) != want {
			t.Errorf("Append(%s): %v, want %s", rel, err, want)
		}
		if err := m.Truncate(rel, 0); pipeerr.KindOf(err) != want {
			t.Errorf("Truncate(%s): %v, want %s", rel, err, want)
		}
	}
	if b, _ := os.ReadFile(secret); string(b) != "outside" {
		t.Fatalf("the file outside the mount became %q", b)
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
	// Another mount of the same directory (another process, as far as the
	// lock is concerned: the flock alone excludes it).
	other, err := jobfs.Open(m.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Lock(job); pipeerr.KindOf(err) != pipeerr.Busy {
		t.Fatalf("lock through another mount: %v", err)
	}
	unlock()
	unlock2, err := m.Lock(job)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}

// LockWait waits for the holder, in this process or another, and gives up
// when its context ends.
func TestLockWait(t *testing.T) {
	for _, holder := range []string{"same mount", "another mount", "a bare flock"} {
		t.Run(holder, func(t *testing.T) {
			m, _ := open(t)
			job, _ := jobfs.NewJob("j1")
			var release func()
			switch holder {
			case "same mount":
				unlock, err := m.Lock(job)
				if err != nil {
					t.Fatal(err)
				}
				release = unlock
			case "another mount":
				other, err := jobfs.Open(m.Dir())
				if err != nil {
					t.Fatal(err)
				}
				defer other.Close()
				unlock, err := other.Lock(job)
				if err != nil {
					t.Fatal(err)
				}
				release = unlock
			default:
				if err := m.MkdirAll(job.Dir()); err != nil {
					t.Fatal(err)
				}
				f, err := os.OpenFile(filepath.Join(m.Dir(), job.Lock()), os.O_CREATE|os.O_RDWR, 0o640)
				if err != nil {
					t.Fatal(err)
				}
				if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
					t.Fatal(err)
				}
				release = func() { f.Close() }
			}
			// Given up when the context ends.
			ctx, cancel := context.WithCancel(t.Context())
			gaveUp := make(chan error, 1)
			go func() {
				_, err := m.LockWait(ctx, job)
				gaveUp <- err
			}()
			cancel()
			if err := <-gaveUp; !errors.Is(err, context.Canceled) {
				t.Fatalf("LockWait after cancel: %v", err)
			}
			// Taken once the holder lets go.
			got := make(chan func(), 1)
			go func() {
				unlock, err := m.LockWait(t.Context(), job)
				if err != nil {
					t.Error(err)
				}
				got <- unlock
			}()
			select {
			case <-got:
				t.Fatal("LockWait returned while the lock was held")
			case <-time.After(20 * time.Millisecond):
			}
			release()
			unlock := <-got
			if _, err := m.Lock(job); pipeerr.KindOf(err) != pipeerr.Busy {
				t.Fatalf("the waiter's lock does not exclude: %v", err)
			}
			unlock()
		})
	}
}

// A holder that removes the job directory, lock file included (gc --all),
// leaves the waiter a lock that still excludes: on the lock file now at the
// path, not on the removed one.
func TestLockFileReplaced(t *testing.T) {
	m, _ := open(t)
	job, _ := jobfs.NewJob("j1")
	unlock, err := m.Lock(job)
	if err != nil {
		t.Fatal(err)
	}
	other, err := jobfs.Open(m.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	got := make(chan func(), 1)
	go func() {
		u, err := other.LockWait(t.Context(), job)
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	time.Sleep(10 * time.Millisecond) // let it start waiting on the old lock file
	if err := m.RemoveAll(job.Dir()); err != nil {
		t.Fatal(err)
	}
	unlock()
	u := <-got
	defer u()
	third, err := jobfs.Open(m.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if _, err := third.Lock(job); pipeerr.KindOf(err) != pipeerr.Busy {
		t.Fatalf("the waiter holds a removed lock file: a third locker got %v", err)
	}
}

// With an Owner, everything created on the mount is that user's: a job
// written by root is then usable by the access point's user.
func TestOwner(t *testing.T) {
	pipetest.NeedsRoot(t, "giving files to another user")
	dir := filepath.Join(t.TempDir(), "mount")
	owner := jobfs.Owner{UID: 4242, GID: 4343}
	m, err := jobfs.OpenWith(dir, jobfs.Options{Owner: &owner})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	job, _ := jobfs.NewJob("j1")
	unlock, err := m.Lock(job)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if err := m.WriteFile("jobs/j1/ckpt/a/b.json", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := m.MkdirAll("jobs/j1/split/deep"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"jobs", "jobs/j1", "jobs/j1/lock", "jobs/j1/ckpt", "jobs/j1/ckpt/a", "jobs/j1/ckpt/a/b.json", "jobs/j1/split", "jobs/j1/split/deep"} {
		got, err := jobfs.DirOwner(filepath.Join(dir, p))
		if err != nil || got != owner {
			t.Errorf("%s: owner %+v %v, want %+v", p, got, err, owner)
		}
	}
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

// Jobs lists the job directories under jobs/, and nothing else found there.
func TestJobs(t *testing.T) {
	m, outside := open(t)
	if jobs, err := m.Jobs(); err != nil || len(jobs) != 0 {
		t.Fatalf("a new mount: %v, %v", jobs, err)
	}
	for _, id := range []string{"j2", "j1"} {
		if err := m.MkdirAll(jobfs.Job{ID: id}.Dir()); err != nil {
			t.Fatal(err)
		}
	}
	jobs := filepath.Join(m.Dir(), jobfs.JobsDir)
	os.WriteFile(filepath.Join(jobs, "j3"), nil, 0o640)
	os.Mkdir(filepath.Join(jobs, "not a job"), 0o750)
	os.Symlink(outside, filepath.Join(jobs, "j4"))
	got, err := m.Jobs()
	if err != nil || len(got) != 2 || got[0].ID != "j1" || got[1].ID != "j2" {
		t.Fatalf("Jobs() = %v, %v; want j1, j2", got, err)
	}
}

// A directory planted where a file is written, or a file where a directory
// is needed, fails at once as BadRequest: it was retried as a transient I/O
// error for two minutes before.
func TestObstaclesAreNotTransient(t *testing.T) {
	m, _ := open(t)
	job, _ := jobfs.NewJob("j1")
	if err := m.MkdirAll(job.Dir() + "/zst/shard-0000.zst/x"); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteFile(job.Dir()+"/zst/shard-0000.zst", []byte("frames")); pipeerr.KindOf(err) != pipeerr.BadRequest {
		t.Errorf("write over a directory: %v (%s), want BadRequest", err, pipeerr.KindOf(err))
	}
	if err := m.WriteFile(job.Dir()+"/split", []byte("a file")); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteFile(job.Dir()+"/split/shard-0000.pages", []byte("recipes")); pipeerr.KindOf(err) != pipeerr.BadRequest {
		t.Errorf("write under a file: %v (%s), want BadRequest", err, pipeerr.KindOf(err))
	}
}

// IsTemp knows the names Create gives writes in progress, and no others.
func TestIsTemp(t *testing.T) {
	m, _ := open(t)
	w, err := m.Create("jobs/j/ckpt/split-0000.json")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	ents, err := m.ReadDir("jobs/j/ckpt")
	if err != nil || len(ents) != 1 || !jobfs.IsTemp(ents[0].Name()) {
		t.Fatalf("the temp file of a write in progress: %v %v", ents, err)
	}
	for _, name := range []string{"split-0000.json", ".split-0000.json", "x.tmp-0123456789ab", ".tmp-0123456789ab",
		".a.tmp-0123456789a", ".a.tmp-0123456789abc", ".a.tmp-0123456789ag", ".a.json.tmp", ".a.1234.tmp"} {
		if jobfs.IsTemp(name) {
			t.Errorf("IsTemp(%q)", name)
		}
	}
}

// Writes to many directories hold a bounded number of descriptors: a
// directory handle dropped from the mount's cache is closed once its last
// user is done, not left to the garbage collector. Serve starting 2,000
// executions at once (a directory each) held 1,915 descriptors until the
// next collection, and under `ulimit -n 256` 219 of 500 StartExecution
// calls failed with "too many open files".
func TestDirectoryHandlesAreBounded(t *testing.T) {
	m, _ := open(t)
	// With the collector off, only an explicit Close releases a
	// descriptor; the bound then holds whenever the collector runs.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skipf("descriptors not countable here: %v", err)
		}
		return len(ents)
	}
	before := fds()
	for i := range 300 {
		rel := fmt.Sprintf("sfn/executions/%04d/history.jsonl", i)
		if err := m.WriteFile(rel, []byte("{}\n")); err != nil {
			t.Fatal(err)
		}
		if err := m.Append(rel, 3, []byte("{}\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := m.ReadFile(rel); err != nil {
			t.Fatal(err)
		}
	}
	// Two descriptors (the root and the directory) for each handle held.
	if got, limit := fds()-before, 2*jobfs.MaxDirs+4; got > limit {
		t.Errorf("%d descriptors held after writing 300 directories, want at most %d", got, limit)
	}
}
