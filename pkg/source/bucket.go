package source

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// NewS3Client builds an S3 client from the standard AWS config chain
// (environment, shared config and credentials files, IMDS or the Lambda
// role). endpoint, if not empty, overrides the chain's endpoint. Whenever a
// custom endpoint is in effect (endpoint, AWS_ENDPOINT_URL or
// AWS_ENDPOINT_URL_S3), requests use path-style addressing, which
// S3-compatible servers (moto, MinIO, Ceph) expect.
func NewS3Client(ctx context.Context, endpoint string) (*s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, pipeerr.Wrap(pipeerr.BadRequest, err, "AWS configuration")
	}
	return S3ClientFor(cfg, endpoint), nil
}

// S3ClientFor builds an S3 client from cfg as NewS3Client does from the
// config chain: endpoint overrides cfg's, and a custom endpoint means
// path-style addressing.
func S3ClientFor(cfg aws.Config, endpoint string) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	})
}

// Buckets opens s3://bucket/key sources. The key is only ever sent to S3:
// the job's files on the mount are named by the job ID.
type Buckets struct {
	Client *s3.Client
	// MaxBytes refuses larger objects before reading them. Zero means no
	// limit here (ingest still applies the job's limit while copying).
	MaxBytes int64
}

// IsS3 reports whether uri names an S3 object or prefix (s3://...).
func IsS3(uri string) bool { return strings.HasPrefix(uri, "s3://") }

// ParseS3URI splits s3://bucket/key. The key is taken literally, as the
// AWS CLI does: it is not URL-decoded.
func ParseS3URI(uri string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", "", pipeerr.New(pipeerr.BadRequest, "source %q is not an s3:// URI", uri)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" || key == "" || strings.HasSuffix(key, "/") {
		return "", "", pipeerr.New(pipeerr.BadRequest, "source %q does not name an object (s3://bucket/key)", uri)
	}
	return bucket, key, nil
}

// etagRe matches an S3 ETag without its quotes: an MD5, or an MD5 with the
// part count of a multipart upload. Version IDs never look like this (AWS's
// are 32 characters of a larger alphabet; moto's and MinIO's are UUIDs), so
// a version given as an ETag is recognised without another round trip.
var etagRe = regexp.MustCompile(`^[0-9a-f]{32}(-[0-9]+)?$`)

func isETag(v string) bool { return etagRe.MatchString(v) }

func unquote(etag string) string { return strings.Trim(etag, `"`) }

// Stat resolves the object. version is a version ID or an ETag (what an
// S3 event carries for an unversioned bucket); empty means the current
// object, identified by its version ID if the bucket is versioned and by
// its ETag otherwise. The JobID is ObjectJobID(bucket, key, that identity),
// so the trigger and ingest agree on it.
func (b Buckets) Stat(ctx context.Context, uri, version string) (Object, error) {
	bucket, key, err := ParseS3URI(uri)
	if err != nil {
		return Object{}, err
	}
	in := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled}
	switch {
	case version == "":
	case isETag(version):
		in.IfMatch = aws.String(`"` + version + `"`)
	default:
		in.VersionId = aws.String(version)
	}
	head, err := b.Client.HeadObject(ctx, in)
	if err != nil {
		return Object{}, classify(err, uri, version)
	}
	etag := unquote(aws.ToString(head.ETag))
	id := version
	if id == "" {
		id = aws.ToString(head.VersionId)
		if id == "" || id == "null" {
			id = etag
		}
	}
	if id == "" {
		return Object{}, pipeerr.New(pipeerr.Internal, "%s: S3 returned neither a version ID nor an ETag", uri)
	}
	size := aws.ToInt64(head.ContentLength)
	obj := Object{
		JobID:   jobfs.ObjectJobID(bucket, key, id),
		Name:    path.Base(key),
		URI:     "s3://" + bucket + "/" + key,
		Version: id,
		Size:    size,
		SHA256:  fullObjectSHA256(head.ChecksumType, head.ChecksumSHA256),
	}
	if b.MaxBytes > 0 && size > b.MaxBytes {
		return Object{}, pipeerr.New(pipeerr.TooLarge, "%s is %d bytes, over the limit of %d", obj.Name, size, b.MaxBytes)
	}
	return obj, nil
}

// fullObjectSHA256 is the object's SHA-256 in hex when S3 stores one for the
// whole object (a composite multipart checksum is not a hash of the bytes).
func fullObjectSHA256(typ types.ChecksumType, b64 *string) string {
	if b64 == nil || (typ != "" && typ != types.ChecksumTypeFullObject) {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(*b64)
	if err != nil || len(raw) != 32 {
		return ""
	}
	return hex.EncodeToString(raw)
}

// Open streams the object Stat resolved: the same version (or, for an
// unversioned bucket, the same ETag: an overwrite in between fails rather
// than mixing two objects). The reader fails at the end if the length
// differs from obj.Size; the SDK verifies S3's stored checksum, if any.
func (b Buckets) Open(ctx context.Context, obj Object) (io.ReadCloser, error) {
	bucket, key, err := ParseS3URI(obj.URI)
	if err != nil {
		return nil, err
	}
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled}
	if isETag(obj.Version) {
		in.IfMatch = aws.String(`"` + obj.Version + `"`)
	} else if obj.Version != "" {
		in.VersionId = aws.String(obj.Version)
	}
	out, err := b.Client.GetObject(ctx, in)
	if err != nil {
		return nil, classify(err, obj.URI, obj.Version)
	}
	if n := aws.ToInt64(out.ContentLength); out.ContentLength != nil && n != obj.Size {
		out.Body.Close()
		return nil, pipeerr.New(pipeerr.IO, "%s: S3 sends %d bytes, expected %d", obj.Name, n, obj.Size)
	}
	return &sizedReader{rc: out.Body, left: obj.Size, name: obj.Name}, nil
}

// sizedReader fails a stream that ends early or runs long: a truncated
// download must not become a shorter source.pdf.
type sizedReader struct {
	rc   io.ReadCloser
	left int64
	name string
}

func (r *sizedReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.left -= int64(n)
	if r.left < 0 {
		return n, pipeerr.New(pipeerr.IO, "%s: S3 sent more bytes than it announced", r.name)
	}
	if err == io.EOF && r.left > 0 {
		return n, pipeerr.New(pipeerr.IO, "%s: the download ended %d bytes early", r.name, r.left)
	}
	if err != nil && err != io.EOF {
		return n, pipeerr.Wrap(pipeerr.IO, err, "read %s", r.name)
	}
	return n, err
}

func (r *sizedReader) Close() error { return r.rc.Close() }

// classify sorts S3 failures: the object or bucket missing, a version or
// ETag that no longer matches, or access refused are the request's fault
// (retrying cannot help); anything else is worth a retry.
func classify(err error, uri, version string) error {
	var ae smithy.APIError
	code := ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	what := uri
	if version != "" {
		what = fmt.Sprintf("%s (version %s)", uri, version)
	}
	switch {
	case code == "NoSuchKey" || code == "NotFound" || code == "NoSuchVersion" || status == http.StatusNotFound:
		return pipeerr.Wrap(pipeerr.BadRequest, err, "%s does not exist", what)
	case code == "NoSuchBucket":
		return pipeerr.Wrap(pipeerr.BadRequest, err, "the bucket of %s does not exist", uri)
	case code == "PreconditionFailed" || status == http.StatusPreconditionFailed:
		return pipeerr.Wrap(pipeerr.BadRequest, err, "%s was replaced since it was announced", what)
	case code == "AccessDenied" || status == http.StatusForbidden:
		return pipeerr.Wrap(pipeerr.BadRequest, err, "access to %s is denied", uri)
	case code == "InvalidArgument" || code == "InvalidVersionId" || status == http.StatusBadRequest:
		return pipeerr.Wrap(pipeerr.BadRequest, err, "S3 refused the request for %s", what)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return pipeerr.Wrap(pipeerr.Timeout, err, "S3 request for %s", uri)
	}
	return pipeerr.Wrap(pipeerr.IO, err, "S3 request for %s", uri)
}

// Any dispatches by scheme: s3:// to Buckets, everything else to Files.
// The local CLI uses it; a Lambda gets Buckets alone.
type Any struct {
	Files Opener
	// Buckets opens s3:// sources. Nil refuses them with a clear error.
	Buckets Opener
}

func (a Any) pick(uri string) (Opener, error) {
	if IsS3(uri) {
		if a.Buckets == nil {
			return nil, pipeerr.New(pipeerr.BadRequest, "source %s: s3:// sources are not enabled here", uri)
		}
		return a.Buckets, nil
	}
	if a.Files == nil {
		return nil, pipeerr.New(pipeerr.BadRequest, "source %s: only s3:// sources can be read here", uri)
	}
	return a.Files, nil
}

// Stat resolves uri with the opener for its scheme.
func (a Any) Stat(ctx context.Context, uri, version string) (Object, error) {
	o, err := a.pick(uri)
	if err != nil {
		return Object{}, err
	}
	return o.Stat(ctx, uri, version)
}

// Open opens obj with the opener for its scheme.
func (a Any) Open(ctx context.Context, obj Object) (io.ReadCloser, error) {
	o, err := a.pick(obj.URI)
	if err != nil {
		return nil, err
	}
	return o.Open(ctx, obj)
}
