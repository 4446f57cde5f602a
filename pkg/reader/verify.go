package reader

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"runtime"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Problem is one thing wrong with a publication.
type Problem struct {
	// Page is the page number, 0 for the manifest or the dictionary.
	Page int `json:"page,omitempty"`
	// Path is the file, relative to <out>/<job>/.
	Path string `json:"path"`
	// Kind is the error's pipeerr kind: Damaged for a file that is
	// missing, of another size or content than the manifest says; IO or
	// Storage.* when it could not be read.
	Kind pipeerr.Kind `json:"kind"`
	// Reason is one line, naming the page and the file.
	Reason string `json:"reason"`
	// Err is the error itself (errors.Is(Err, fs.ErrNotExist) for a
	// missing file).
	Err error `json:"-"`
}

func (p Problem) String() string { return p.Reason }

func problem(page int, path string, err error) Problem {
	return Problem{Page: page, Path: path, Kind: pipeerr.KindOf(err), Reason: err.Error(), Err: err}
}

// Verify re-checks the whole publication and returns every problem found,
// in order: the manifest (only with Options.Manifest: missing, or not
// byte-identical to it), the dictionary (its size and SHA-256 against the
// manifest's dictionary_bytes and dictionary_sha256), then page by page:
// the file is there with its size, its frame restores, and to exactly
// pdf_bytes with the manifest's SHA-256. With a dictionary that does not
// match, pages are checked for their presence and size only (nothing can
// restore them). No problem is an empty, non-nil slice.
//
// Pages are read concurrently, holding at most 64 MiB of restored pages
// (or the largest page, if larger) at once. The error is only for a
// cancelled ctx: a file that cannot be read is a Problem.
func (j *Job) Verify(ctx context.Context) ([]Problem, error) {
	probs := j.checkManifest(ctx)
	dec, err := j.decoder(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		probs = append(probs, problem(0, j.m.Dictionary, err))
		pages, err := j.sizes(ctx)
		return append(probs, pages...), err
	}
	perPage := make([]error, len(j.m.Pages))
	var largest int64
	for _, p := range j.m.Pages {
		largest = max(largest, p.PDFBytes+p.Bytes)
	}
	budget := semaphore.NewWeighted(max(64<<20, largest))
	g, gctx := errgroup.WithContext(ctx)
	// Reading is mostly waiting on a disk or a bucket: more pages in
	// flight than cores.
	g.SetLimit(4 * runtime.GOMAXPROCS(0))
	for i, p := range j.m.Pages {
		w := p.PDFBytes + p.Bytes
		if err := budget.Acquire(gctx, w); err != nil {
			break
		}
		g.Go(func() error {
			defer budget.Release(w)
			_, perPage[i] = j.page(gctx, dec, p)
			return gctx.Err()
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, err := range perPage {
		if err != nil {
			probs = append(probs, problem(i+1, j.m.Pages[i].Path, err))
		}
	}
	return probs, nil
}

// CheckSizes is the quick check: the manifest (as Verify), the dictionary
// and every page file there with the size the manifest gives, without
// reading any: one stat of the dictionary and one listing of pages/ (a
// directory read, or one LIST request per 1,000 pages in a bucket; where
// listing is refused, one stat or HEAD a page). The error is only for a
// cancelled ctx.
func (j *Job) CheckSizes(ctx context.Context) ([]Problem, error) {
	probs := j.checkManifest(ctx)
	if m := j.m; m.Dictionary != "" {
		n, err := j.st.size(ctx, m.Dictionary)
		switch {
		case err != nil:
			probs = append(probs, problem(0, m.Dictionary, err))
		case n != m.DictionaryBytes:
			probs = append(probs, problem(0, m.Dictionary, pipeerr.New(pipeerr.Damaged, "%s is %d bytes, the manifest says %d", m.Dictionary, n, m.DictionaryBytes)))
		}
	}
	pages, err := j.sizes(ctx)
	return append(probs, pages...), err
}

// sizes checks every page file's presence and size from one listing or,
// where listing is refused (a bucket policy without s3:ListBucket), from
// one stat or HEAD a page.
func (j *Job) sizes(ctx context.Context) ([]Problem, error) {
	found, err := j.st.list(ctx, "pages")
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	perPage := make([]error, len(j.m.Pages))
	if err != nil {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(16)
		for i, p := range j.m.Pages {
			g.Go(func() error {
				n, err := j.st.size(gctx, p.Path)
				perPage[i] = sizeErr(p, n, err)
				return gctx.Err()
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
	} else {
		for i, p := range j.m.Pages {
			n, ok := found[p.Path]
			switch {
			case !ok:
				perPage[i] = sizeErr(p, 0, pipeerr.Wrap(pipeerr.Damaged, errMissing, "%s", p.Path))
			case n < 0:
				perPage[i] = sizeErr(p, 0, pipeerr.Wrap(pipeerr.Damaged, errNotRegular, "%s", p.Path))
			default:
				perPage[i] = sizeErr(p, n, nil)
			}
		}
	}
	probs := []Problem{}
	for i, err := range perPage {
		if err != nil {
			probs = append(probs, problem(i+1, j.m.Pages[i].Path, err))
		}
	}
	return probs, nil
}

// sizeErr is what is wrong with page p, found n bytes long (or not found:
// err).
func sizeErr(p manifest.Page, n int64, err error) error {
	switch {
	case err != nil:
		return pageErr(p.Number, err)
	case n != p.Bytes:
		return pipeerr.New(pipeerr.Damaged, "page %d: %s is %d bytes, the manifest says %d", p.Number, p.Path, n, p.Bytes)
	}
	return nil
}

// checkManifest compares the published manifest with Options.Manifest.
func (j *Job) checkManifest(ctx context.Context) []Problem {
	probs := []Problem{}
	if j.opts.Manifest == nil {
		return probs
	}
	published, err := j.readManifest(ctx)
	if errors.Is(err, fs.ErrNotExist) {
		err = pipeerr.Wrap(pipeerr.Damaged, errMissing, "%s", manifest.File)
	}
	switch {
	case err != nil:
		probs = append(probs, problem(0, manifest.File, err))
	case !bytes.Equal(published, j.opts.Manifest):
		probs = append(probs, problem(0, manifest.File, pipeerr.New(pipeerr.Damaged, "%s differs from the manifest it was published from", manifest.File)))
	}
	return probs
}
