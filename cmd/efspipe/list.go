package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/local"
)

// listed is one job as `efspipe list --json` prints it.
type listed struct {
	local.Summary
	// AgeSeconds is how long ago the job last did work; absent when its
	// directory could not be read for that.
	AgeSeconds *int64 `json:"age_seconds,omitempty"`
}

// cmdList prints the jobs on the mount, most recently active first.
func cmdList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("list", flag.ContinueOnError)
	mount := fl.String("mount", envOr("EFSPIPE_MOUNT", ".efspipe"), "the shared mount `DIR`")
	asJSON := fl.Bool("json", false, "print a JSON array of the jobs on stdout ([] when there are none)")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return usageError{"list takes no arguments"}
	}
	jobs := []listed{}
	// A mount that does not exist has no jobs: listing creates nothing.
	if _, err := os.Stat(*mount); !errors.Is(err, fs.ErrNotExist) {
		m, err := jobfs.Open(*mount)
		if err != nil {
			return err
		}
		defer m.Close()
		sums, err := local.List(m)
		if err != nil {
			return err
		}
		now := time.Now()
		for _, s := range sums {
			l := listed{Summary: s}
			if !s.LastActivity.IsZero() {
				age := max(0, int64(now.Sub(s.LastActivity).Seconds()))
				l.AgeSeconds = &age
			}
			jobs = append(jobs, l)
		}
	}
	if *asJSON {
		return printJSON(stdout, jobs)
	}
	if len(jobs) == 0 {
		fmt.Fprintf(stdout, "no jobs on the mount %s\n", *mount)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSTATUS\tPAGES\tBYTES\tAGE\tSOURCE")
	for _, j := range jobs {
		status, source, age := j.Status, j.Source, "?"
		if j.Error != "" {
			status += " (" + j.Error + ")"
		}
		if j.AgeSeconds != nil {
			age = shortAge(time.Duration(*j.AgeSeconds) * time.Second)
		}
		if j.Problem != "" {
			source = strings.TrimSpace(source + " [cannot read: " + j.Problem + "]")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", j.Job, status, count(j.Pages), count(j.Bytes), age, source)
	}
	return tw.Flush()
}

// count prints an unknown (zero) count as "-".
func count[N int | int64](n N) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

// shortAge is d in its largest whole unit: 42s, 5m, 3h, 12d.
func shortAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
