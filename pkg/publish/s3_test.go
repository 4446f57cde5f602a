package publish_test

import (
	"net/url"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/efspipe/efspipe/internal/awstest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/publish"
	"github.com/efspipe/efspipe/pkg/publish/publishtest"
	"github.com/efspipe/efspipe/pkg/source"
)

// motoClient starts moto_server and returns a client for it with one
// bucket, "out".
func motoClient(t *testing.T) *s3.Client {
	t.Helper()
	endpoint := awstest.StartMoto(t)
	awstest.Env(t, "")
	// The endpoint given explicitly (the CLI's --endpoint-url) also means
	// path-style addressing: moto has no virtual-host DNS.
	c, err := source.NewS3Client(t.Context(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("out")}); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestS3Target(t *testing.T) {
	c := motoClient(t)
	tgt, err := publish.Open(t.Context(), "s3://out/some/prefix/", publish.S3(c))
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	publishtest.Run(t, tgt, "s3://out/some/prefix/", publishtest.S3ContentType(c, "out", "some/prefix"))

	if err := tgt.Delete(t.Context(), "job/manifest.json"); err != nil {
		t.Fatal(err)
	}
	if err := tgt.Delete(t.Context(), "job/manifest.json"); err != nil {
		t.Fatalf("deleting a missing object: %v", err)
	}
	if _, found, err := tgt.Get(t.Context(), "job/manifest.json"); found || err != nil {
		t.Fatalf("Get after Delete: found %v, %v", found, err)
	}

	missing, err := publish.Open(t.Context(), "s3://no-such-bucket/x", publish.S3(c))
	if err != nil {
		t.Fatal(err)
	}
	defer missing.Close()
	if err := missing.Put(t.Context(), "a", []byte("b")); err == nil {
		t.Fatal("publishing to a missing bucket succeeded")
	}
}

func TestFolderTarget(t *testing.T) {
	dir := t.TempDir()
	tgt, err := publish.Open(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	publishtest.Run(t, tgt, dir+string(filepath.Separator), nil)
}

func TestS3OpenerRefusesOtherSchemes(t *testing.T) {
	for _, raw := range []string{"gs://bucket/x", "s3:///nobucket"} {
		u, _ := url.Parse(raw)
		if _, err := publish.S3(nil)(t.Context(), u); pipeerr.KindOf(err) != pipeerr.BadRequest {
			t.Errorf("%s: %v", raw, err)
		}
	}
}
