package source_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/efspipe/efspipe/internal/awstest"
	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/publish"
	"github.com/efspipe/efspipe/pkg/source"
)

func newClient(t *testing.T, endpoint string) *s3.Client {
	t.Helper()
	awstest.Env(t, endpoint)
	c, err := source.NewS3Client(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Options().UsePathStyle {
		t.Fatal("AWS_ENDPOINT_URL is set but the client does not use path-style addressing")
	}
	return c
}

var bucketSeq struct {
	sync.Mutex
	n int
}

func newBucket(t *testing.T, c *s3.Client, versioned bool) string {
	t.Helper()
	bucketSeq.Lock()
	bucketSeq.n++
	name := fmt.Sprintf("b%d-%d", time.Now().UnixNano()%1e9, bucketSeq.n)
	bucketSeq.Unlock()
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if versioned {
		if _, err := c.PutBucketVersioning(t.Context(), &s3.PutBucketVersioningInput{
			Bucket:                  aws.String(name),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
		}); err != nil {
			t.Fatal(err)
		}
	}
	return name
}

func put(t *testing.T, c *s3.Client, bucket, key string, data []byte) *s3.PutObjectOutput {
	t.Helper()
	out, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readAll(t *testing.T, o source.Opener, obj source.Object) []byte {
	t.Helper()
	r, err := o.Open(t.Context(), obj)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBucketsStatAndOpen(t *testing.T) {
	c := newClient(t, awstest.StartMoto(t))
	b := source.Buckets{Client: c}
	bucket := newBucket(t, c, false)
	for _, key := range []string{
		"plain.pdf",
		"dir/with space/red flower.pdf",
		"unicode/Überweisung – 日本.pdf",
		"c++ notes+%20.pdf",
		"../../etc/passwd",
	} {
		t.Run(key, func(t *testing.T) {
			data := []byte("%PDF-1.7 " + key)
			put(t, c, bucket, key, data)
			uri := "s3://" + bucket + "/" + key
			obj, err := b.Stat(t.Context(), uri, "")
			if err != nil {
				t.Fatal(err)
			}
			etag := fmt.Sprintf("%x", md5.Sum(data))
			if obj.Version != etag || obj.JobID != jobfs.ObjectJobID(bucket, key, etag) || obj.Size != int64(len(data)) || obj.URI != uri {
				t.Fatalf("Stat = %+v; want version %s and the ETag job ID", obj, etag)
			}
			if err := jobfs.CheckJobID(obj.JobID); err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, b, obj); !bytes.Equal(got, data) {
				t.Fatalf("Open read %q", got)
			}
			// The trigger passes the ETag as the version: same job.
			again, err := b.Stat(t.Context(), uri, etag)
			if err != nil || again.JobID != obj.JobID {
				t.Fatalf("Stat with the ETag: %+v, %v", again, err)
			}
		})
	}
}

func TestBucketsVersioned(t *testing.T) {
	c := newClient(t, awstest.StartMoto(t))
	b := source.Buckets{Client: c}
	bucket := newBucket(t, c, true)
	v1 := put(t, c, bucket, "doc.pdf", []byte("%PDF first"))
	v2 := put(t, c, bucket, "doc.pdf", []byte("%PDF second, longer"))
	uri := "s3://" + bucket + "/doc.pdf"

	cur, err := b.Stat(t.Context(), uri, "")
	if err != nil {
		t.Fatal(err)
	}
	if cur.Version != aws.ToString(v2.VersionId) || cur.JobID != jobfs.ObjectJobID(bucket, "doc.pdf", cur.Version) {
		t.Fatalf("current = %+v, want version %s", cur, aws.ToString(v2.VersionId))
	}
	old, err := b.Stat(t.Context(), uri, aws.ToString(v1.VersionId))
	if err != nil {
		t.Fatal(err)
	}
	if old.JobID == cur.JobID || old.Size != int64(len("%PDF first")) {
		t.Fatalf("old version = %+v", old)
	}
	if got := string(readAll(t, b, old)); got != "%PDF first" {
		t.Fatalf("old version read %q", got)
	}
	if got := string(readAll(t, b, cur)); got != "%PDF second, longer" {
		t.Fatalf("current version read %q", got)
	}
}

func TestBucketsRefuses(t *testing.T) {
	c := newClient(t, awstest.StartMoto(t))
	bucket := newBucket(t, c, false)
	put(t, c, bucket, "big.pdf", bytes.Repeat([]byte("x"), 1000))
	first := put(t, c, bucket, "replaced.pdf", []byte("%PDF one"))
	put(t, c, bucket, "replaced.pdf", []byte("%PDF two"))
	oldETag := strings.Trim(aws.ToString(first.ETag), `"`)

	for _, tc := range []struct {
		name, uri, version string
		max                int64
		want               pipeerr.Kind
	}{
		{"missing key", "s3://" + bucket + "/nope.pdf", "", 0, pipeerr.BadRequest},
		{"missing bucket", "s3://no-such-bucket-efspipe/x.pdf", "", 0, pipeerr.BadRequest},
		{"no key", "s3://" + bucket, "", 0, pipeerr.BadRequest},
		{"a prefix", "s3://" + bucket + "/dir/", "", 0, pipeerr.BadRequest},
		{"over the limit", "s3://" + bucket + "/big.pdf", "", 999, pipeerr.TooLarge},
		{"overwritten since the event", "s3://" + bucket + "/replaced.pdf", oldETag, 0, pipeerr.BadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := source.Buckets{Client: c, MaxBytes: tc.max}.Stat(t.Context(), tc.uri, tc.version)
			if got := pipeerr.KindOf(err); got != tc.want {
				t.Fatalf("Stat(%s) = %v (%s), want %s", tc.uri, err, got, tc.want)
			}
		})
	}

	// An object replaced between Stat and Open is refused, not mixed.
	obj, err := source.Buckets{Client: c}.Stat(t.Context(), "s3://"+bucket+"/big.pdf", "")
	if err != nil {
		t.Fatal(err)
	}
	put(t, c, bucket, "big.pdf", []byte("other"))
	if _, err := (source.Buckets{Client: c}).Open(t.Context(), obj); pipeerr.KindOf(err) != pipeerr.BadRequest {
		t.Fatalf("Open after overwrite: %v", err)
	}
}

func TestBucketsChecksum(t *testing.T) {
	c := newClient(t, awstest.StartMoto(t))
	bucket := newBucket(t, c, false)
	data := []byte("%PDF with a stored checksum")
	if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("sum.pdf"), Body: bytes.NewReader(data),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	}); err != nil {
		t.Fatal(err)
	}
	obj, err := source.Buckets{Client: c}.Stat(t.Context(), "s3://"+bucket+"/sum.pdf", "")
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	if obj.SHA256 != hex.EncodeToString(want[:]) {
		t.Fatalf("SHA256 = %q, want S3's stored checksum %x", obj.SHA256, want)
	}
}

func TestAnyDispatches(t *testing.T) {
	f := filepath.Join(t.TempDir(), "a.pdf")
	if err := os.WriteFile(f, []byte("%PDF local"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := source.Any{Files: source.Files{}}
	obj, err := a.Stat(t.Context(), f, "")
	if err != nil || !strings.HasPrefix(obj.JobID, "f-") {
		t.Fatalf("local file: %+v, %v", obj, err)
	}
	if got := readAll(t, a, obj); string(got) != "%PDF local" {
		t.Fatalf("read %q", got)
	}
	if _, err := a.Stat(t.Context(), "s3://b/k.pdf", ""); pipeerr.KindOf(err) != pipeerr.BadRequest || !strings.Contains(err.Error(), "not enabled") {
		t.Fatalf("s3 without Buckets: %v", err)
	}
	if _, err := (source.Any{Buckets: source.Buckets{}}).Stat(t.Context(), f, ""); pipeerr.KindOf(err) != pipeerr.BadRequest {
		t.Fatalf("file without Files: %v", err)
	}
}

// recorder is a reverse proxy in front of moto that logs the start and end
// of every object write, to check the order of publication.
type recorder struct {
	mu  sync.Mutex
	log []string
	h   http.Handler
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	write := req.Method == http.MethodPut || req.Method == http.MethodPost
	if write {
		r.add("start " + req.URL.Path)
	}
	r.h.ServeHTTP(w, req)
	if write {
		r.add("end " + req.URL.Path)
	}
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.log = append(r.log, s)
	r.mu.Unlock()
}

func (r *recorder) events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

// TestPipelineBucketToBucket runs the local pipeline from an object in one
// bucket to a prefix of another, over the S3 protocol.
func TestPipelineBucketToBucket(t *testing.T) {
	target, err := url.Parse(awstest.StartMoto(t))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{h: httputil.NewSingleHostReverseProxy(target)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rec}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	c := newClient(t, "http://"+l.Addr().String())
	in, outBucket := newBucket(t, c, false), newBucket(t, c, false)
	const key = "incoming/Quarterly report+Q3.pdf"
	doc := pdftest.Doc(5, pdftest.DocOptions{})
	put(t, c, in, key, doc)

	m, err := jobfs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	out, err := publish.Open(t.Context(), "s3://"+outBucket+"/published", publish.S3(c))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	p, err := local.New(local.Config{
		Mount:   m,
		Out:     out,
		Sources: source.Any{Files: source.Files{}, Buckets: source.Buckets{Client: c}},
		Sleep:   func(context.Context, time.Duration) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(t.Context(), local.Input{Source: "s3://" + in + "/" + key}, nil)
	if err != nil || res.Status != jobspec.Succeeded {
		t.Fatalf("run: %+v, %v", res, err)
	}
	etag := fmt.Sprintf("%x", md5.Sum(doc))
	if want := jobfs.ObjectJobID(in, key, etag); res.Job != want {
		t.Fatalf("job %s, want %s", res.Job, want)
	}
	if want := "s3://" + outBucket + "/published/" + res.Job + "/manifest.json"; res.Manifest != want {
		t.Fatalf("manifest URL %s, want %s", res.Manifest, want)
	}

	// Download <prefix>/<job>/ and verify it as a published folder.
	dir := t.TempDir()
	list, err := c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(outBucket), Prefix: aws.String("published/" + res.Job + "/")})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list.Contents {
		got, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(outBucket), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(got.Body)
		got.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(aws.ToString(o.Key), "published/")))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	man := pipetest.Verify(t, dir, res.Job, true)
	if len(man.Pages) != 5 || len(list.Contents) != 5+1+boolInt(man.Dictionary != "") {
		t.Fatalf("%d pages in the manifest, %d objects published", len(man.Pages), len(list.Contents))
	}

	// The manifest's write starts only after every other write has ended.
	manifestKey := path.Join("/", outBucket, "published", res.Job, manifest.File)
	events := rec.events()
	start := -1
	for i, e := range events {
		if e == "start "+manifestKey {
			start = i
		}
	}
	if start < 0 {
		t.Fatalf("no write of %s in %q", manifestKey, events)
	}
	for i, e := range events {
		if i > start && strings.HasPrefix(e, "end ") && e != "end "+manifestKey && strings.Contains(e, "/"+outBucket+"/") {
			t.Fatalf("%s ended after the manifest's write began: %q", e, events)
		}
	}

	// Running the same object again publishes nothing new.
	before := len(rec.events())
	res2, err := p.Run(t.Context(), local.Input{Source: "s3://" + in + "/" + key, Version: etag}, nil)
	if err != nil || res2.Status != jobspec.Succeeded || res2.Job != res.Job {
		t.Fatalf("second run: %+v, %v", res2, err)
	}
	for _, e := range rec.events()[before:] {
		if strings.Contains(e, "/"+outBucket+"/") {
			t.Fatalf("second run wrote to the output: %s", e)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
