package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Object is a resolved source.
type Object struct {
	JobID   string
	Name    string // shown to people; never a path on the mount
	URI     string
	Version string
	Size    int64
	// SHA256 is known before copying for local files, else empty; ingest
	// computes it while copying either way.
	SHA256 string
}

// Opener resolves and opens sources.
type Opener interface {
	// Stat resolves uri (and an optional version) without copying it.
	Stat(ctx context.Context, uri, version string) (Object, error)
	// Open streams the object's bytes.
	Open(ctx context.Context, obj Object) (io.ReadCloser, error)
}

// Files opens local files. It is for the local engine only: a Lambda never
// gets one, so a state input naming /etc/passwd is refused in the cloud.
//
// Only regular files are sources: a FIFO, a device or a directory is
// refused (InvalidInput.BadRequest) without being read, since reading one
// could block forever or never end. Errors name the path and the reason,
// never the file's content.
type Files struct {
	// MaxBytes refuses larger files before reading them. Zero means no limit.
	MaxBytes int64
	// Confined limits sources to Roots, the directories sources may be read
	// from (efspipe serve --allow-source): a path outside every root, or one
	// that leaves its root through a symlink or "..", is refused
	// (InvalidInput.BadRequest), and with no Roots every path is. Each root
	// is opened with os.Root, as the mount is. Default: false, any path
	// this process can read (`efspipe run` reads what its own user names).
	Confined bool
	Roots    []string
}

// Stat hashes the file: a local file's job is its content.
func (f Files) Stat(ctx context.Context, uri, version string) (Object, error) {
	file, p, err := f.open(uri)
	if err != nil {
		return Object{}, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return Object{}, pipeerr.Wrap(pipeerr.IO, err, "source %s", p)
	}
	if f.MaxBytes > 0 && fi.Size() > f.MaxBytes {
		return Object{}, pipeerr.New(pipeerr.TooLarge, "%s is %d bytes, over the limit of %d", filepath.Base(p), fi.Size(), f.MaxBytes)
	}
	h := sha256.New()
	n, err := io.Copy(h, Context(ctx, io.NewSectionReader(file, 0, fi.Size())))
	if err != nil {
		if ctx.Err() != nil {
			return Object{}, ctx.Err()
		}
		return Object{}, pipeerr.Wrap(pipeerr.IO, err, "read %s", p)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	return Object{JobID: jobfs.FileJobID(sum), Name: filepath.Base(p), URI: p, Size: n, SHA256: sum}, nil
}

// Open opens the file.
func (f Files) Open(ctx context.Context, obj Object) (io.ReadCloser, error) {
	file, _, err := f.open(obj.URI)
	if err != nil {
		return nil, err
	}
	return file, nil
}

// open opens the regular file uri names (a path or file:// URL), within
// Roots if there are any, and returns it with its absolute path. It never
// blocks: a FIFO is opened non-blocking, found not regular, and closed.
func (f Files) open(uri string) (*os.File, string, error) {
	p := strings.TrimPrefix(uri, "file://")
	if p == "" {
		return nil, "", pipeerr.New(pipeerr.BadRequest, "no source given")
	}
	if strings.Contains(p, "://") {
		return nil, "", pipeerr.New(pipeerr.BadRequest, "source %q: only local files can be read here", uri)
	}
	p, err := filepath.Abs(p)
	if err != nil {
		return nil, "", pipeerr.Wrap(pipeerr.BadRequest, err, "source %s", uri)
	}
	// The type first, without opening: an open of a FIFO for reading
	// waits for a writer. Then opened non-blocking and checked again, in
	// case it was replaced in between.
	fi, err := f.stat(p)
	if err != nil {
		return nil, "", err
	}
	if err := regular(p, fi); err != nil {
		return nil, "", err
	}
	file, err := f.openFile(p)
	if err != nil {
		return nil, "", err
	}
	if fi, err = file.Stat(); err != nil {
		file.Close()
		return nil, "", pipeerr.Wrap(pipeerr.IO, err, "source %s", p)
	}
	if err := regular(p, fi); err != nil {
		file.Close()
		return nil, "", err
	}
	return file, p, nil
}

func regular(p string, fi os.FileInfo) error {
	if fi.Mode().IsRegular() {
		return nil
	}
	return pipeerr.New(pipeerr.BadRequest, "source %s is %s; only regular files are sources", p, pipeerr.FileType(fi.Mode()))
}

// within returns the root p is under and p relative to it.
func (f Files) within(p string) (root, rel string, err error) {
	for _, r := range f.Roots {
		r, err := filepath.Abs(r)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(r, p); err == nil && filepath.IsLocal(rel) {
			return r, rel, nil
		}
	}
	return "", "", pipeerr.New(pipeerr.BadRequest, "source %s is outside the directories local sources may be read from (--allow-source)", p)
}

func (f Files) stat(p string) (os.FileInfo, error) {
	var (
		fi  os.FileInfo
		err error
	)
	if !f.Confined {
		fi, err = os.Stat(p)
	} else {
		root, rel, rerr := f.within(p)
		if rerr != nil {
			return nil, rerr
		}
		var r *os.Root
		if r, err = os.OpenRoot(root); err == nil {
			fi, err = r.Stat(rel)
			r.Close()
		}
	}
	return fi, f.classify(p, err)
}

func (f Files) openFile(p string) (*os.File, error) {
	const flags = os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOCTTY
	if !f.Confined {
		file, err := os.OpenFile(p, flags, 0)
		return file, f.classify(p, err)
	}
	root, rel, err := f.within(p)
	if err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, f.classify(p, err)
	}
	defer r.Close()
	file, err := r.OpenFile(rel, flags, 0)
	return file, f.classify(p, err)
}

func (f Files) classify(p string, err error) error {
	switch {
	case err == nil:
		return nil
	case strings.Contains(err.Error(), "path escapes from parent"):
		return pipeerr.New(pipeerr.BadRequest, "source %s leaves the directories local sources may be read from (--allow-source)", p)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission),
		// A name no file can have (a component over NAME_MAX, a NUL
		// byte, not a directory): retrying cannot help.
		errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.ELOOP):
		return pipeerr.Wrap(pipeerr.BadRequest, err, "source %s cannot be read", p)
	}
	return pipeerr.Wrap(pipeerr.IO, err, "source %s", p)
}

// Context returns r reading until ctx ends: a copy of a large source stops
// within one read of a cancellation (StopExecution, Ctrl-C).
func Context(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Remember answers Stat(uri, version) with obj, already resolved, and
// passes everything else to o. The CLI resolves a source to learn its job
// ID (for a local file, by hashing it) before it runs the pipeline; ingest
// then need not read and hash the whole file a second time. Ingest still
// compares the bytes it copies with obj's size and checksum.
func Remember(o Opener, uri, version string, obj Object) Opener {
	return remembered{Opener: o, uri: uri, version: version, obj: obj}
}

type remembered struct {
	Opener
	uri, version string
	obj          Object
}

func (r remembered) Stat(ctx context.Context, uri, version string) (Object, error) {
	if uri == r.uri && version == r.version {
		return r.obj, nil
	}
	return r.Opener.Stat(ctx, uri, version)
}

// OnMount reads sources inside the mount's directory (a replay's
// jobs/<job>/source.pdf) through the mount's os.Root, so a symlink planted
// on the mount cannot lead out of it, and passes every other source to o.
// A job's own copy must still be that job's content: jobs/<job>/source.pdf
// whose bytes hash to another job is refused, never run as that other job.
func OnMount(m *jobfs.Mount, o Opener) Opener { return onMount{m, o} }

type onMount struct {
	m *jobfs.Mount
	o Opener
}

// rel is uri's path relative to the mount, if it is inside it.
func (om onMount) rel(uri string) (string, bool) {
	p, err := filepath.Abs(strings.TrimPrefix(uri, "file://"))
	if err != nil || strings.Contains(uri, "://") && !strings.HasPrefix(uri, "file://") {
		return "", false
	}
	dir, err := filepath.Abs(om.m.Dir())
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(dir, p)
	if err != nil || !filepath.IsLocal(rel) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

func (om onMount) Stat(ctx context.Context, uri, version string) (Object, error) {
	rel, ok := om.rel(uri)
	if !ok {
		return om.o.Stat(ctx, uri, version)
	}
	f, err := om.open(rel)
	if err != nil {
		return Object{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, Context(ctx, f))
	if err != nil {
		if ctx.Err() != nil {
			return Object{}, ctx.Err()
		}
		return Object{}, pipeerr.Wrap(pipeerr.IO, err, "read %s", rel)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	id := jobfs.FileJobID(sum)
	if parts := strings.Split(rel, "/"); len(parts) == 3 && parts[0] == jobfs.JobsDir && parts[2] == path.Base(jobfs.Job{}.Source()) && parts[1] != id {
		return Object{}, pipeerr.New(pipeerr.BadRequest, "%s no longer has job %s's content; replay the job to re-ingest it from its original", rel, parts[1])
	}
	p, _ := filepath.Abs(strings.TrimPrefix(uri, "file://"))
	return Object{JobID: id, Name: path.Base(rel), URI: p, Size: n, SHA256: sum}, nil
}

func (om onMount) Open(ctx context.Context, obj Object) (io.ReadCloser, error) {
	rel, ok := om.rel(obj.URI)
	if !ok {
		return om.o.Open(ctx, obj)
	}
	return om.open(rel)
}

func (om onMount) open(rel string) (*os.File, error) {
	fi, err := om.m.Stat(rel)
	if err != nil {
		return nil, pipeerr.Wrap(pipeerr.BadRequest, err, "source %s on the mount cannot be read", rel)
	}
	if err := regular(rel, fi); err != nil {
		return nil, err
	}
	f, err := om.m.Open(rel)
	if err != nil {
		return nil, pipeerr.Wrap(pipeerr.BadRequest, err, "source %s on the mount cannot be read", rel)
	}
	return f, nil
}
