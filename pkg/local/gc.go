package local

import (
	"errors"
	"io/fs"
	"time"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Collected is what GC removed from one job.
type Collected struct {
	Job     string   `json:"job"`
	Status  string   `json:"status"`
	Removed []string `json:"removed"`
	Bytes   int64    `json:"bytes"`
}

// GCOptions say what GC collects.
type GCOptions struct {
	// OlderThan is how long a job must have been idle (no file in its
	// directory changed). Zero collects every idle job.
	OlderThan time.Duration
	// Now is the time idleness is measured at. Default: time.Now().
	Now time.Time
	// Whole also removes the whole directory of succeeded jobs.
	Whole bool
	// Running are jobs an execution of `efspipe serve` has not finished
	// (sfnlocal.RunningJobs): left alone even when nobody holds their lock
	// at this instant.
	Running map[string]bool
}

// GC removes the intermediates (split pages, compressed shards) of every
// job idle for longer than OlderThan: finished jobs whose finalize kept
// them, failed jobs, and abandoned runs that nobody replayed. With Whole,
// the directories of succeeded jobs go entirely. A job whose lock is held
// (a run, a replay, a serve execution is working on it) or whose execution
// is running is left alone. The source of a failed or unfinished job stays
// unless Whole is set and it succeeded: a failure never loses the input.
// Writes in progress that killed writers left anywhere in a collected job's
// directory go too, once older than orphanAge.
func GC(m *jobfs.Mount, opts GCOptions) ([]Collected, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	jobs, err := m.Jobs()
	if err != nil {
		return nil, err
	}
	var out []Collected
	for _, job := range jobs {
		if opts.Running[job.ID] {
			continue
		}
		idle, err := lastActivity(m, job.Dir())
		if err != nil {
			return out, err
		}
		if opts.Now.Sub(idle) < opts.OlderThan {
			continue
		}
		unlock, err := m.Lock(job)
		if pipeerr.KindOf(err) == pipeerr.Busy {
			continue
		} else if err != nil {
			return out, err
		}
		c := Collected{Job: job.ID, Status: Incomplete}
		if st, err := jobspec.LoadStatus(m, job); err == nil {
			c.Status = st.Status
		}
		targets := job.Intermediates()
		if opts.Whole && c.Status == jobspec.Succeeded {
			targets = []string{job.Dir()}
		}
		for _, t := range targets {
			if !m.Exists(t) {
				continue
			}
			n, _ := du(m, t)
			if err := m.RemoveAll(t); err != nil {
				unlock()
				return out, err
			}
			c.Removed, c.Bytes = append(c.Removed, t), c.Bytes+n
		}
		if err := sweepOrphans(m, job, opts.Now, &c); err != nil {
			unlock()
			return out, err
		}
		unlock()
		if len(c.Removed) > 0 {
			out = append(out, c)
		}
	}
	return out, nil
}

// orphanAge is how old a write in progress must be for gc to remove it:
// older than any stage call can run. A Lambda function runs for at most 900
// seconds (AWS Lambda developer guide, "Configure Lambda function timeout"),
// and a local engine holds the job's lock, which gc holds while it sweeps.
const orphanAge = 15 * time.Minute

// sweepOrphans removes the writes in progress (jobfs.IsTemp) that killed
// writers left in the job's directory, older than orphanAge: the records
// and settings next to the journal as much as the intermediates, which the
// job's own runs never look at again.
func sweepOrphans(m *jobfs.Mount, job jobfs.Job, now time.Time, c *Collected) error {
	return fs.WalkDir(m.Root().FS(), job.Dir(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return pipeerr.Wrap(pipeerr.IO, err, "gc %s", job.Dir())
		}
		if !d.Type().IsRegular() || !jobfs.IsTemp(d.Name()) {
			return nil
		}
		fi, err := d.Info()
		if err != nil || now.Sub(fi.ModTime()) < orphanAge {
			return nil
		}
		if err := m.RemoveAll(p); err != nil {
			return err
		}
		c.Removed, c.Bytes = append(c.Removed, p), c.Bytes+fi.Size()
		return nil
	})
}

// lastActivity is the newest modification time in a job directory (the
// lock file excluded: taking a lock is not work).
func lastActivity(m *jobfs.Mount, dir string) (time.Time, error) {
	var newest time.Time
	err := fs.WalkDir(m.Root().FS(), dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir+"/lock" {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
		return nil
	})
	return newest, err
}

func du(m *jobfs.Mount, dir string) (int64, error) {
	var n int64
	err := fs.WalkDir(m.Root().FS(), dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n, err
}
