package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	if os.Getenv("GOGC") == "" {
		// A run's heap is mostly one long-lived parse of the document:
		// collecting at 50% growth instead of Go's 100% lowers peak memory
		// by a fifth (Octave manual 101 -> 83 MiB, R manual 195 -> 159 MiB,
		// 10,000 synthetic pages 172 -> 131 MiB) at no measurable time.
		debug.SetGCPercent(50)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs one command and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(ctx, args[1:], stdout, stderr, false)
	case "replay":
		if cloudConfigured(args[1:]) {
			err = cmdCloudReplay(ctx, args[1:], stdout, stderr)
		} else {
			err = cmdRun(ctx, args[1:], stdout, stderr, true)
		}
	case "status":
		if cloudConfigured(args[1:]) {
			err = cmdCloudStatus(ctx, args[1:], stdout, stderr)
		} else {
			err = cmdStatus(ctx, args[1:], stdout)
		}
	case "start":
		err = cmdStart(ctx, args[1:], stdout, stderr)
	case "history":
		err = cmdHistory(ctx, args[1:], stdout, stderr)
	case "serve":
		err = cmdServe(ctx, args[1:], stderr)
	case "gc":
		err = cmdGC(ctx, args[1:], stdout, stderr)
	case "page":
		err = cmdPage(ctx, args[1:], stdout, stderr)
	case "verify":
		err = cmdVerify(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
	var ue usageError
	var jf jobFailed
	var ie interruptedError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ie):
		fmt.Fprintf(stderr, "efspipe: %s\n", ie.Error())
		return exitInterrupted
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "efspipe: %s\n\n%s", ue.msg, usage)
		return 2
	case errors.As(err, &jf):
		fmt.Fprintf(stderr, "efspipe: %s: %s\n", jf.name, jf.reason)
		return 1
	}
	fmt.Fprintf(stderr, "efspipe: %v\n", err)
	return 1
}

// exitInterrupted is the exit code of a command stopped by SIGINT or
// SIGTERM, as a shell reports a process killed by SIGINT (128 + 2).
const exitInterrupted = 130

// jobFailed is a job that ended FAILED: one line, naming the file.
type jobFailed struct{ name, reason string }

func (e jobFailed) Error() string { return e.name + ": " + e.reason }

const usage = `usage: efspipe <command> [flags] [args]

commands:
  run [FILE]     run the pipeline locally on FILE (default: the bundled sample)
  replay JOB     resume a job from its checkpoint on the mount
  status JOB     show what is done, verified and pending for a job
  start FILE|s3://bucket/key
                 start an execution on Step Functions (--state-machine-arn)
  history JOB    the events of a job's latest Step Functions execution
  serve          a local Step Functions endpoint (--addr, --inbox DIR) running the pipeline
  gc             remove intermediates of jobs idle longer than --older-than (72h)
  page JOB N [-o FILE]
                 page N of a published job as a one-page PDF, checked against the
                 manifest (stdout, or FILE); a range A-B needs -o DIR (DIR/NNNNNN.pdf)
  verify JOB     re-check every published page of a job (--json: all problems)

  With --state-machine-arn (or EFSPIPE_STATE_MACHINE_ARN), replay and status
  use Step Functions (--endpoint-url, or AWS_ENDPOINT_URL, points anywhere).

common flags (put them after the command):
  --mount DIR    the shared mount (default ./.efspipe, env EFSPIPE_MOUNT)
  --out DIR      where jobs are published (default ./out, env EFSPIPE_OUT)
  --json         print one JSON object with the outcome on stdout

run 'efspipe <command> -h' for a command's flags.
`
