package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/local"
)

// cmdStatus shows a job: its execution merged with the checkpoint view
// when a state machine is named, else what the mount says.
func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if cloudConfigured(args) {
		return cmdCloudStatus(ctx, args, stdout, stderr)
	}
	return cmdLocalStatus(args, stdout)
}

func cmdLocalStatus(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("status", flag.ContinueOnError)
	var c common
	c.register(fl)
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() != 1 {
		return usageError{"status needs a job ID"}
	}
	job, err := jobfs.NewJob(fl.Arg(0))
	if err != nil {
		return usageError{err.Error()}
	}
	m, err := c.openMount()
	if err != nil {
		return err
	}
	defer m.Close()
	r, err := local.Inspect(m, job)
	if err != nil {
		return err
	}
	if c.json {
		b, _ := json.Marshal(r)
		fmt.Fprintln(stdout, string(b))
		return nil
	}
	fmt.Fprintf(stdout, "job     %s\nsource  %s (%d bytes)\nstatus  %s\n", r.Job, r.Source.Name, r.Source.Bytes, r.Status)
	if r.Error != "" {
		fmt.Fprintf(stdout, "error   %s: %s\n", r.Error, r.Cause)
	}
	if r.Pages > 0 {
		shards := "shards"
		if r.Shards == 1 {
			shards = "shard"
		}
		fmt.Fprintf(stdout, "pages   %d in %d %s\n", r.Pages, r.Shards, shards)
	}
	fmt.Fprintf(stdout, "settings %s\n", r.Settings)
	printStages(stdout, r.Stages)
	fmt.Fprintf(stdout, "replay  %s\n", r.Next)
	return nil
}

// printStages prints each stage's verified units, one line a stage.
func printStages(w io.Writer, stages []local.StageProgress) {
	for _, s := range stages {
		line := fmt.Sprintf("  %-10s %d/%d verified", s.Stage, s.Done, s.Units)
		if s.Invalid > 0 {
			line += fmt.Sprintf(", %d no longer verify (will be redone)", s.Invalid)
		}
		fmt.Fprintln(w, line)
	}
}
