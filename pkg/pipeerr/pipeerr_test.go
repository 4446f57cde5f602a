package pipeerr_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// File-system faults that no retry heals have kinds of their own, however
// they are wrapped; the ones that can heal stay Transient.IO.
func TestKindOf(t *testing.T) {
	pathErr := func(errno syscall.Errno) error {
		return &os.PathError{Op: "write", Path: "/mnt/efs/jobs/j/source.pdf", Err: errno}
	}
	for _, tt := range []struct {
		name string
		err  error
		want pipeerr.Kind
	}{
		{"ENOSPC", pathErr(syscall.ENOSPC), pipeerr.NoSpace},
		{"EDQUOT", pathErr(syscall.EDQUOT), pipeerr.NoSpace},
		{"EROFS", pathErr(syscall.EROFS), pipeerr.ReadOnly},
		{"EACCES", pathErr(syscall.EACCES), pipeerr.Permission},
		{"EPERM", pathErr(syscall.EPERM), pipeerr.Permission},
		{"EIO", pathErr(syscall.EIO), pipeerr.IO},
		{"ETIMEDOUT (a dropped NFS connection)", pathErr(syscall.ETIMEDOUT), pipeerr.IO},
		{"ESTALE", pathErr(syscall.ESTALE), pipeerr.IO},
		{"not exist", pathErr(syscall.ENOENT), pipeerr.Internal},
		{"Wrap(IO) of ENOSPC", pipeerr.Wrap(pipeerr.IO, pathErr(syscall.ENOSPC), "copy x"), pipeerr.NoSpace},
		{"Wrap(IO) of EROFS, wrapped again", fmt.Errorf("ingest: %w", pipeerr.Wrap(pipeerr.IO, pathErr(syscall.EROFS), "copy x")), pipeerr.ReadOnly},
		{"an IO error built by hand around EACCES", &pipeerr.Error{Kind: pipeerr.IO, Err: pathErr(syscall.EACCES)}, pipeerr.Permission},
		{"Wrap(IO) of EIO", pipeerr.Wrap(pipeerr.IO, pathErr(syscall.EIO), "copy x"), pipeerr.IO},
		{"Wrap(BadRequest) of EACCES keeps its kind", pipeerr.Wrap(pipeerr.BadRequest, pathErr(syscall.EACCES), "source"), pipeerr.BadRequest},
		{"deadline", context.DeadlineExceeded, pipeerr.Timeout},
		{"plain", errors.New("boom"), pipeerr.Internal},
		{"ErrPermission", fs.ErrPermission, pipeerr.Permission},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := pipeerr.KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf(%v) = %s, want %s", tt.err, got, tt.want)
			}
		})
	}
}

// Storage faults are neither retried nor the input's fault; the
// Lambda-reported name is the kind.
func TestStorageKinds(t *testing.T) {
	for _, k := range []pipeerr.Kind{pipeerr.NoSpace, pipeerr.ReadOnly, pipeerr.Permission} {
		if k.Retryable() || k.Permanent() || k.Summary() == "" {
			t.Errorf("%s: retryable %v, permanent %v, summary %q", k, k.Retryable(), k.Permanent(), k.Summary())
		}
	}
	err := pipeerr.ForLambda(pipeerr.Wrap(pipeerr.IO, &os.PathError{Op: "write", Path: "jobs/j/x", Err: syscall.ENOSPC}, "write jobs/j/x"))
	if got := fmt.Sprintf("%T %v", err, err); got == "" || pipeerr.KindOf(err) != pipeerr.NoSpace {
		t.Errorf("ForLambda: %s", got)
	}
	if !pipeerr.NotPDF.Permanent() || pipeerr.Internal.Permanent() || pipeerr.IO.Permanent() {
		t.Error("Permanent is InvalidInput.* only")
	}
}
