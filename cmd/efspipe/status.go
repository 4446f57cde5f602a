package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// cmdStatus shows a job: its execution merged with the checkpoint view
// when a state machine is named, else what the mount says.
func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if cloudConfigured(args) {
		return cmdCloudStatus(ctx, args, stdout, stderr)
	}
	return cmdLocalStatus(ctx, args, stdout)
}

// statusReport is what the mount says of a job and, for a finished job,
// what is at --out: every file there with its size (the check a run
// makes before it reports a job done).
type statusReport struct {
	local.Report
	// Output says whether the publication at --out verifies by size:
	// "verified by size", "damaged: <first problem>" or "not published".
	Output string `json:"output,omitempty"`
}

func cmdLocalStatus(ctx context.Context, args []string, stdout io.Writer) error {
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
	m, err := c.existingMount()
	if err != nil {
		return err
	}
	defer m.Close()
	lr, err := local.Inspect(m, job)
	if err != nil {
		return err
	}
	r := statusReport{Report: lr}
	if r.Status == jobspec.Succeeded {
		_, s3c, err := openSources(ctx, c.out)
		if err != nil {
			return err
		}
		pub, err := checkPublication(ctx, m, c.out, s3c, job, false)
		switch {
		case err != nil:
			r.Output = "damaged: " + pipeerr.Reason(err)
		case pub.none:
			r.Output = "not published"
		case len(pub.problems) > 0:
			r.Output = "damaged: " + summarize(pub.problems)
		default:
			r.Output = "verified by size"
		}
		if r.Output != "verified by size" {
			r.Next = "republish it: efspipe run FILE, or efspipe replay " + job.ID + " (from the checkpoint when the intermediates are there, else from the job's copy of its source)"
		}
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
	if r.Output != "" {
		fmt.Fprintf(stdout, "output  %s: %s\n", c.out, r.Output)
	}
	if s := r.Settings.String(); s != "" {
		// None: ingest refused the job before fixing them.
		fmt.Fprintf(stdout, "settings %s\n", s)
	}
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
