package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/publish"
	"github.com/efspipe/efspipe/pkg/reader"
)

// publication is what a finished job has at the output, checked against
// the manifest it was sealed with on the mount (not against the published
// one, which may be what changed).
type publication struct {
	// finished: the job succeeded and its sealed manifest verifies.
	finished bool
	status   jobspec.Status
	sealed   []byte
	problems []reader.Problem
	// none: nothing of the job is at this output (another --out, or the
	// whole publication removed): a run publishes it as a first time.
	none bool
}

// checkPublication checks a finished job's publication at out. A run
// checks that every file is there with its size (CheckSizes: one listing,
// milliseconds for a thousand pages); a replay (full) also restores every
// page and checks its SHA-256 (Verify: about 0.3 s for the 1,158 pages
// of the Octave manual, see BenchmarkVerify in pkg/reader).
func checkPublication(ctx context.Context, m *jobfs.Mount, out string, s3c *s3.Client, job jobfs.Job, full bool) (publication, error) {
	var pub publication
	st, err := jobspec.LoadStatus(m, job)
	if err != nil || st.Status != jobspec.Succeeded {
		return pub, nil
	}
	_, sealed, ok, _, err := checkpoint.Open(m, job).ReadVerified(checkpoint.Sealed)
	if err != nil || !ok {
		// The run redoes the seal and publishes from it.
		return pub, nil
	}
	pub.finished, pub.status, pub.sealed = true, st, sealed
	// The sealed manifest is this job's own: no bound on its pages.
	j, err := reader.Open(ctx, out, job.ID, &reader.Options{S3: s3c, Manifest: sealed, MaxPageBytes: 1 << 50})
	if errors.Is(err, fs.ErrNotExist) {
		pub.none = true
		return pub, nil
	}
	if err != nil {
		return pub, err
	}
	defer j.Close()
	check := j.CheckSizes
	if full {
		check = j.Verify
	}
	if pub.problems, err = check(ctx); err != nil {
		return pub, err
	}
	missing := 0
	for _, p := range pub.problems {
		if errors.Is(p.Err, fs.ErrNotExist) {
			missing++
		}
	}
	// Every file missing, the manifest, the pages and the dictionary (j
	// was opened on the sealed manifest: it is the one decoded).
	files := 1 + j.Len()
	if j.Manifest().Dictionary != "" {
		files++
	}
	pub.none = missing == len(pub.problems) && missing == files
	return pub, nil
}

// result is the finished job's outcome, as a run reports it.
func (p publication) result(out *publish.Target, job jobfs.Job) local.Result {
	return local.Result{Job: job.ID, Status: p.status.Status, Manifest: out.URL(job.ID + "/" + manifest.File), Pages: p.status.Pages, Bytes: p.status.Bytes}
}

// mend acts on a finished job's publication before a run: done when it
// verifies (and not fresh) or when only its manifest was at fault, which
// is put back from the sealed one. Otherwise the files at fault are
// removed, the manifest first, so that the run's finalize puts them
// again: from the intermediates on the mount when they are all there
// (byte for byte the first publication), else (redo) from the job's copy
// of its source with the job's own settings, which the deterministic
// pipeline turns into the same bytes, or with fresh from the source as
// this run gives it. It says on stderr what it republishes and from what.
func (p publication) mend(ctx context.Context, stderr io.Writer, m *jobfs.Mount, out *publish.Target, job jobfs.Job, fresh bool) (done, mended, redo bool, err error) {
	if !p.finished || p.none {
		return false, false, false, nil
	}
	if len(p.problems) == 0 {
		return !fresh, false, false, nil
	}
	what := fmt.Sprintf("job %s: its publication at %s does not verify (%s)", job.ID, out.URL(job.ID), summarize(p.problems))
	switch {
	case fresh:
		fmt.Fprintf(stderr, "%s; republishing it from the source (--fresh)\n", what)
	case len(p.problems) == 1 && p.problems[0].Path == manifest.File:
		fmt.Fprintf(stderr, "%s; republishing %s from the sealed manifest on the mount\n", what, manifest.File)
		return true, true, false, out.Commit(ctx, path.Join(job.ID, manifest.File), p.sealed)
	default:
		missing, err := intermediates(m, job)
		if err != nil {
			return false, false, false, err
		}
		if missing == "" {
			fmt.Fprintf(stderr, "%s; republishing it from the checkpoint\n", what)
		} else {
			redo = true
			fmt.Fprintf(stderr, "%s; %s, so the job is redone from its source with its own settings\n", what, missing)
		}
	}
	if err := out.Delete(ctx, path.Join(job.ID, manifest.File)); err != nil {
		return false, false, false, err
	}
	// Finalize puts back what is missing, and every page when the
	// dictionary is (a page changed in place cannot be found without it).
	for _, pr := range p.problems {
		if pr.Path != manifest.File && pr.Path != "" {
			if err := out.Delete(ctx, path.Join(job.ID, pr.Path)); err != nil {
				return false, false, false, err
			}
		}
	}
	return false, true, redo, nil
}

// intermediates says what of what finalize publishes from (the plan, the
// shared objects, the dictionary, every compressed shard) is not on the
// mount or does not verify, for people; "" when all is there, so that
// nothing is recomputed.
func intermediates(m *jobfs.Mount, job jobfs.Job) (string, error) {
	const gone = "its intermediates are no longer on the mount (removed after publishing unless --keep, or by gc)"
	journal := checkpoint.Open(m, job)
	units := []string{checkpoint.Plan, checkpoint.Objects, checkpoint.Dictionary}
	plan, err := manifest.LoadPlan(m, job, job.SplitManifest())
	if err != nil {
		return gone, nil
	}
	for i := range plan.Shards {
		units = append(units, checkpoint.Unit(checkpoint.Compress, i))
	}
	for _, u := range units {
		if _, ok, reason, err := journal.Verify(u); err != nil {
			return "", err
		} else if !ok {
			return fmt.Sprintf("its intermediate %s on the mount does not verify (%s)", u, reason), nil
		}
	}
	return "", nil
}
