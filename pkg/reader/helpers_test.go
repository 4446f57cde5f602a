package reader_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/publish"
)

// publishDoc runs the real local pipeline on doc, with a mount under dir,
// and publishes it to out (a folder or, with open, a bucket URL). It
// returns the job ID.
func publishDoc(ctx context.Context, dir string, doc []byte, out string, open publish.Opener) (string, error) {
	src := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(src, doc, 0o644); err != nil {
		return "", err
	}
	m, err := jobfs.Open(filepath.Join(dir, "mount"))
	if err != nil {
		return "", err
	}
	defer m.Close()
	target, err := publish.Open(ctx, out, open)
	if err != nil {
		return "", err
	}
	defer target.Close()
	p, err := local.New(local.Config{Mount: m, Out: target})
	if err != nil {
		return "", err
	}
	res, err := p.Run(ctx, local.Input{Source: src}, nil)
	if err != nil {
		return "", err
	}
	if res.Status != jobspec.Succeeded {
		return "", fmt.Errorf("run: %+v", res)
	}
	return res.Job, nil
}

// published publishes doc in a temp folder and returns the folder and the
// job ID.
func published(t testing.TB, doc []byte) (out, job string) {
	t.Helper()
	out = filepath.Join(t.TempDir(), "out")
	job, err := publishDoc(t.Context(), t.TempDir(), doc, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out, job
}
