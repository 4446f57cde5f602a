package testenv

import (
	"os"
	"os/exec"
)

// GoBuild is the command `go build -o out pkg` with the given flags before
// the package, plus -race when this test binary itself was built with the
// race detector (make test). go test has then already compiled every
// package the binary needs with -race, so the build is a link from the
// build cache: a cold `make test` compiled the CLI's dependencies three
// more times without it, once per test that builds a binary (94 s of two
// cores each, measured on an empty GOCACHE). The binary the tests run is
// checked for races too.
func GoBuild(out, pkg string, flags ...string) *exec.Cmd {
	args := []string{"build"}
	if Race {
		args = append(args, "-race")
	}
	args = append(args, flags...)
	cmd := exec.Command("go", append(args, "-o", out, pkg)...)
	cmd.Env = os.Environ()
	if Race {
		// The race detector needs cgo, and the go command's cache keys
		// on it: a build with CGO_ENABLED=0 would compile everything
		// again.
		cmd.Env = append(cmd.Env, "CGO_ENABLED=1")
	}
	return cmd
}
