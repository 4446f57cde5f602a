package sfnlocal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/efspipe/efspipe/pkg/jobfs"
)

// DirObjects keeps the S3 objects of distributed Maps' ItemReader and
// ResultWriter in a directory: s3://BUCKET/KEY is the file BUCKET/KEY
// under Dir, a jobfs.Mount opened on the directory. Every access goes
// through the mount's os.Root, so no bucket or key (with "..", absolute,
// or through a symlink) reaches outside the directory; a key that is not a
// clean relative path ("a//b", "./a", "a/") is refused; a write is the
// mount's atomic, durable one.
type DirObjects struct{ Dir *jobfs.Mount }

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
	b, err := d.Dir.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("NoSuchKey: the object s3://%s/%s does not exist", bucket, key)
	}
	return b, err
}

// PutObject writes s3://bucket/key atomically (jobfs.Mount.WriteFile,
// which creates the directories a new key needs).
func (d DirObjects) PutObject(_ context.Context, bucket, key string, data []byte) error {
	name, err := d.name(bucket, key)
	if err != nil {
		return err
	}
	return d.Dir.WriteFile(name, data)
}
