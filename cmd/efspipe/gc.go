package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/sfnlocal"
)

func cmdGC(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("gc", flag.ContinueOnError)
	var c common
	c.register(fl)
	older := spanFlag(fl, "older-than", 72*time.Hour, "collect jobs idle for longer than this `duration` (90m, 72h, 3d)")
	whole := fl.Bool("all", false, "also remove the whole directory of succeeded jobs (source, journal)")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return usageError{"gc takes no arguments"}
	}
	m, err := c.existingMount()
	if err != nil {
		return err
	}
	defer m.Close()
	// Jobs of serve executions that have not ended are left alone, even
	// between two states, when nothing holds their lock.
	running, err := sfnlocal.RunningJobs(m)
	if err != nil {
		return err
	}
	got, err := local.GC(m, local.GCOptions{OlderThan: *older, Now: time.Now(), Whole: *whole, Running: running})
	if err != nil {
		return err
	}
	if c.json {
		if got == nil {
			got = []local.Collected{} // nothing collected prints [], not null
		}
		b, _ := json.Marshal(got)
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	var total int64
	for _, g := range got {
		fmt.Fprintf(stdout, "%s (%s): removed %d bytes\n", g.Job, g.Status, g.Bytes)
		total += g.Bytes
	}
	jobs := "jobs"
	if len(got) == 1 {
		jobs = "job"
	}
	fmt.Fprintf(stdout, "%d %s collected, %d bytes freed\n", len(got), jobs, total)
	return nil
}
