package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	if os.Getenv(jsonataWorkerEnv) != "" {
		os.Exit(runJSONataWorker())
	}
	if os.Getenv("GOGC") == "" {
		// A run's heap is mostly one long-lived parse of the document:
		// collecting at 50% growth instead of Go's 100% lowers peak memory
		// by a fifth (Octave manual 101 -> 83 MiB, R manual 195 -> 159 MiB,
		// 10,000 synthetic pages 172 -> 131 MiB) at no measurable time.
		debug.SetGCPercent(50)
	}
	ctx, stop := signalContext()
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// signalContext returns a context cancelled by the first SIGINT or
// SIGTERM, so a command stops at its next step and says how to resume.
// Before it is cancelled the signals get their default action back: a
// second Ctrl-C ends the process at once, even while a stage is stuck in
// a system call that never looks at the context (a hung NFS read). That
// is safe because every write on the mount is atomic and a replay
// resumes from whatever a kill leaves. signal.NotifyContext keeps
// catching the signal until its stop is called, which is why it is not
// used here.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	// Room for the second signal: one that arrives before signal.Stop
	// below (a SIGTERM and a SIGINT sent together) would otherwise be
	// dropped, since signal.Notify never blocks, and the process would
	// go on as if it had been signalled once.
	c := make(chan os.Signal, 2)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-c:
		case <-ctx.Done():
		}
		signal.Stop(c)
		cancel()
		select {
		case sig := <-c:
			// It came before its default action was back: raised again,
			// it now ends the process as it would have after Stop.
			syscall.Kill(syscall.Getpid(), sig.(syscall.Signal))
		default:
		}
	}()
	return ctx, cancel
}

// command is one efspipe command. Its run parses its flags with
// parseFlags, so `efspipe help NAME`, `efspipe NAME -h` and a mistake on
// its command line are handled alike for every command.
type command struct {
	name    string
	args    string // what follows its flags, for the usage line
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands is the CLI, in the order `efspipe help` lists it: a new
// command joins with one line.
var commands = []command{
	{"run", "[FILE]", "run the pipeline locally on FILE (default: the bundled sample)", cmdRun},
	{"replay", "JOB", "resume a job from its checkpoint on the mount", cmdReplay},
	{"status", "JOB", "show what is done, verified and pending for a job", cmdStatus},
	{"list", "", "the jobs on the mount: status, pages, bytes published, age, source", cmdList},
	{"start", "FILE|s3://bucket/key", "start an execution on Step Functions (--state-machine-arn)", cmdStart},
	{"history", "JOB", "the events of a job's latest Step Functions execution", cmdHistory},
	{"serve", "", "a local Step Functions endpoint (--addr, --inbox DIR) running the pipeline", cmdServe},
	{"page", "JOB N|A-B", "page N (or pages A to B) of a published job as PDF, checked against its manifest (-o FILE|DIR)", cmdPage},
	{"verify", "JOB", "re-check every published page of a job against its manifest", cmdVerify},
	{"gc", "", "remove intermediates of jobs idle longer than --older-than (72h)", cmdGC},
	{"version", "", "the module version and the VCS revision it was built from (also --version)", cmdVersion},
}

// Main runs one command and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		switch {
		case name == "help" && len(rest) > 1:
			fmt.Fprintf(stderr, "efspipe: help takes one command\n\n")
			printUsage(stderr)
			return 2
		case name == "help" && len(rest) == 1 && rest[0] != "help":
			// `help CMD` is `CMD -h`: the command's own flag set prints.
			name, rest = rest[0], []string{"-h"}
		default:
			printUsage(stdout)
			return 0
		}
	case "-version", "--version":
		name = "version"
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		fmt.Fprintf(stderr, "efspipe: unknown command %q\n\n", name)
		printUsage(stderr)
		return 2
	}
	c := commands[i]
	err := c.run(ctx, rest, stdout, stderr)
	var help helpRequest
	var ue usageError
	var jf jobFailed
	var ie interruptedError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		c.printUsage(stdout, help.flags)
		return 0
	case errors.As(err, &ie):
		fmt.Fprintf(stderr, "efspipe: %s\n", ie.Error())
		return exitInterrupted
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "efspipe: %s\nusage: efspipe %s\nrun 'efspipe help %s' for its flags\n", ue.msg, c.synopsis(), c.name)
		return 2
	case errors.As(err, &jf):
		fmt.Fprintf(stderr, "efspipe: %s: %s\n", jf.name, jf.reason)
		return 1
	}
	fmt.Fprintf(stderr, "efspipe: %v\n", err)
	return 1
}

// parseFlags parses a command's flags. -h or --help asks Main to print
// the command's usage and flags on stdout (exit 0); a mistake is a
// usageError (stderr, exit 2). The flag package itself prints nothing.
//
// Flags may come before or after the arguments (status JOB --out DIR);
// "--" ends the flags. fl.Args() is the arguments afterwards.
func parseFlags(fl *flag.FlagSet, args []string) error {
	fl.SetOutput(io.Discard)
	var pos []string
	for {
		err := fl.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			return helpRequest{fl}
		case err != nil:
			return usageError{err.Error()}
		}
		rest := fl.Args()
		if i := len(args) - len(rest); len(rest) == 0 || i > 0 && args[i-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	// Parse again with only the arguments, after "--": the flags keep
	// their values and fl.Args() becomes every argument.
	return fl.Parse(append([]string{"--"}, pos...))
}

// helpRequest is -h or --help on a command's command line.
type helpRequest struct{ flags *flag.FlagSet }

func (helpRequest) Error() string { return "help requested" }

func (c command) synopsis() string {
	if c.args == "" {
		return c.name + " [flags]"
	}
	return c.name + " [flags] " + c.args
}

// printUsage prints c's usage line and summary, then its flags as the
// flag package prints them.
func (c command) printUsage(w io.Writer, fl *flag.FlagSet) {
	fmt.Fprintf(w, "usage: efspipe %s\n\n%s\n\nflags:\n", c.synopsis(), c.summary)
	fl.SetOutput(w)
	fl.PrintDefaults()
}

// printUsage prints the list of commands.
func printUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: efspipe <command> [flags] [args]\n\ncommands:\n")
	for _, c := range commands {
		head := strings.TrimSpace(c.name + " " + c.args)
		if len(head) > 14 {
			fmt.Fprintf(w, "  %s\n  %-14s %s\n", head, "", c.summary)
		} else {
			fmt.Fprintf(w, "  %-14s %s\n", head, c.summary)
		}
	}
	fmt.Fprint(w, usageFooter)
}

// exitInterrupted is the exit code of a command stopped by SIGINT or
// SIGTERM, as a shell reports a process killed by SIGINT (128 + 2).
const exitInterrupted = 130

// jobFailed is a job that ended FAILED: one line, naming the file.
type jobFailed struct{ name, reason string }

func (e jobFailed) Error() string { return e.name + ": " + e.reason }

const usageFooter = `  help [COMMAND] this text, or a command's usage and flags

  With --state-machine-arn (or EFSPIPE_STATE_MACHINE_ARN), replay and status
  use Step Functions (--endpoint-url, or AWS_ENDPOINT_URL, points anywhere):
  'efspipe replay --state-machine-arn ARN -h' lists their flags then.

flags many commands share (put them after the command; 'efspipe help CMD'
says which it takes):
  --mount DIR    the shared mount (default ./.efspipe, env EFSPIPE_MOUNT)
  --out DIR      where jobs are published: a folder or s3://bucket/prefix
                 (default ./out, env EFSPIPE_OUT)
  --json         print JSON on stdout

run 'efspipe help <command>' or 'efspipe <command> -h' for a command's flags.
`

// span is a flag.Value for a length of time: a Go duration (90m, 72h,
// 1h30m) or a whole number of days (3d, the unit people give retention
// in), never negative. flag.Duration answered "3d" with a bare "parse
// error" and took "-5h", which makes every job idle "longer" than it.
type span struct{ d *time.Duration }

func spanFlag(fl *flag.FlagSet, name string, value time.Duration, usage string) *time.Duration {
	d := value
	fl.Var(span{&d}, name, usage)
	return &d
}

func (s span) String() string {
	if s.d == nil {
		return ""
	}
	return s.d.String()
}

func (s span) Set(v string) error {
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(v, "d"); ok {
		var n int64
		n, err = strconv.ParseInt(days, 10, 32)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(v)
	}
	switch {
	case err != nil:
		return errors.New("want a length of time such as 90m, 72h or 3d")
	case d < 0:
		return errors.New("a length of time cannot be negative")
	}
	*s.d = d
	return nil
}
