package sfnlocal

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/efspipe/efspipe/pkg/jobfs"
)

// DirObjects keeps the S3 objects of distributed Maps' ItemReader and
// ResultWriter in a directory: s3://BUCKET/KEY is the file BUCKET/KEY
// under Root. Every access goes through Root, so no bucket or key (with
// "..", absolute, or through a symlink) reaches outside the directory; a
// key that is not a clean relative path ("a//b", "./a", "a/") is refused.
type DirObjects struct{ Root *os.Root }

func (d DirObjects) name(bucket, key string) (string, error) {
	if strings.Contains(bucket, "/") || jobfs.CheckPath(bucket) != nil {
		return "", fmt.Errorf("bucket %q is not a directory name", bucket)
	}
	if jobfs.CheckPath(key) != nil {
		return "", fmt.Errorf("key %q is not a clean relative path", key)
	}
	return bucket + "/" + key, nil
}

// GetObject reads s3://bucket/key.
func (d DirObjects) GetObject(_ context.Context, bucket, key string) ([]byte, error) {
	name, err := d.name(bucket, key)
	if err != nil {
		return nil, err
	}
	b, err := d.Root.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("NoSuchKey: the object s3://%s/%s does not exist", bucket, key)
	}
	return b, err
}

// PutObject writes s3://bucket/key atomically: a temporary file in the
// same directory, synced, then renamed over the key.
func (d DirObjects) PutObject(_ context.Context, bucket, key string, data []byte) error {
	name, err := d.name(bucket, key)
	if err != nil {
		return err
	}
	if err := d.Root.MkdirAll(path.Dir(name), 0o755); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp-%s", name, rand.Text())
	f, err := d.Root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.Root.Rename(tmp, name)
	}
	if err != nil {
		_ = d.Root.Remove(tmp)
	}
	return err
}
