package local

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/manifest"
)

// Report is what the mount says about a job: works on a job in any state,
// including one whose run was killed.
type Report struct {
	Job    string         `json:"job"`
	Source jobspec.Source `json:"source"`
	Status string         `json:"status"` // SUCCEEDED, FAILED, or INCOMPLETE
	Error  string         `json:"error,omitempty"`
	Cause  string         `json:"cause,omitempty"`
	Pages  int            `json:"pages,omitempty"`
	Shards int            `json:"shards,omitempty"`
	// Settings are the ones the job runs with, fixed at ingest: a resumed
	// job keeps them (see jobspec.Settings).
	Settings jobspec.Settings `json:"settings"`
	Stages   []StageProgress  `json:"stages"`
	// Next says what `efspipe replay` will do.
	Next string `json:"next"`
}

// StageProgress counts a stage's units: done (recorded and verified),
// invalid (recorded but the file no longer verifies: will be redone).
type StageProgress struct {
	Stage   string `json:"stage"`
	Units   int    `json:"units"`
	Done    int    `json:"done"`
	Invalid int    `json:"invalid,omitempty"`
}

// Unknown is the error for a job whose settings (job.json) are not on m:
// one never run there, one ingest refused (its status says why), or one a
// kill interrupted in ingest before it saved them. The settings name the
// source, so only a run of the source can resume the last.
func Unknown(m *jobfs.Mount, job jobfs.Job) error {
	if st, ok := refusal(m, job); ok {
		return fmt.Errorf("job %s: ingest refused its source (%s: %s), so the mount has no copy of it to replay; run a corrected file, or the same one with other settings (efspipe run FILE)", job.ID, st.Error, st.Cause)
	}
	if m.Exists(job.Dir()) {
		return fmt.Errorf("job %s: interrupted in ingest before its settings were saved, so the mount does not say what its source is; run the source again (efspipe run FILE) to resume it", job.ID)
	}
	return fmt.Errorf("job %s: not found on the mount %s", job.ID, m.Dir())
}

// refusal is the outcome ingest recorded for a job it refused before
// saving its settings: a status without a job.json.
func refusal(m *jobfs.Mount, job jobfs.Job) (jobspec.Status, bool) {
	st, err := jobspec.LoadStatus(m, job)
	return st, err == nil && st.Status == jobspec.Failed && !m.Exists(job.Settings())
}

// Inspect reads and verifies a job's journal.
func Inspect(m *jobfs.Mount, job jobfs.Job) (Report, error) {
	spec, err := jobspec.Load(m, job)
	if errors.Is(err, fs.ErrNotExist) {
		st, ok := refusal(m, job)
		if !ok {
			return Report{}, Unknown(m, job)
		}
		// Refused in ingest: no settings, no record; the journal below
		// shows nothing done.
		spec, err = jobspec.Spec{Job: job.ID}, nil
		if st.Source != nil {
			spec.Source = *st.Source
		}
	}
	if err != nil {
		return Report{}, err
	}
	r := Report{Job: job.ID, Source: spec.Source, Status: "INCOMPLETE", Settings: spec.Settings}
	if st, err := jobspec.LoadStatus(m, job); err == nil {
		r.Status, r.Error, r.Cause = st.Status, st.Error, st.Cause
	}
	journal := checkpoint.Open(m, job)
	count := func(stage string, units []string) StageProgress {
		sp := StageProgress{Stage: stage, Units: len(units)}
		for _, u := range units {
			// Verify returns the record it found even when the file no
			// longer matches it; no record at all leaves rec empty.
			rec, ok, _, _ := journal.Verify(u)
			switch {
			case ok:
				sp.Done++
			case rec.Unit != "":
				sp.Invalid++
			}
		}
		return sp
	}
	r.Stages = append(r.Stages, count("ingest", []string{checkpoint.Ingest}))
	plan, err := manifest.LoadPlan(m, job, job.SplitManifest())
	if err == nil {
		r.Pages, r.Shards = plan.Pages, plan.Shards
		split := []string{checkpoint.Plan, checkpoint.Dictionary, checkpoint.Objects}
		var comp []string
		for i := range plan.Shards {
			split = append(split, checkpoint.Unit(checkpoint.Split, i))
			comp = append(comp, checkpoint.Unit(checkpoint.Compress, i))
		}
		r.Stages = append(r.Stages, count("split", split), count("compress", comp))
	} else {
		r.Stages = append(r.Stages, StageProgress{Stage: "split"}, StageProgress{Stage: "compress"})
	}
	r.Stages = append(r.Stages, count("checkpoint", []string{checkpoint.Sealed}), count("finalize", []string{checkpoint.Published}))
	r.Next = next(r)
	return r, nil
}

func next(r Report) string {
	switch r.Status {
	case jobspec.Succeeded:
		return "nothing: the job is published (replay re-checks every published page and republishes what does not verify)"
	case jobspec.Failed:
		return "run again only with a different input or settings: the job failed on its input (" + r.Error + ")"
	}
	var todo []string
	for _, s := range r.Stages {
		if s.Units == 0 || s.Done < s.Units {
			todo = append(todo, s.Stage)
		}
	}
	if len(todo) == 0 {
		return "finish publication"
	}
	return "skip verified work and redo: " + strings.Join(todo, ", ")
}
