package local

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/manifest"
)

// Incomplete is the status of a job without an outcome (no status.json):
// running, or interrupted; its checkpoints say how far it got.
const Incomplete = "INCOMPLETE"

// Summary is one job on the mount, as `efspipe list` shows it.
type Summary struct {
	Job    string `json:"job"`
	Status string `json:"status"`          // SUCCEEDED, FAILED, or INCOMPLETE
	Error  string `json:"error,omitempty"` // a failed job's error name
	// Pages is the source's page count, once the split stage has counted it.
	Pages int `json:"pages,omitempty"`
	// Bytes is what a succeeded job published (the manifest's bytes).
	Bytes int64 `json:"bytes,omitempty"`
	// LastActivity is the newest modification time in the job's
	// directory, the lock file aside: when the job last did work (gc
	// measures idleness the same way).
	LastActivity time.Time `json:"last_activity,omitzero"`
	// Source is the source's name, for people (never a path).
	Source string `json:"source,omitempty"`
	// Problem says what in the job's directory could not be read; what it
	// would have told is missing from the summary.
	Problem string `json:"problem,omitempty"`
}

// List summarizes every job on the mount, most recently active first. It
// reads what each job records of itself (its settings, status and split
// plan) and verifies nothing, so it stays cheap on a mount of many jobs:
// Inspect verifies one job's checkpoints. A job that cannot be read is
// listed with its problem; only a jobs directory that cannot be listed is
// an error.
func List(m *jobfs.Mount) ([]Summary, error) {
	jobs, err := m.Jobs()
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(jobs))
	for _, job := range jobs {
		out = append(out, summarize(m, job))
	}
	slices.SortStableFunc(out, func(a, b Summary) int {
		if c := b.LastActivity.Compare(a.LastActivity); c != 0 {
			return c
		}
		return strings.Compare(a.Job, b.Job)
	})
	return out, nil
}

// summarize reads one job. Each file is read on its own, so one that
// cannot be read hides only what it holds; the first such is the
// summary's problem. A file not written yet is no problem.
func summarize(m *jobfs.Mount, job jobfs.Job) Summary {
	s := Summary{Job: job.ID, Status: Incomplete}
	var problem error
	note := func(err error) {
		if err != nil && !errors.Is(err, fs.ErrNotExist) && problem == nil {
			problem = err
		}
	}
	idle, err := lastActivity(m, job.Dir())
	if err == nil {
		s.LastActivity = idle
	}
	note(err)
	spec, err := jobspec.Load(m, job)
	if err == nil {
		s.Source = spec.Source.Name
	}
	note(err)
	st, err := jobspec.LoadStatus(m, job)
	if err == nil {
		s.Status, s.Error, s.Pages, s.Bytes = st.Status, st.Error, st.Pages, st.Bytes
		if s.Source == "" && st.Source != nil {
			// Refused in ingest, before job.json named the source.
			s.Source = st.Source.Name
		}
	}
	note(err)
	if s.Pages == 0 {
		// Not finished: the plan has the count once the job is split.
		// (A plan gc collected is no problem either.)
		if plan, err := manifest.LoadPlan(m, job, job.SplitManifest()); err == nil {
			s.Pages = plan.Pages
		}
	}
	if problem != nil {
		s.Problem = problem.Error()
	}
	return s
}
