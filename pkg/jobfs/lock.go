package jobfs

import (
	"context"
	"errors"
	"os"
	"path"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Lock takes the job's exclusive lock without waiting; a held lock is
// pipeerr.Busy. See LockWait.
func (m *Mount) Lock(j Job) (unlock func(), err error) {
	return m.lock(context.Background(), j, false)
}

// LockWait takes the job's exclusive lock, waiting while anyone else holds
// it, until ctx ends (then ctx's error). Every engine takes this lock for
// the whole of its work on a job: `efspipe run` and `replay`, each
// execution of `efspipe serve` (inbox executions included) from its first
// state to its last, and gc, which never waits and skips a held job.
//
// It is two locks, both released by unlock:
//   - within this process, a per-job token on the Mount: executions of one
//     server share a Mount;
//   - across processes and machines, an advisory flock on jobs/<job>/lock:
//     NFSv4 (EFS) supports it, and the kernel (or the NFS lease) releases it
//     when the holder dies, so a crashed run never leaves a stale lock.
//
// A flock held by another process is polled (from 5 ms up to 250 ms
// apart): a blocking flock could not be abandoned when ctx ends.
func (m *Mount) LockWait(ctx context.Context, j Job) (unlock func(), err error) {
	return m.lock(ctx, j, true)
}

// lockPoll bounds the wait between two tries of a flock another process holds.
const lockPoll = 250 * time.Millisecond

// lock takes j's lock; with wait it waits for another holder until ctx
// ends, without it a held lock is pipeerr.Busy.
func (m *Mount) lock(ctx context.Context, j Job, wait bool) (func(), error) {
	busy := func() error {
		return pipeerr.New(pipeerr.Busy, "job %s is being processed by another run", j.ID)
	}
	token, release := m.jobToken(j.ID)
	if !wait {
		select {
		case token <- struct{}{}:
		default:
			release()
			return nil, busy()
		}
	} else {
		select {
		case token <- struct{}{}:
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		}
	}
	drop := func() {
		<-token
		release()
	}
	pause := 5 * time.Millisecond
	for {
		f, err := m.flock(j)
		if err == nil {
			return func() {
				unix.Flock(int(f.Fd()), unix.LOCK_UN)
				f.Close()
				drop()
			}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			drop()
			return nil, err
		}
		if !wait {
			drop()
			return nil, busy()
		}
		select {
		case <-ctx.Done():
			drop()
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, lockPoll)
	}
}

// flock opens the job's lock file and takes its flock without waiting
// (unix.EWOULDBLOCK when another process holds it). A lock file removed
// while we waited for it (gc --all removes a whole job directory, lock
// included, while it holds the lock) would lock nothing the next locker
// sees, so the flock counts only if the file is still the one at the path.
func (m *Mount) flock(j Job) (*os.File, error) { return m.flockAt(j.Lock()) }

// flockAt is flock of the lock file rel, created with its directory if
// missing.
func (m *Mount) flockAt(rel string) (*os.File, error) {
	for range 10 {
		if err := m.MkdirAll(path.Dir(rel)); err != nil {
			return nil, err
		}
		f, err := m.root.OpenFile(rel, os.O_CREATE|os.O_RDWR, filePerm)
		if err != nil {
			return nil, classify(err, "lock", rel)
		}
		if err := m.own(f); err != nil {
			f.Close()
			return nil, classify(err, "lock", rel)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, err
			}
			return nil, classify(&os.PathError{Op: "flock", Path: rel, Err: err}, "lock", rel)
		}
		if same, err := m.isAt(f, rel); err != nil {
			f.Close()
			return nil, classify(err, "lock", rel)
		} else if same {
			return f, nil
		}
		f.Close()
	}
	return nil, pipeerr.New(pipeerr.IO, "lock %s: the lock file keeps being replaced", rel)
}

// LockFile takes an exclusive advisory lock (flock) on the file rel,
// creating it if missing, without waiting: one held by another process,
// or by another LockFile of this one, is pipeerr.Busy. As a job's lock,
// the kernel (or the NFS lease) releases it when its holder dies. It
// keeps a whole engine to one process (serve's sfn/ on a mount).
func (m *Mount) LockFile(rel string) (unlock func(), err error) {
	if err := CheckPath(rel); err != nil {
		return nil, err
	}
	f, err := m.flockAt(rel)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return nil, pipeerr.New(pipeerr.Busy, "%s is locked by another process", rel)
	}
	if err != nil {
		return nil, err
	}
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}

// isAt reports whether the open file f is the file at rel.
func (m *Mount) isAt(f *os.File, rel string) (bool, error) {
	held, err := f.Stat()
	if err != nil {
		return false, err
	}
	now, err := m.root.Lstat(rel)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	a, ok1 := held.Sys().(*syscall.Stat_t)
	b, ok2 := now.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && a.Dev == b.Dev && a.Ino == b.Ino, nil
}

// jobLock is the in-process part of a job's lock: a token that one holder
// at a time puts in ch.
type jobLock struct {
	ch   chan struct{}
	refs int
}

// jobToken returns the job's token channel, and a release to call once
// the caller neither holds nor waits for it (the entry goes when nobody
// does, so a long-lived server keeps none for finished jobs).
func (m *Mount) jobToken(id string) (chan struct{}, func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.locks[id]
	if l == nil {
		l = &jobLock{ch: make(chan struct{}, 1)}
		m.locks[id] = l
	}
	l.refs++
	return l.ch, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if l.refs--; l.refs == 0 {
			delete(m.locks, id)
		}
	}
}
