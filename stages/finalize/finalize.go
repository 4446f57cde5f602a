package finalize

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// In is the job and its sealed manifest, or, on the failure path, the job
// and the error the state machine caught.
type In struct {
	Job     string   `json:"job"`
	Sealed  string   `json:"sealed,omitempty"`
	Failure *Failure `json:"failure,omitempty"`
}

// JobID names the job in the stage's log lines (stage.Identified).
func (v In) JobID() string { return v.Job }

// Failure is what an ASL Catch puts at its ResultPath.
type Failure struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// Out is the job's outcome: the contract of `efspipe run --json`.
type Out struct {
	Job      string `json:"job"`
	Status   string `json:"status"`
	Manifest string `json:"manifest,omitempty"`
	Pages    int    `json:"pages,omitempty"`
	Bytes    int64  `json:"bytes,omitempty"`
	Error    string `json:"error,omitempty"`
	Cause    string `json:"cause,omitempty"`
}

// Output is where a job is published: publish.Target in the CLI (a folder,
// or a bucket through gocloud), s3direct.Target in the Lambda, which must
// not link gocloud to stay under the size budget.
type Output interface {
	// Put writes one object; it appears whole or not at all.
	Put(ctx context.Context, rel string, data []byte) error
	// Commit is Put for the manifest: it appears only once everything put
	// under its directory survives a crash (a folder syncs its
	// directories once here, not once per page).
	Commit(ctx context.Context, rel string, data []byte) error
	// Get reads one object; a missing one is found=false, not an error.
	Get(ctx context.Context, rel string) (data []byte, found bool, err error)
	// Size reports an object's size (a HEAD, not a download); a missing one
	// is found=false.
	Size(ctx context.Context, rel string) (n int64, found bool, err error)
	// Delete removes one object if present.
	Delete(ctx context.Context, rel string) error
	// Sweep removes what a killed writer left under rel (temp files in a
	// folder; nothing in a bucket, where a PUT is atomic).
	Sweep(ctx context.Context, rel string) error
	// URL is where rel is published, for people and the job's result.
	URL(rel string) string
}

// Stage is the finalize stage.
type Stage struct {
	Mount *jobfs.Mount
	Out   Output
	Log   *slog.Logger
}

// Handle publishes the job, or records its failure.
func (s *Stage) Handle(ctx context.Context, in In) (Out, error) {
	job, err := jobfs.NewJob(in.Job)
	if err != nil {
		return Out{}, err
	}
	if in.Failure != nil {
		return s.fail(job, *in.Failure)
	}
	if err := job.Owns(in.Sealed); err != nil {
		return Out{}, err
	}
	journal := checkpoint.Open(s.Mount, job)
	rec, sealedBytes, ok, _, err := journal.ReadVerified(checkpoint.Sealed)
	if err != nil {
		return Out{}, err
	} else if !ok || rec.Path != in.Sealed {
		return Out{}, pipeerr.New(pipeerr.Internal, "the sealed manifest of job %s does not verify; replay the job", job.ID)
	}
	sealed, err := manifest.DecodeSealed(job, in.Sealed, sealedBytes)
	if err != nil {
		return Out{}, err
	}
	out := Out{Job: job.ID, Status: jobspec.Succeeded, Manifest: s.Out.URL(path.Join(job.ID, manifest.File)), Pages: len(sealed.Pages), Bytes: sealed.Bytes}

	// Already published (a retry, a redrive, a duplicate trigger, a
	// replay): the manifest is written last, so finding it identical, and
	// the journal saying this job published it, means all was there; a
	// page or the dictionary removed or truncated since is found by its
	// size, and what is missing is put again (publishShard skips the
	// shards whose pages are all there). A manifest found without that
	// record (a new mount, a job collected whole by gc, --fresh) vouches
	// for nothing: every page is put again, the same bytes where it was
	// right.
	manifestRel := path.Join(job.ID, manifest.File)
	prev, found, err := s.Out.Get(ctx, manifestRel)
	if err != nil {
		return out, err
	}
	whole := found && string(prev) == string(sealedBytes)
	if whole {
		rec, recorded, err := journal.Get(checkpoint.Published)
		if err != nil {
			return out, err
		}
		whole = recorded && rec.SHA256 == checkpoint.Sum(sealedBytes)
	}
	if whole {
		if whole, err = s.whole(ctx, job, sealed); err != nil {
			return out, err
		}
	}
	if whole {
		// What a writer killed in another run of the job left (a folder's
		// temp files) goes too: the folder holds what the manifest names.
		if err := s.Out.Sweep(ctx, job.ID); err != nil {
			return out, err
		}
	}
	if !whole {
		if found && string(prev) != string(sealedBytes) {
			// Another publication of this job (other settings): withdrawn
			// before its pages are overwritten, so that no manifest names
			// pages it does not describe, even if this one fails midway.
			if err := s.Out.Delete(ctx, manifestRel); err != nil {
				return out, err
			}
		}
		if err := s.publish(ctx, job, journal, sealed, sealedBytes); err != nil {
			return out, err
		}
	}
	// Once published, the record, the status and the removal of the
	// intermediates depend on nothing but the publication: at once, each
	// a few round trips on EFS. A replay after a kill among them finds
	// the published manifest and only redoes these.
	var g errgroup.Group
	g.Go(func() error {
		return journal.Commit(checkpoint.Record{Unit: checkpoint.Published, Path: in.Sealed, Bytes: int64(len(sealedBytes)), SHA256: checkpoint.Sum(sealedBytes)})
	})
	g.Go(func() error {
		return jobspec.SaveStatus(s.Mount, job, jobspec.Status{Job: job.ID, Status: jobspec.Succeeded, Manifest: out.Manifest, Pages: out.Pages, Bytes: out.Bytes})
	})
	g.Go(func() error { return s.clean(job) })
	return out, g.Wait()
}

// publish writes the dictionary and every page, then the manifest.
func (s *Stage) publish(ctx context.Context, job jobfs.Job, journal *checkpoint.Journal, sealed manifest.Published, sealedBytes []byte) error {
	// Pages are checked by size before a shard is skipped; a page changed
	// in place is found only by restoring it, which needs the dictionary:
	// when the published dictionary is not there whole, every page is put
	// again with it.
	all := false
	if sealed.Dictionary != "" {
		n, found, err := s.Out.Size(ctx, path.Join(job.ID, sealed.Dictionary))
		if err != nil {
			return err
		}
		all = !found || n != sealed.DictionaryBytes
		dict, err := s.Mount.ReadFile(job.Dictionary())
		if err != nil {
			return err
		}
		if checkpoint.Sum(dict) != sealed.DictionarySHA256 {
			return pipeerr.New(pipeerr.Internal, "the dictionary differs from the sealed manifest; replay the job")
		}
		if err := s.Out.Put(ctx, path.Join(job.ID, sealed.Dictionary), dict); err != nil {
			return err
		}
	}
	plan, err := manifest.LoadPlan(s.Mount, job, job.SplitManifest())
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	// Object stores and NFS both reward many requests in flight: up to 8
	// shards at once, 8 pages each.
	g.SetLimit(8)
	for i := range plan.Shards {
		g.Go(func() error { return s.publishShard(gctx, job, journal, sealed, i, all) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := s.Out.Sweep(ctx, job.ID); err != nil {
		return err
	}
	return s.Out.Commit(ctx, path.Join(job.ID, manifest.File), sealedBytes)
}

// publishShard puts shard i's pages, unless (and not all) a publication
// record says an earlier attempt did and every page is still there with
// its size: a replay after a kill inside finalize then costs a HEAD per
// page, not a PUT.
// Pages are put concurrently; one record per shard once all are in.
func (s *Stage) publishShard(ctx context.Context, job jobfs.Job, journal *checkpoint.Journal, sealed manifest.Published, i int, all bool) error {
	rec, ok, err := journal.Get(checkpoint.Unit(checkpoint.Compress, i))
	if err != nil {
		return err
	}
	if !ok {
		return pipeerr.New(pipeerr.Internal, "compressed shard %d has no record; replay the job", i)
	}
	for _, it := range rec.Items {
		if p := sealed.Pages[it.Page-1]; p.Number != it.Page || p.Bytes != it.Len || p.SHA256 != it.PDFSHA256 {
			return pipeerr.New(pipeerr.Internal, "page %d differs from the sealed manifest; replay the job", it.Page)
		}
	}
	unit := checkpoint.Unit(checkpoint.Published, i)
	if done, ok, err := journal.Get(unit); err != nil {
		return err
	} else if ok && done.SHA256 == rec.SHA256 && !all {
		present, err := s.present(ctx, job, sealed, rec.Items)
		if err != nil || present {
			return err
		}
	}
	data, ok, reason := journal.Read(rec)
	if !ok {
		return pipeerr.New(pipeerr.Internal, "compressed shard %d does not verify (%s); replay the job", i, reason)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, it := range rec.Items {
		g.Go(func() error {
			return s.Out.Put(gctx, path.Join(job.ID, sealed.Pages[it.Page-1].Path), data[it.Offset:it.Offset+it.Len])
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return journal.Commit(checkpoint.Record{Unit: unit, Path: rec.Path, Bytes: rec.Bytes, SHA256: rec.SHA256})
}

// whole reports whether the dictionary and every page of sealed are
// published with their sizes: a stat (a HEAD on S3) each, 16 at once,
// stopping at the first one missing.
func (s *Stage) whole(ctx context.Context, job jobfs.Job, sealed manifest.Published) (bool, error) {
	files := make(map[string]int64, len(sealed.Pages)+1)
	if sealed.Dictionary != "" {
		files[sealed.Dictionary] = sealed.DictionaryBytes
	}
	for _, p := range sealed.Pages {
		files[p.Path] = p.Bytes
	}
	errMissing := errors.New("missing")
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for rel, want := range files {
		g.Go(func() error {
			n, found, err := s.Out.Size(gctx, path.Join(job.ID, rel))
			if err == nil && (!found || n != want) {
				err = errMissing
			}
			return err
		})
	}
	switch err := g.Wait(); {
	case errors.Is(err, errMissing):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// present reports whether every page of items is published with its size.
func (s *Stage) present(ctx context.Context, job jobfs.Job, sealed manifest.Published, items []checkpoint.Item) (bool, error) {
	for _, it := range items {
		n, found, err := s.Out.Size(ctx, path.Join(job.ID, sealed.Pages[it.Page-1].Path))
		if err != nil || !found || n != it.Len {
			return false, err
		}
	}
	return true, nil
}

// clean removes intermediates unless the job's settings keep them. The
// source, settings, journal and sealed manifest stay: they are small next to
// the split pages, and let status and replay explain the job later.
func (s *Stage) clean(job jobfs.Job) error {
	spec, err := jobspec.Load(s.Mount, job)
	if err != nil || spec.Settings.Keep {
		return err
	}
	// Each directory at once: removals within one directory go one at a
	// time (the kernel holds its lock), in different ones they overlap.
	var g errgroup.Group
	for _, dir := range job.Intermediates() {
		g.Go(func() error { return s.Mount.RemoveAll(dir) })
	}
	return g.Wait()
}

// fail records the job as failed with the caught error. Nothing was
// published: publication happens only after the seal, which a failed job
// never reaches.
func (s *Stage) fail(job jobfs.Job, f Failure) (Out, error) {
	st := jobspec.Status{Job: job.ID, Status: jobspec.Failed, Error: f.Error, Cause: CauseMessage(f.Cause)}
	if err := jobspec.SaveStatus(s.Mount, job, st); err != nil {
		return Out{}, err
	}
	return Out{Job: job.ID, Status: jobspec.Failed, Error: st.Error, Cause: st.Cause}, nil
}

// CauseMessage extracts the readable message from a Lambda error cause,
// which Step Functions delivers as the JSON error payload
// ({"errorMessage": ..., "errorType": ...}).
func CauseMessage(cause string) string {
	var p struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if strings.HasPrefix(strings.TrimSpace(cause), "{") && json.Unmarshal([]byte(cause), &p) == nil && p.ErrorMessage != "" {
		return p.ErrorMessage
	}
	return cause
}
