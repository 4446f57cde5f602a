package s3direct_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/efspipe/efspipe/internal/awstest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/publish/publishtest"
	"github.com/efspipe/efspipe/pkg/publish/s3direct"
)

func TestTarget(t *testing.T) {
	c := awstest.S3(t, "out")
	for _, tc := range []struct{ out, prefix, base string }{
		{"s3://out/some/prefix/", "some/prefix", "s3://out/some/prefix/"},
		{"s3://out", "", "s3://out/"},
	} {
		t.Run(tc.out, func(t *testing.T) {
			tgt, err := s3direct.Open(c, tc.out)
			if err != nil {
				t.Fatal(err)
			}
			publishtest.Run(t, tgt, tc.base, publishtest.S3ContentType(c, "out", tc.prefix))
		})
	}

	// A missing bucket is configuration, not a missing object: Get must not
	// report found=false, and neither call is retried.
	missing, err := s3direct.Open(c, "s3://no-such-bucket/x")
	if err != nil {
		t.Fatal(err)
	}
	if err := missing.Put(t.Context(), "a", []byte("b")); pipeerr.KindOf(err) != pipeerr.BadRequest {
		t.Errorf("Put to a missing bucket: %v (%s), want %s", err, pipeerr.KindOf(err), pipeerr.BadRequest)
	}
	if _, found, err := missing.Get(t.Context(), "a"); found || pipeerr.KindOf(err) != pipeerr.BadRequest {
		t.Errorf("Get from a missing bucket: found %v, %v, want %s", found, err, pipeerr.BadRequest)
	}
}

func TestOpenRefuses(t *testing.T) {
	for _, out := range []string{"gs://bucket/x", "s3:///nobucket", "/local/dir", ""} {
		if _, err := s3direct.Open(&s3.Client{}, out); pipeerr.KindOf(err) != pipeerr.BadRequest {
			t.Errorf("%q: %v", out, err)
		}
	}
	if _, err := s3direct.Open(nil, "s3://b/p"); pipeerr.KindOf(err) != pipeerr.Internal {
		t.Errorf("no client: %v", err)
	}
}

// The package exists to keep gocloud out of the finalize Lambda.
func TestNoGocloud(t *testing.T) {
	for _, pkg := range []string{".", "../../../stages/finalize/lambda"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "gocloud.dev/") || strings.HasPrefix(dep, "google.golang.org/grpc") || strings.HasPrefix(dep, "go.opentelemetry.io/") {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
