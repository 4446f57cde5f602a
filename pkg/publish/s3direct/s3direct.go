package s3direct

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Target is an s3://bucket/prefix output.
type Target struct {
	client *s3.Client
	bucket string
	prefix string
}

// Open parses out (s3://bucket/prefix; the prefix may be empty) and binds
// it to client (build it with source.NewS3Client). Nothing is sent to S3:
// the bucket must exist, and publishing never creates it.
func Open(client *s3.Client, out string) (*Target, error) {
	rest, ok := strings.CutPrefix(out, "s3://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	if !ok || bucket == "" {
		return nil, pipeerr.New(pipeerr.BadRequest, "output %q: only s3://bucket/prefix URLs are supported", out)
	}
	if client == nil {
		return nil, pipeerr.New(pipeerr.Internal, "output %s: no S3 client", out)
	}
	return &Target{client: client, bucket: bucket, prefix: strings.Trim(prefix, "/")}, nil
}

func (t *Target) key(rel string) string { return path.Join(t.prefix, rel) }

// URL is where rel is published.
func (t *Target) URL(rel string) string {
	return "s3://" + t.bucket + "/" + t.key(rel)
}

// Sweep has nothing to remove: a PUT is atomic, so a killed writer leaves
// no partial object behind.
func (t *Target) Sweep(ctx context.Context, rel string) error { return nil }

// Put writes one object.
func (t *Target) Put(ctx context.Context, rel string, data []byte) error {
	_, err := t.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(t.bucket),
		Key:           aws.String(t.key(rel)),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String(manifest.ContentType(rel)),
	})
	return classify(err, "publish", t.URL(rel))
}

// Commit writes the object that vouches for the others, a job's manifest.
// A PUT is durable when S3 answers it
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel),
// so what was put before is already: Commit is Put.
func (t *Target) Commit(ctx context.Context, rel string, data []byte) error {
	return t.Put(ctx, rel, data)
}

// Get reads one object; a missing one is reported with found=false (a
// missing bucket is an error).
func (t *Target) Get(ctx context.Context, rel string) (data []byte, found bool, err error) {
	out, err := t.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(t.key(rel))})
	if err != nil {
		if notFound(err) {
			return nil, false, nil
		}
		return nil, false, classify(err, "read", t.URL(rel))
	}
	defer out.Body.Close()
	data, err = io.ReadAll(out.Body)
	if err != nil {
		return nil, false, classify(err, "read", t.URL(rel))
	}
	return data, true, nil
}

// Delete removes one object; a missing one is no error (S3's DELETE of a
// missing key succeeds).
func (t *Target) Delete(ctx context.Context, rel string) error {
	_, err := t.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(t.key(rel))})
	return classify(err, "delete", t.URL(rel))
}

// Size reports a published object's size; a missing one is found=false.
func (t *Target) Size(ctx context.Context, rel string) (n int64, found bool, err error) {
	out, err := t.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(t.key(rel))})
	if err != nil {
		if notFound(err) {
			return 0, false, nil
		}
		return 0, false, classify(err, "stat", t.URL(rel))
	}
	return aws.ToInt64(out.ContentLength), true, nil
}

func apiCode(err error) (code string, status int) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

// notFound is a missing key, not a missing bucket: the bucket is
// configuration, and publishing to a missing one must fail.
func notFound(err error) bool {
	code, status := apiCode(err)
	return code == "NoSuchKey" || (code != "NoSuchBucket" && status == http.StatusNotFound)
}

// classify sorts failures as publish.Target does: refused requests (access,
// a malformed request, a missing bucket) are the configuration's fault and
// retrying cannot help; anything else is worth a retry.
func classify(err error, op, url string) error {
	if err == nil {
		return nil
	}
	code, status := apiCode(err)
	switch {
	case code == "AccessDenied" || status == http.StatusForbidden,
		code == "InvalidArgument" || status == http.StatusBadRequest,
		code == "NoSuchBucket":
		return pipeerr.Wrap(pipeerr.BadRequest, err, "%s %s", op, url)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return pipeerr.Wrap(pipeerr.Timeout, err, "%s %s", op, url)
	}
	return pipeerr.Wrap(pipeerr.IO, err, "%s %s", op, url)
}
