package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// buildVersion is what `efspipe version` says: the module and the VCS
// state the go command recorded when it built this binary.
type buildVersion struct {
	Module  string `json:"module"`
	Version string `json:"version"` // "(devel)" for a build from a checkout
	// Revision, Time and Modified are absent from a build without VCS
	// information (-buildvcs=false, or not built from a checkout).
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified *bool  `json:"modified,omitempty"`
	Go       string `json:"go"`
}

func versionOf(bi *debug.BuildInfo) buildVersion {
	v := buildVersion{Module: bi.Main.Path, Version: bi.Main.Version, Go: bi.GoVersion}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			modified := s.Value == "true"
			v.Modified = &modified
		}
	}
	return v
}

// String is the one line `efspipe version` prints.
func (v buildVersion) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "efspipe %s %s", v.Module, v.Version)
	if v.Revision == "" {
		b.WriteString(", no VCS revision recorded")
	} else {
		fmt.Fprintf(&b, ", revision %s", v.Revision)
		if v.Time != "" {
			fmt.Fprintf(&b, " of %s", v.Time)
		}
		if v.Modified != nil && *v.Modified {
			b.WriteString(" with local modifications")
		}
	}
	fmt.Fprintf(&b, ", %s", v.Go)
	return b.String()
}

// cmdVersion prints the module version and the VCS revision this binary
// was built from.
func cmdVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	fl := flag.NewFlagSet("version", flag.ContinueOnError)
	asJSON := fl.Bool("json", false, "print one JSON object: module, version, revision, time, modified, go")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return usageError{"version takes no arguments"}
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		// Only a binary built without module support lacks build
		// information.
		bi = &debug.BuildInfo{Main: debug.Module{Path: "github.com/efspipe/efspipe", Version: "(unknown)"}, GoVersion: runtime.Version()}
	}
	v := versionOf(bi)
	if *asJSON {
		return printJSON(stdout, v)
	}
	_, err := fmt.Fprintln(stdout, v)
	return err
}
