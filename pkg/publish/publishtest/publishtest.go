package publishtest

import (
	"context"
	"path"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Target is the contract under test (finalize.Output).
type Target interface {
	Put(ctx context.Context, rel string, data []byte) error
	Commit(ctx context.Context, rel string, data []byte) error
	Get(ctx context.Context, rel string) (data []byte, found bool, err error)
	Size(ctx context.Context, rel string) (n int64, found bool, err error)
	Delete(ctx context.Context, rel string) error
	URL(rel string) string
}

// Run checks tgt, which must be empty. urlBase is what URL("x") must
// return without the trailing "x". contentType, if not nil, returns the
// stored media type of rel.
func Run(t *testing.T, tgt Target, urlBase string, contentType func(rel string) (string, error)) {
	t.Helper()
	ctx := t.Context()
	if got := tgt.URL("job/manifest.json"); got != urlBase+"job/manifest.json" {
		t.Fatalf("URL = %s, want %sjob/manifest.json", got, urlBase)
	}
	if data, found, err := tgt.Get(ctx, "job/manifest.json"); found || err != nil || data != nil {
		t.Fatalf("Get of a missing object: %q, found %v, %v", data, found, err)
	}
	objects := map[string]string{
		"job/pages/000001.pdf.zst": "zstd frame",
		"job/page 2 + ü.zst":       "a key that needs escaping",
		"job/empty.zst":            "",
		"job/manifest.json":        `{"job":"job"}`,
	}
	for rel, data := range objects {
		if err := tgt.Put(ctx, rel, []byte(data)); err != nil {
			t.Fatalf("Put %s: %v", rel, err)
		}
	}
	// A retry overwrites; a Commit is a Put that also makes what was put
	// under its directory durable.
	if err := tgt.Commit(ctx, "job/manifest.json", []byte(`{"job":"job","v":2}`)); err != nil {
		t.Fatal(err)
	}
	objects["job/manifest.json"] = `{"job":"job","v":2}`
	for rel, want := range objects {
		got, found, err := tgt.Get(ctx, rel)
		if err != nil || !found || string(got) != want {
			t.Errorf("Get %s = %q, found %v, %v; want %q", rel, got, found, err, want)
		}
		if n, found, err := tgt.Size(ctx, rel); err != nil || !found || n != int64(len(want)) {
			t.Errorf("Size %s = %d, found %v, %v; want %d", rel, n, found, err, len(want))
		}
	}
	if _, found, err := tgt.Size(ctx, "job/missing"); found || err != nil {
		t.Errorf("Size of a missing object: found %v, %v", found, err)
	}
	// Delete removes one object, and a missing one is no error.
	for _, rel := range []string{"job/empty.zst", "job/empty.zst", "job/missing"} {
		if err := tgt.Delete(ctx, rel); err != nil {
			t.Errorf("Delete %s: %v", rel, err)
		}
	}
	if _, found, err := tgt.Get(ctx, "job/empty.zst"); found || err != nil {
		t.Errorf("Get after Delete: found %v, %v", found, err)
	}
	if _, found, err := tgt.Get(ctx, "job/manifest.json"); !found || err != nil {
		t.Errorf("Delete of one object took another: found %v, %v", found, err)
	}
	if contentType == nil {
		return
	}
	for rel, want := range map[string]string{"job/manifest.json": "application/json", "job/pages/000001.pdf.zst": "application/zstd"} {
		got, err := contentType(rel)
		if err != nil || !strings.HasPrefix(got, want) {
			t.Errorf("%s stored as %q (%v), want %s", rel, got, err, want)
		}
	}
}

// S3ContentType reads the stored media type of rel under bucket/prefix.
func S3ContentType(c *s3.Client, bucket, prefix string) func(rel string) (string, error) {
	return func(rel string) (string, error) {
		head, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(path.Join(prefix, rel))})
		if err != nil {
			return "", err
		}
		return aws.ToString(head.ContentType), nil
	}
}
