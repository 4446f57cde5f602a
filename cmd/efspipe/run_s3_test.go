package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/efspipe/efspipe/internal/awstest"
	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/manifest"
)

// TestRunBucketToBucket runs the local pipeline from an S3 object to an S3
// prefix, as a user of an S3-compatible store does with AWS_ENDPOINT_URL.
// ("in" would be too short: bucket names have 3 to 63 characters.)
func TestRunBucketToBucket(t *testing.T) {
	c := awstest.S3(t, "inbox", "out")
	doc := pdftest.Doc(3, pdftest.DocOptions{})
	if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("inbox"), Key: aws.String("doc.pdf"), Body: bytes.NewReader(doc)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"run", "--json", "--mount", dir, "--out", "s3://out/prefix", "s3://inbox/doc.pdf"}
	res, stderr, code := run(t, args...)
	if code != 0 || res.Status != jobspec.Succeeded || res.Pages != 3 {
		t.Fatalf("exit %d: %+v\n%s", code, res, stderr)
	}
	if err := jobfs.CheckJobID(res.Job); err != nil || res.Job[:2] != "o-" {
		t.Fatalf("job %q is not an object job (%v)", res.Job, err)
	}
	key := "prefix/" + res.Job + "/" + manifest.File
	if res.Manifest != "s3://out/"+key {
		t.Fatalf("manifest reported at %s, want s3://out/%s", res.Manifest, key)
	}
	obj, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("out"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("the manifest did not land: %v", err)
	}
	raw, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	var m manifest.Published
	if err != nil || json.Unmarshal(raw, &m) != nil || m.Job != res.Job || len(m.Pages) != 3 || m.Source.Name != "doc.pdf" {
		t.Fatalf("published manifest %s (%v)", raw, err)
	}
	for _, p := range m.Pages {
		if _, err := c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("out"), Key: aws.String("prefix/" + res.Job + "/" + p.Path)}); err != nil {
			t.Fatalf("page %d did not land: %v", p.Number, err)
		}
	}

	// Again, and as a replay: the same object is the same job, already done.
	for _, again := range [][]string{args, {"replay", "--json", "--mount", dir, "--out", "s3://out/prefix", res.Job}} {
		if r, stderr, code := run(t, again...); code != 0 || r != res {
			t.Fatalf("%v: exit %d: %+v, want %+v\n%s", again, code, r, res, stderr)
		}
	}
}

// A local run never loads the AWS config chain: a broken one does not
// matter until a source or the output is s3://.
func TestLocalRunIgnoresAWSConfig(t *testing.T) {
	awstest.Env(t, "")
	t.Setenv("AWS_PROFILE", "no-such-profile")
	src := writeDoc(t, 1)
	if res, stderr, code := run(t, "run", "--json", "--mount", t.TempDir(), "--out", t.TempDir(), src); code != 0 || res.Status != jobspec.Succeeded {
		t.Fatalf("local run with a broken AWS config: exit %d %+v\n%s", code, res, stderr)
	}
	if _, stderr, code := run(t, "run", "--mount", t.TempDir(), "--out", "s3://out/x", src); code == 0 || !strings.Contains(stderr, "no-such-profile") {
		t.Fatalf("s3 output with a broken AWS config: exit %d %q", code, stderr)
	}
}
