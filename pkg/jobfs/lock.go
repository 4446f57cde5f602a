package jobfs

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Lock takes the job's exclusive lock without waiting. It is an advisory
// flock on a file in the job directory: NFSv4 (EFS) supports it, and the
// kernel (or the NFS lease) releases it when the holder dies, so a crashed
// run never leaves a stale lock behind. A held lock is pipeerr.Busy.
func (m *Mount) Lock(j Job) (unlock func(), err error) {
	if err := m.MkdirAll(j.Dir()); err != nil {
		return nil, err
	}
	f, err := m.root.OpenFile(j.Lock(), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, classify(err, "lock", j.Lock())
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, pipeerr.New(pipeerr.Busy, "job %s is being processed by another run", j.ID)
		}
		return nil, classify(err, "lock", j.Lock())
	}
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}
