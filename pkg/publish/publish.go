package publish

import (
	"context"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Target is an output location: a local folder or a bucket prefix.
type Target struct {
	bucket *blob.Bucket // a bucket, or
	dir    *folder      // a local folder
	prefix string
	base   string
}

// Opener opens bucket URLs other than local folders (s3://...). Nil means
// only local folders are accepted.
type Opener func(ctx context.Context, bucketURL *url.URL) (*blob.Bucket, error)

// Open opens out: a directory path, file:///dir, or (with open) a bucket
// URL such as s3://bucket/prefix.
func Open(ctx context.Context, out string, open Opener) (*Target, error) {
	if out == "" {
		return nil, pipeerr.New(pipeerr.BadRequest, "no output location given")
	}
	u, err := url.Parse(out)
	if err == nil && u.Scheme != "" && u.Scheme != "file" && len(u.Scheme) > 1 {
		if open == nil {
			return nil, pipeerr.New(pipeerr.BadRequest, "output %s: only local folders are supported here", out)
		}
		b, err := open(ctx, u)
		if err != nil {
			return nil, pipeerr.Wrap(pipeerr.IO, err, "open output %s", out)
		}
		prefix := strings.Trim(u.Path, "/")
		return &Target{bucket: b, prefix: prefix, base: u.Scheme + "://" + u.Host + "/" + prefix}, nil
	}
	dir := strings.TrimPrefix(out, "file://")
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, pipeerr.Wrap(pipeerr.BadRequest, err, "output %s", out)
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, DirMode); err != nil {
			return nil, pipeerr.Wrap(pipeerr.IO, err, "output %s", out)
		}
		if err := os.Chmod(dir, DirMode); err != nil {
			return nil, pipeerr.Wrap(pipeerr.IO, err, "output %s", out)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, pipeerr.Wrap(pipeerr.IO, err, "output %s", out)
	}
	return &Target{dir: &folder{root: root}, base: dir}, nil
}

// Close releases the target.
func (t *Target) Close() error {
	if t.dir != nil {
		return t.dir.root.Close()
	}
	return t.bucket.Close()
}

func (t *Target) key(rel string) string { return path.Join(t.prefix, rel) }

// Check makes sure publishing can work before a job does its work: in a
// local folder it creates and removes a file at the top of the folder; of
// a bucket it asks whether the bucket exists and is reachable with the
// credentials given (S3 HeadBucket: permission to write is known only at
// the first write). Errors are InvalidInput.BadRequest, naming the output.
func (t *Target) Check(ctx context.Context) error {
	if t.dir != nil {
		if err := t.dir.writable(); err != nil {
			return pipeerr.Wrap(pipeerr.BadRequest, err, "output %s cannot be written", t.base)
		}
		return nil
	}
	ok, err := t.bucket.IsAccessible(ctx)
	switch {
	case err != nil:
		return pipeerr.Wrap(pipeerr.BadRequest, err, "output %s cannot be reached", t.base)
	case !ok:
		return pipeerr.New(pipeerr.BadRequest, "output %s: the bucket does not exist or these credentials cannot reach it", t.base)
	}
	return nil
}

// URL is where rel is published, for people and for the run's result.
func (t *Target) URL(rel string) string {
	if strings.Contains(t.base, "://") {
		return strings.TrimSuffix(t.base, "/") + "/" + rel
	}
	return filepath.Join(t.base, filepath.FromSlash(rel))
}

// Put writes one object; it appears whole or not at all. In a local
// folder it is a file of FileMode in directories of DirMode, and a name
// that resolves outside the folder (a symlink at <out>/<job>) is refused
// as InvalidInput.BadRequest. In a bucket the object is durable when Put
// returns; in a folder, its data is, and its name once a Commit of a file
// in the same or a parent directory returns (a name survives a killed
// process at once; a power loss needs its directory synced).
func (t *Target) Put(ctx context.Context, rel string, data []byte) error {
	if t.dir != nil {
		return t.dir.put(rel, data)
	}
	return t.putObject(ctx, rel, data)
}

// Commit is Put for the object that vouches for the others under its
// directory, a job's manifest: it is published only once everything put
// under that directory is durable, so a reader that finds it after a
// crash, power loss included, finds what it names. In a folder this
// fsyncs each directory below and above rel once, instead of once per
// Put; in a bucket every Put is already durable. Errors are Put's.
func (t *Target) Commit(ctx context.Context, rel string, data []byte) error {
	if t.dir != nil {
		return t.dir.commit(rel, data)
	}
	return t.putObject(ctx, rel, data)
}

func (t *Target) putObject(ctx context.Context, rel string, data []byte) error {
	err := t.bucket.WriteAll(ctx, t.key(rel), data, &blob.WriterOptions{ContentType: manifest.ContentType(rel)})
	return classify(err, "publish", rel)
}

// Get reads one object; a missing one is reported with found=false.
func (t *Target) Get(ctx context.Context, rel string) (data []byte, found bool, err error) {
	if t.dir != nil {
		return t.dir.get(rel)
	}
	b, err := t.bucket.ReadAll(ctx, t.key(rel))
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err, "read", rel)
	}
	return b, true, nil
}

// Size reports a published object's size; a missing one is found=false.
func (t *Target) Size(ctx context.Context, rel string) (n int64, found bool, err error) {
	if t.dir != nil {
		return t.dir.size(rel)
	}
	a, err := t.bucket.Attributes(ctx, t.key(rel))
	if gcerrors.Code(err) == gcerrors.NotFound {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, classify(err, "stat", rel)
	}
	return a.Size, true, nil
}

// Sweep removes what a killed writer left under rel in a local folder:
// Put writes "<name>.<hex>.tmp" next to the final file and renames it,
// so a process killed mid-write leaves the temp file behind. Buckets need
// nothing (a PUT is atomic), so Sweep is a no-op for them. Finalize sweeps
// before it writes the manifest: the folder then holds exactly what the
// manifest names.
func (t *Target) Sweep(ctx context.Context, rel string) error {
	if t.dir == nil {
		return nil
	}
	return t.dir.sweep(rel)
}

var tempName = regexp.MustCompile(`\.[0-9a-f]+\.tmp$`)

// Delete removes one object if present.
func (t *Target) Delete(ctx context.Context, rel string) error {
	if t.dir != nil {
		return t.dir.delete(rel)
	}
	err := t.bucket.Delete(ctx, t.key(rel))
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil
	}
	return classify(err, "delete", rel)
}

func classify(err error, op, rel string) error {
	if err == nil {
		return nil
	}
	switch gcerrors.Code(err) {
	case gcerrors.PermissionDenied, gcerrors.InvalidArgument:
		return pipeerr.Wrap(pipeerr.BadRequest, err, "%s %s", op, rel)
	}
	return pipeerr.Wrap(pipeerr.IO, err, "%s %s", op, rel)
}
