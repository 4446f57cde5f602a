// Package testenv says whether an outside tool a test needs is installed,
// and builds the binaries tests run as processes.
//
// Invariant: a test that needs a tool skips, saying so, when the tool is
// absent on a developer's machine, and fails when it is absent in CI (the
// CI environment variable is set): CI installs every tool the tests use,
// so there the test always runs (as x/tools' testenv.NeedsTool). A binary
// a test builds is built as the test itself was (with or without the race
// detector), so it links from what go test already compiled.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// NeedsTool returns the path of the tool name, skipping t when it is not
// installed, or failing t when it is not installed in CI.
func NeedsTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed, and CI must install it (.ci/run)", name)
		}
		t.Skipf("%s not installed; skipping (CI installs it)", name)
	}
	return p
}
