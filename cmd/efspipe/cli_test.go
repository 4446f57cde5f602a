package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
)

// Every command in the table prints its usage and flags on stdout, exit
// 0, for `help CMD`, `CMD -h` and `CMD --help`, and does nothing else
// (run -h runs nothing, serve -h listens nowhere).
func TestHelpEveryCommand(t *testing.T) {
	t.Setenv(envStateMachine, "") // replay and status: the local flags
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			want, stderr, code := cli(t, "help", c.name)
			if code != 0 || stderr != "" {
				t.Fatalf("help %s: exit %d, stderr %q", c.name, code, stderr)
			}
			if !strings.HasPrefix(want, "usage: efspipe "+c.name+" [flags]") || !strings.Contains(want, c.summary) || !strings.Contains(want, "\nflags:\n  -") {
				t.Fatalf("help %s printed %q", c.name, want)
			}
			for _, h := range []string{"-h", "--help", "-help"} {
				got, stderr, code := cli(t, c.name, h)
				if code != 0 || stderr != "" || got != want {
					t.Errorf("%s %s: exit %d, stdout %q, stderr %q", c.name, h, code, got, stderr)
				}
			}
		})
	}
	// The list of commands: on stdout when asked for, naming every one.
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"help", "help"}} {
		out, stderr, code := cli(t, args...)
		if code != 0 || stderr != "" || !strings.HasPrefix(out, "usage: efspipe <command>") {
			t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
		}
		for _, c := range commands {
			if !strings.Contains(out, "\n  "+c.name) {
				t.Errorf("%v does not list %s", args, c.name)
			}
		}
	}
}

// A mistake on the command line goes to stderr with exit 2, naming the
// command's usage; stdout stays empty.
func TestUsageMistakes(t *testing.T) {
	t.Setenv(envStateMachine, "")
	for _, c := range commands {
		_, stderr, code := cli(t, c.name, "--no-such-flag")
		if code != 2 || !strings.Contains(stderr, "flag provided but not defined: -no-such-flag") || !strings.Contains(stderr, "usage: efspipe "+c.name+" [flags]") {
			t.Errorf("%s --no-such-flag: exit %d, stderr %q", c.name, code, stderr)
		}
	}
	for _, args := range [][]string{
		{}, {"no-such-command"}, {"help", "no-such-command"}, {"help", "run", "replay"},
		{"status"}, {"list", "extra"}, {"version", "extra"}, {"gc", "--older-than", "soon"},
		{"gc", "--older-than", "-5h"}, {"gc", "--older-than", "1.5d"}, {"serve", "--inbox-settle", "-1s"},
	} {
		stdout, stderr, code := cli(t, args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, "usage: efspipe ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

// A setting no job can run with is a usage error naming the value given,
// before any job is locked: it used to fail as the job's ingest (exit 1,
// the level quoted as "zstd-bogus"), leaving a job directory that list
// showed as INCOMPLETE.
func TestBadSettingIsAUsageError(t *testing.T) {
	src := writeDoc(t, 1)
	for _, c := range []struct{ flag, value, says string }{
		{"--level", "bogus", `unknown compression level "bogus"`},
		{"--max-bytes", "-5", "max_bytes must be positive"},
		{"--shard-pages", "-1", "shard_pages must be at least 1"},
	} {
		mount := t.TempDir()
		_, stderr, code := cli(t, "run", "--mount", mount, "--out", t.TempDir(), c.flag, c.value, src)
		if code != 2 || !strings.Contains(stderr, c.says) || !strings.Contains(stderr, "usage: efspipe run") {
			t.Errorf("%s %s: exit %d, stderr %q", c.flag, c.value, code, stderr)
		}
		if ents, _ := os.ReadDir(mount); len(ents) != 0 {
			t.Errorf("%s %s: left %d entries on the mount", c.flag, c.value, len(ents))
		}
	}
}

// Commands on the jobs of a mount say when --mount names none, and create
// nothing: they made the directory, so a mistyped --mount left one behind
// and gc reported "0 jobs collected".
func TestMissingMount(t *testing.T) {
	t.Setenv(envStateMachine, "")
	job := "f-0000000000000000000000000000000000000001"
	for _, args := range [][]string{{"gc"}, {"status", job}, {"replay", job}} {
		mount := filepath.Join(t.TempDir(), "typo")
		_, stderr, code := cli(t, append([]string{args[0], "--mount", mount, "--out", t.TempDir()}, args[1:]...)...)
		if code != 1 || !strings.Contains(stderr, "the mount "+mount+" does not exist") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
		if _, err := os.Stat(mount); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v made the mount directory: %v", args, err)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		out, stderr, code := cli(t, args...)
		if code != 0 || stderr != "" || !strings.HasPrefix(out, "efspipe github.com/efspipe/efspipe ") || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, stderr)
		}
	}
	var v buildVersion
	cliJSON(t, &v, "version")
	if v.Module != "github.com/efspipe/efspipe" || v.Version == "" || !strings.HasPrefix(v.Go, "go") {
		t.Errorf("version --json: %+v", v)
	}
	// The binary the go command built says the same.
	out, err := exec.Command(binary, "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "efspipe github.com/efspipe/efspipe ") {
		t.Errorf("efspipe --version: %q, %v", out, err)
	}
}

// What the go command records of a checkout is printed on one line, and
// in JSON as such.
func TestVersionLine(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/efspipe/efspipe", Version: "v1.2.3"}}
	if got, want := versionOf(bi).String(), "efspipe github.com/efspipe/efspipe v1.2.3, no VCS revision recorded, go1.26.8"; got != want {
		t.Errorf("no VCS:\n got %s\nwant %s", got, want)
	}
	bi.Settings = []debug.BuildSetting{
		{Key: "-buildmode", Value: "exe"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "1ad3a56e0f1c2b3d4e5f60718293a4b5c6d7e8f9"},
		{Key: "vcs.time", Value: "2026-12-01T06:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	v := versionOf(bi)
	if got, want := v.String(), "efspipe github.com/efspipe/efspipe v1.2.3, revision 1ad3a56e0f1c2b3d4e5f60718293a4b5c6d7e8f9 of 2026-12-01T06:00:00Z with local modifications, go1.26.8"; got != want {
		t.Errorf("VCS:\n got %s\nwant %s", got, want)
	}
	b, _ := json.Marshal(v)
	if want := `{"module":"github.com/efspipe/efspipe","version":"v1.2.3","revision":"1ad3a56e0f1c2b3d4e5f60718293a4b5c6d7e8f9","time":"2026-12-01T06:00:00Z","modified":true,"go":"go1.26.8"}`; string(b) != want {
		t.Errorf("JSON:\n got %s\nwant %s", b, want)
	}
	bi.Settings[4].Value = "false"
	if got := versionOf(bi).String(); strings.Contains(got, "modifications") {
		t.Errorf("unmodified: %s", got)
	}
}

// TestFlagsAfterArguments: every command takes its flags before or after
// its arguments, and "--" ends the flags (a file named like a flag).
func TestFlagsAfterArguments(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "-odd.pdf")
	if err := os.WriteFile(doc, pdftest.Doc(2, pdftest.DocOptions{}), 0o644); err != nil {
		t.Fatal(err)
	}
	mount, out := t.TempDir(), t.TempDir()
	t.Chdir(dir)
	r, stderr, code := run(t, "run", "--json", "--mount", mount, "--out", out, "--", "-odd.pdf")
	if code != 0 || r.Pages != 2 {
		t.Fatalf("run -- -odd.pdf: exit %d %+v %s", code, r, stderr)
	}
	for _, args := range [][]string{
		{"status", r.Job, "--mount", mount, "--out", out, "--json"},
		{"replay", r.Job, "--mount", mount, "--out", out, "--json"},
		{"run", "--json", "--", "-odd.pdf", "--mount", mount, "--out", out},
	} {
		stdout, stderr, code := cli(t, args...)
		if args[len(args)-1] == out {
			// After "--", "--mount" is a second file: one at a time.
			if code != 2 {
				t.Errorf("%v: exit %d, %s", args, code, stderr)
			}
			continue
		}
		if code != 0 || !strings.Contains(stdout, r.Job) {
			t.Errorf("%v: exit %d, %q %s", args, code, stdout, stderr)
		}
	}
}
