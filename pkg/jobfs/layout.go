package jobfs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// JobsDir holds one directory per job; ConfigFile is the shared defaults
// every function sees.
const (
	JobsDir    = "jobs"
	ConfigFile = "config/efspipe.json"
)

var jobIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// CheckJobID refuses anything that is not a valid job ID. A job ID is also a
// Step Functions execution name and a single path component.
func CheckJobID(id string) error {
	if !jobIDRe.MatchString(id) {
		return pipeerr.New(pipeerr.BadRequest, "job ID %q is not 1-80 characters of [A-Za-z0-9_-]", id)
	}
	return nil
}

// FileJobID is the job ID of a local file: derived from its content only,
// so the same bytes are the same job wherever they are run from.
func FileJobID(sha256Hex string) string {
	return "f-" + sha256Hex[:40]
}

// FileJobIDOf is FileJobID of a hex SHA-256 given by a caller, or "" when
// it is not one.
func FileJobIDOf(sha256Hex string) string {
	if !sha256Re.MatchString(sha256Hex) {
		return ""
	}
	return FileJobID(sha256Hex)
}

var sha256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ObjectJobID is the job ID of an object in a bucket: derived from its
// identity (bucket, key, and version ID or else ETag), never from the key's
// text, so keys never become path components.
func ObjectJobID(bucket, key, version string) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s", bucket, key, version)))
	return "o-" + hex.EncodeToString(h[:20])
}

// Jobs are the jobs on the mount: the directories under JobsDir named as
// job IDs, in name order; none when JobsDir does not exist. Anything else
// there (a file, a symlink, another name) is not a job.
func (m *Mount) Jobs() ([]Job, error) {
	ents, err := m.ReadDir(JobsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var jobs []Job
	for _, e := range ents {
		if job, err := NewJob(e.Name()); err == nil && e.IsDir() {
			jobs = append(jobs, job)
		}
	}
	return jobs, nil
}

// Job is the layout of one job directory. All paths are relative to the
// mount root.
type Job struct{ ID string }

// NewJob validates id and returns its layout.
func NewJob(id string) (Job, error) {
	if err := CheckJobID(id); err != nil {
		return Job{}, err
	}
	return Job{ID: id}, nil
}

func (j Job) Dir() string           { return path.Join(JobsDir, j.ID) }
func (j Job) Settings() string      { return path.Join(j.Dir(), "job.json") }
func (j Job) Source() string        { return path.Join(j.Dir(), "source.pdf") }
func (j Job) SplitManifest() string { return path.Join(j.Dir(), "split", "manifest.json") }
func (j Job) Dictionary() string    { return path.Join(j.Dir(), "split", "dictionary.zdict") }
func (j Job) Objects() string       { return path.Join(j.Dir(), "split", "objects.bin") }
func (j Job) SplitShard(i int) string {
	return path.Join(j.Dir(), "split", fmt.Sprintf("shard-%04d.pages", i))
}
func (j Job) CompressedShard(i int) string {
	return path.Join(j.Dir(), "zst", fmt.Sprintf("shard-%04d.zst", i))
}
func (j Job) Sealed() string      { return path.Join(j.Dir(), "manifest.json") }
func (j Job) Checkpoints() string { return path.Join(j.Dir(), "ckpt") }
func (j Job) Status() string      { return path.Join(j.Dir(), "status.json") }
func (j Job) Lock() string        { return path.Join(j.Dir(), "lock") }

// Intermediates are the directories finalize removes after publication.
func (j Job) Intermediates() []string {
	return []string{path.Join(j.Dir(), "split"), path.Join(j.Dir(), "zst")}
}

// Owns reports whether rel is inside this job's directory: a state input
// naming a file of another job is refused.
func (j Job) Owns(rel string) error {
	if err := CheckPath(rel); err != nil {
		return err
	}
	dir := j.Dir() + "/"
	if len(rel) <= len(dir) || rel[:len(dir)] != dir {
		return pipeerr.New(pipeerr.BadRequest, "path %q is outside job %s", rel, j.ID)
	}
	return nil
}
