package publish

import (
	"context"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// S3 is an Opener for s3://bucket/prefix outputs through client (build it
// with source.NewS3Client: the standard AWS config chain, and path-style
// addressing for a custom endpoint such as AWS_ENDPOINT_URL). The bucket
// must exist: publishing never creates buckets.
func S3(client *s3.Client) Opener {
	return func(ctx context.Context, u *url.URL) (*blob.Bucket, error) {
		if u.Scheme != "s3" || u.Host == "" {
			return nil, pipeerr.New(pipeerr.BadRequest, "output %s: only s3://bucket/prefix URLs are supported", u.Redacted())
		}
		if client == nil {
			return nil, pipeerr.New(pipeerr.Internal, "output %s: no S3 client", u.Redacted())
		}
		// The client's checksum setting must reach the upload manager too:
		// S3-compatible servers differ in the checksums they accept.
		return s3blob.OpenBucket(ctx, client, u.Host, &s3blob.Options{
			RequestChecksumCalculation: client.Options().RequestChecksumCalculation,
		})
	}
}
