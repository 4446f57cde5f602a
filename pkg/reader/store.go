package reader

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// store is where one job's files are: a local folder or a bucket prefix.
// Names are slash paths relative to <out>/<job>/.
type store interface {
	// read returns rel whole if it holds at most limit bytes; a larger
	// one is reported by its size alone, without reading it. A missing
	// rel is an error wrapping fs.ErrNotExist.
	read(ctx context.Context, rel string, limit int64) (data []byte, size int64, err error)
	// size is the size of rel (a stat or a HEAD).
	size(ctx context.Context, rel string) (int64, error)
	// list maps the name of every file directly under dir ("pages") to
	// its size, -1 for something that is not a regular file.
	list(ctx context.Context, dir string) (map[string]int64, error)
	close() error
}

// errMissing is a file that is not there: "missing", and errors.Is it
// fs.ErrNotExist.
var errMissing error = missing{}

type missing struct{}

func (missing) Error() string        { return "missing" }
func (missing) Is(target error) bool { return target == fs.ErrNotExist }

// errNotRegular marks a name that is there but is not a file (a
// directory, a FIFO): it is never opened, so reading it cannot block.
var errNotRegular = errors.New("not a regular file")

// folder is a job's directory opened as an os.Root: no name resolves
// outside it, whatever symlinks it holds (one into another job's pages
// included), as pkg/publish confines what it writes.
type folder struct {
	root *os.Root
}

func openFolder(dir, job string) (*folder, error) {
	out, err := os.OpenRoot(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, notPublished(job, filepath.Join(dir, job))
		}
		return nil, pipeerr.Wrap(pipeerr.IO, err, "open %s", dir)
	}
	defer out.Close()
	root, err := out.OpenRoot(job)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, notPublished(job, filepath.Join(dir, job))
		}
		return nil, confined(err, job)
	}
	return &folder{root}, nil
}

// confined classifies an error of the os.Root: a name that resolves
// outside the folder is refused as a bad request, never retried.
func confined(err error, rel string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return pipeerr.Wrap(pipeerr.Damaged, errMissing, "%s", rel)
	}
	if strings.Contains(err.Error(), "path escapes from parent") {
		return pipeerr.Wrap(pipeerr.BadRequest, err, "%s: path escapes the job's folder (a symlink out of it?)", rel)
	}
	return pipeerr.Wrap(pipeerr.IO, err, "read %s", rel)
}

func (f *folder) read(_ context.Context, rel string, limit int64) ([]byte, int64, error) {
	// Stat first: a FIFO planted in the folder would block an open.
	if _, err := f.stat(rel); err != nil {
		return nil, 0, err
	}
	r, err := f.root.Open(rel)
	if err != nil {
		return nil, 0, confined(err, rel)
	}
	defer r.Close()
	fi, err := r.Stat()
	if err != nil {
		return nil, 0, confined(err, rel)
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, pipeerr.Wrap(pipeerr.Damaged, errNotRegular, "%s", rel)
	}
	if fi.Size() > limit {
		return nil, fi.Size(), nil
	}
	// The file may grow after the stat: never read past limit+1.
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, 0, confined(err, rel)
	}
	return data, int64(len(data)), nil
}

func (f *folder) stat(rel string) (fs.FileInfo, error) {
	fi, err := f.root.Stat(rel)
	if err != nil {
		return nil, confined(err, rel)
	}
	if !fi.Mode().IsRegular() {
		return nil, pipeerr.Wrap(pipeerr.Damaged, errNotRegular, "%s", rel)
	}
	return fi, nil
}

func (f *folder) size(_ context.Context, rel string) (int64, error) {
	fi, err := f.stat(rel)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func (f *folder) list(_ context.Context, dir string) (map[string]int64, error) {
	ents, err := fs.ReadDir(f.root.FS(), dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]int64{}, nil
	}
	if err != nil {
		return nil, confined(err, dir)
	}
	sizes := make(map[string]int64, len(ents))
	for _, e := range ents {
		rel := path.Join(dir, e.Name())
		if e.Type().IsRegular() {
			fi, err := e.Info()
			if err != nil {
				return nil, confined(err, rel)
			}
			sizes[rel] = fi.Size()
			continue
		}
		// A symlink is followed as reading it would be: inside the
		// folder only.
		sizes[rel] = -1
		if e.Type()&fs.ModeSymlink != 0 {
			if fi, err := f.root.Stat(rel); err == nil && fi.Mode().IsRegular() {
				sizes[rel] = fi.Size()
			}
		}
	}
	return sizes, nil
}

func (f *folder) close() error { return f.root.Close() }

// bucket is a job's prefix in a bucket: <prefix>/<job>/.
type bucket struct {
	b    *blob.Bucket
	base string // "<prefix>/<job>"
	own  bool   // close b with the job
}

func (b *bucket) key(rel string) string { return path.Join(b.base, rel) }

func (b *bucket) read(ctx context.Context, rel string, limit int64) ([]byte, int64, error) {
	r, err := b.b.NewReader(ctx, b.key(rel), nil)
	if err != nil {
		return nil, 0, b.classify(err, rel)
	}
	defer r.Close()
	if r.Size() > limit {
		return nil, r.Size(), nil
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, 0, b.classify(err, rel)
	}
	return data, int64(len(data)), nil
}

func (b *bucket) size(ctx context.Context, rel string) (int64, error) {
	a, err := b.b.Attributes(ctx, b.key(rel))
	if err != nil {
		return 0, b.classify(err, rel)
	}
	return a.Size, nil
}

func (b *bucket) list(ctx context.Context, dir string) (map[string]int64, error) {
	sizes := map[string]int64{}
	prefix := b.key(dir) + "/"
	it := b.b.List(&blob.ListOptions{Prefix: prefix, Delimiter: "/"})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return sizes, nil
		}
		if err != nil {
			return nil, b.classify(err, dir)
		}
		if !obj.IsDir {
			sizes[path.Join(dir, strings.TrimPrefix(obj.Key, prefix))] = obj.Size
		}
	}
}

func (b *bucket) classify(err error, rel string) error {
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		return pipeerr.Wrap(pipeerr.Damaged, errMissing, "%s", rel)
	case gcerrors.PermissionDenied:
		return pipeerr.Wrap(pipeerr.Permission, err, "read %s", b.key(rel))
	}
	return pipeerr.Wrap(pipeerr.IO, err, "read %s", b.key(rel))
}

func (b *bucket) close() error {
	if b.own {
		return b.b.Close()
	}
	return nil
}
