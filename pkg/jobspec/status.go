package jobspec

import (
	"encoding/json"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Job outcomes as status.json records them. A job with no status.json is
// in progress or was interrupted; the checkpoint journal says how far it got.
const (
	Succeeded = "SUCCEEDED"
	Failed    = "FAILED"
)

// Status is jobs/<job>/status.json, written by finalize, or by ingest
// when it refuses a new job's input (InvalidInput.*).
type Status struct {
	Job      string `json:"job"`
	Status   string `json:"status"`
	Error    string `json:"error,omitempty"`
	Cause    string `json:"cause,omitempty"`
	Manifest string `json:"manifest,omitempty"`
	Pages    int    `json:"pages,omitempty"`
	Bytes    int64  `json:"bytes,omitempty"`
	// Source is set only on a job ingest refused before it saved the job's
	// settings (job.json), which otherwise name the source: without it a
	// refused file would be listed without a name.
	Source *Source `json:"source,omitempty"`
}

// SaveStatus writes a job's outcome durably.
func SaveStatus(m *jobfs.Mount, j jobfs.Job, s Status) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return pipeerr.Wrap(pipeerr.Internal, err, "status")
	}
	return m.WriteFile(j.Status(), append(b, '\n'))
}

// LoadStatus reads a job's outcome; the error wraps fs.ErrNotExist when the
// job has none yet.
func LoadStatus(m *jobfs.Mount, j jobfs.Job) (Status, error) {
	b, err := m.ReadFile(j.Status())
	if err != nil {
		return Status{}, err
	}
	var s Status
	if err := json.Unmarshal(b, &s); err != nil {
		return Status{}, pipeerr.Wrap(pipeerr.Internal, err, "%s", j.Status())
	}
	return s, nil
}
