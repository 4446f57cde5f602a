package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
type Files struct {
	// MaxBytes refuses larger files before reading them. Zero means no limit.
	MaxBytes int64
}

// Stat hashes the file: a local file's job is its content.
func (f Files) Stat(ctx context.Context, uri, version string) (Object, error) {
	p := strings.TrimPrefix(uri, "file://")
	if p == "" {
		return Object{}, pipeerr.New(pipeerr.BadRequest, "no source given")
	}
	if strings.Contains(p, "://") {
		return Object{}, pipeerr.New(pipeerr.BadRequest, "source %q: only local files can be read here", uri)
	}
	file, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return Object{}, pipeerr.Wrap(pipeerr.BadRequest, err, "source %s cannot be read", p)
		}
		return Object{}, pipeerr.Wrap(pipeerr.IO, err, "source %s", p)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return Object{}, pipeerr.Wrap(pipeerr.IO, err, "source %s", p)
	}
	if !fi.Mode().IsRegular() {
		return Object{}, pipeerr.New(pipeerr.BadRequest, "source %s is not a regular file", p)
	}
	if f.MaxBytes > 0 && fi.Size() > f.MaxBytes {
		return Object{}, pipeerr.New(pipeerr.TooLarge, "%s is %d bytes, over the limit of %d", filepath.Base(p), fi.Size(), f.MaxBytes)
	}
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(file, 0, fi.Size()))
	if err != nil {
		return Object{}, pipeerr.Wrap(pipeerr.IO, err, "read %s", p)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	abs, _ := filepath.Abs(p)
	return Object{JobID: jobfs.FileJobID(sum), Name: filepath.Base(p), URI: abs, Size: n, SHA256: sum}, nil
}

// Open opens the file.
func (Files) Open(ctx context.Context, obj Object) (io.ReadCloser, error) {
	r, err := os.Open(obj.URI)
	if err != nil {
		return nil, pipeerr.Wrap(pipeerr.IO, err, "open %s", obj.URI)
	}
	return r, nil
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
