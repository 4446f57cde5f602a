package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/publish"
	"github.com/efspipe/efspipe/pkg/secret"
	"github.com/efspipe/efspipe/pkg/source"
	"github.com/efspipe/efspipe/pkg/zlevel"
	"github.com/efspipe/efspipe/testdata"
)

// common are the flags every local command takes.
type common struct {
	mount, out string
	json       bool
	verbose    bool
	logFormat  string
	uid, gid   int
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.mount, "mount", envOr("EFSPIPE_MOUNT", ".efspipe"), "the shared mount `DIR`")
	outFlag(fs, &c.out)
	fs.BoolVar(&c.json, "json", false, "print one JSON object with the outcome on stdout")
	fs.BoolVar(&c.verbose, "v", false, "log every stage call on stderr, each line naming its job and stage")
	fs.StringVar(&c.logFormat, "log-format", envOr("EFSPIPE_LOG_FORMAT", "text"), "log lines as `text` (key=value) or json (one object a line)")
	fs.IntVar(&c.uid, "uid", envIntOr("EFSPIPE_UID", -1), "give what this process creates on the mount to user `ID` (the EFS access point's POSIX user; needs root; default: as root, the owner of the mount directory)")
	fs.IntVar(&c.gid, "gid", envIntOr("EFSPIPE_GID", -1), "with --uid, the group `ID` (default: the mount directory's group)")
}

// logger logs on w in the --log-format chosen: with -v every stage call,
// else only what is at least quiet (slog.LevelWarn; above every level
// for nothing).
func (c *common) logger(w io.Writer, quiet slog.Level) (*slog.Logger, error) {
	level := quiet
	if c.verbose {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Sprintf("--log-format %q: text or json", c.logFormat)}
}

// existingMount opens the mount of a command that works on jobs already
// there (replay, status, gc): one that does not exist is an error naming
// it, where opening it made the directory (a mistyped --mount left one
// behind, and gc reported "0 jobs collected"). list creates nothing
// either.
func (c *common) existingMount() (*jobfs.Mount, error) {
	if _, err := os.Stat(c.mount); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the mount %s does not exist (--mount, env EFSPIPE_MOUNT)", c.mount)
	}
	return c.openMount()
}

// openMount opens the mount, giving what this process creates there to
// the user of --uid/--gid. Without them, a root process gives it to the
// owner of the mount directory when that is not root: on EFS the access
// point's root directory belongs to its POSIX user, and a job an operator
// ran as root must stay usable by the functions (and by `efspipe` run as
// that user) afterwards.
func (c *common) openMount() (*jobfs.Mount, error) {
	var opts jobfs.Options
	switch {
	case c.uid >= 0:
		owner := jobfs.Owner{UID: c.uid, GID: c.gid}
		if owner.GID < 0 {
			if os.MkdirAll(c.mount, 0o750) == nil {
				if o, err := jobfs.DirOwner(c.mount); err == nil {
					owner.GID = o.GID
				}
			}
		}
		if owner.GID < 0 {
			return nil, usageError{"--uid needs --gid: the mount directory's group is unknown"}
		}
		opts.Owner = &owner
	case c.gid >= 0:
		return nil, usageError{"--gid needs --uid"}
	case os.Geteuid() == 0:
		if o, err := jobfs.DirOwner(c.mount); err == nil && o.UID != 0 {
			opts.Owner = &o
		}
	}
	return jobfs.OpenWith(c.mount, opts)
}

// outFlag is --out: where jobs are published, a folder or s3://bucket/prefix.
func outFlag(fs *flag.FlagSet, out *string) {
	fs.StringVar(out, "out", envOr("EFSPIPE_OUT", "out"), "jobs are published under `DIR` (a folder, or s3://bucket/prefix)")
}

func envIntOr(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return n
	}
	return def
}

func envInt(key string) int {
	n, _ := strconv.Atoi(os.Getenv(key))
	return n
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runOrReplay(ctx, args, stdout, stderr, false)
}

// cmdReplay resumes a job: on Step Functions when a state machine is
// named, else here, from the job's checkpoint on the mount.
func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if cloudConfigured(args) {
		return cmdCloudReplay(ctx, args, stdout, stderr)
	}
	return runOrReplay(ctx, args, stdout, stderr, true)
}

func runOrReplay(ctx context.Context, args []string, stdout, stderr io.Writer, replay bool) error {
	name := "run"
	if replay {
		name = "replay"
	}
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	var c common
	c.register(fl)
	var (
		settings jobspec.Settings
		level    string
		fresh    bool
		password string
	)
	fl.IntVar(&settings.ShardPages, "shard-pages", 0, "pages per compress shard (default 256)")
	fl.StringVar(&level, "level", "", "zstd level: auto, fastest, default, better or best (default: auto, which is default or, for documents sharing over 512 KiB of objects, better; fastest finds little in the shared dictionary and can publish many times the source)")
	fl.Int64Var(&settings.MaxBytes, "max-bytes", 0, "refuse inputs over this many bytes (default 2 GiB)")
	fl.IntVar(&settings.MaxPages, "max-pages", 0, "refuse documents with more pages (default 100000)")
	fl.BoolVar(&settings.Keep, "keep", false, "keep intermediates on the mount after publishing")
	fl.BoolVar(&fresh, "fresh", false, "discard the job's checkpoint and start over")
	noWait := fl.Bool("no-wait", false, "fail at once when another run, replay or serve execution is processing the job, instead of waiting for it")
	splitWorkers := fl.Int("split-workers", 0, "split workers, each holding its own parse of the document (default: cores - 1, at most 4)")
	fl.StringVar(&password, "password", "", "refused: a password on the command line is visible to every user (ps); use --password-env or --password-file")
	var ref secret.Ref
	fl.StringVar(&ref.Env, "password-env", "", "the user password of an encrypted PDF is in environment variable `NAME` (only the name is recorded)")
	fl.StringVar(&ref.File, "password-file", "", "the user password of an encrypted PDF is in file `PATH`, less a trailing newline (only the path is recorded)")
	fl.StringVar(&ref.SecretArn, "password-secret-arn", "", "the user password is in a Secrets Manager secret or an SSM SecureString parameter with this `ARN` (read with the AWS configuration of the environment)")
	memLimit := fl.Int("memory-limit", envInt("EFSPIPE_MEMORY_LIMIT_MIB"), "Go soft memory limit in MiB, so the runtime collects before the OS kills (default none)")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	// Progress bars say how far a run is; without -v the log stays quiet.
	log, err := c.logger(stderr, slog.LevelError+1)
	if err != nil {
		return err
	}
	if password != "" {
		return usageError{"--password is not accepted: a password on the command line is visible to every user of the machine; use --password-env NAME or --password-file PATH"}
	}
	if ref.File != "" {
		abs, err := filepath.Abs(ref.File)
		if err != nil {
			return usageError{err.Error()}
		}
		ref.File = abs
	}
	if err := ref.Check(); err != nil {
		return usageError{pipeerr.Reason(err)}
	}
	settings.Level = zlevel.Level(level)
	// A setting no job can run with is the command line's mistake: refused
	// before a job is locked, which would leave its directory on the mount
	// as if a run had been interrupted in ingest. Unset ones take defaults.
	if err := settings.Over(jobspec.Defaults()).Validate(); err != nil {
		return usageError{pipeerr.Reason(err)}
	}
	if *memLimit > 0 {
		debug.SetMemoryLimit(int64(*memLimit) << 20)
	}

	open := c.openMount
	if replay {
		open = c.existingMount
	}
	m, err := open()
	if err != nil {
		return err
	}
	defer m.Close()

	src, version, display, cleanup, err := resolveSource(m, fl.Args(), replay)
	if err != nil {
		return err
	}
	defer cleanup()
	anySource, s3c, err := openSources(ctx, src, c.out)
	if err != nil {
		return err
	}
	// A source inside the mount (a replay's jobs/<job>/source.pdf) is read
	// through the mount's root, never through a symlink planted there.
	sources := source.OnMount(m, anySource)
	var opener publish.Opener
	if s3c != nil {
		opener = publish.S3(s3c)
	}
	out, err := publish.Open(ctx, c.out, opener)
	if err != nil {
		return err
	}
	defer out.Close()
	// A folder that cannot be written, or a bucket that does not exist,
	// is found before the job starts, not at publish after all the work.
	if err := out.Check(ctx); err != nil {
		return err
	}
	var (
		obj      source.Object
		reingest bool
	)
	if replay && !source.IsS3(src) {
		obj, src, reingest, err = replaySource(ctx, m, sources, fl.Arg(0), stderr)
	} else {
		obj, err = sources.Stat(ctx, src, version)
	}
	if err != nil {
		if ctx.Err() != nil {
			return interrupted(stdout, c.json, "")
		}
		return jobFailed{display, pipeerr.Reason(err)}
	}
	job, err := jobfs.NewJob(obj.JobID)
	if err != nil {
		return err
	}
	unlock, err := m.Lock(job)
	if pipeerr.KindOf(err) == pipeerr.Busy && !*noWait {
		// Another engine is on this job: wait for it, then find its work
		// done (or resume what it left), rather than fail.
		fmt.Fprintf(stderr, "job %s is being processed by another run; waiting for it (--no-wait to fail instead)\n", job.ID)
		unlock, err = m.LockWait(ctx, job)
	}
	if err != nil {
		if ctx.Err() != nil {
			return interrupted(stdout, c.json, job.ID)
		}
		return jobFailed{display, pipeerr.Reason(err)}
	}
	defer unlock()
	// A finished job's publication is checked against its sealed
	// manifest, before --fresh discards that.
	pub, err := checkPublication(ctx, m, c.out, s3c, job, replay)
	if err != nil {
		if ctx.Err() != nil {
			return interrupted(stdout, c.json, job.ID)
		}
		return jobFailed{display, pipeerr.Reason(err)}
	}
	if !fresh {
		if fresh, err = startOver(m, job, settings, replay, stderr); err != nil {
			return err
		}
	}
	done, mended, redo, err := pub.mend(ctx, stderr, m, out, job, fresh)
	if err != nil {
		return jobFailed{display, pipeerr.Reason(err)}
	}
	if done {
		return report(stdout, stderr, c.json, display, pub.result(out, job))
	}
	switch {
	case fresh:
		// A replay running on the job's verified copy of its source keeps
		// that copy, its ingest record and its settings: the original may
		// be gone, and the copy is the job's content.
		if err := discard(m, job, replay && !reingest && !source.IsS3(src)); err != nil {
			return err
		}
	case redo:
		// Redone from the job's own copy of its source, with its own
		// settings: the pipeline is deterministic, so the pages come out
		// as they were first published (checked after the run).
		if err := discard(m, job, true); err != nil {
			return err
		}
	}

	progress := newProgress(stderr, c.json)
	defer progress.Close()
	p, err := local.New(local.Config{Mount: m, Out: out, Sources: source.Remember(sources, src, version, obj), Settings: settings, SplitWorkers: *splitWorkers, Progress: progress, Log: log, Secrets: localSecrets(false, nil)})
	if err != nil {
		return err
	}
	if progress.on {
		fmt.Fprintf(stderr, "job %s (%s)\n", job.ID, display)
	}
	// A source re-ingested from its original starts a new execution: the
	// recorded one's input names the copy that no longer verifies.
	res, redriven, err := p.RunJob(ctx, job, local.Input{Source: src, Version: obj.Version, Ref: ref}, replay && !reingest, nil)
	progress.Close()
	if err != nil {
		if ctx.Err() != nil {
			return interrupted(stdout, c.json, job.ID)
		}
		return err
	}
	if redriven && !c.json {
		fmt.Fprintf(stderr, "redrove the failed execution of job %s from its failed state\n", job.ID)
	}
	if res.Job == "" {
		res.Job = job.ID
	}
	if mended && res.Status == jobspec.Succeeded {
		// What was removed must be back, as the first time.
		again, err := checkPublication(ctx, m, c.out, s3c, job, replay)
		if err != nil {
			return jobFailed{display, pipeerr.Reason(err)}
		}
		if len(again.problems) > 0 {
			return jobFailed{display, fmt.Sprintf("job %s: republished, but its publication still does not verify (%s)", job.ID, summarize(again.problems))}
		}
		if !fresh && string(again.sealed) != string(pub.sealed) {
			return jobFailed{display, fmt.Sprintf("job %s: redone from its source, but its manifest differs from the one first published; the publication is the new one", job.ID)}
		}
	}
	return report(stdout, stderr, c.json, display, res)
}

// openSources opens local files, and S3 objects when any of uris is an
// s3:// URI: only then is the AWS config chain loaded, so a local run works,
// and starts as fast, on a machine that has none. The S3 client is nil
// when none was needed.
func openSources(ctx context.Context, uris ...string) (source.Any, *s3.Client, error) {
	sources := source.Any{Files: source.Files{}}
	if !slices.ContainsFunc(uris, source.IsS3) {
		return sources, nil, nil
	}
	s3c, err := source.NewS3Client(ctx, "")
	if err != nil {
		return sources, nil, err
	}
	sources.Buckets = source.Buckets{Client: s3c}
	return sources, s3c, nil
}

// resolveSource picks what a command runs on: the argument (a file or
// s3://bucket/key), the bundled sample, or (replay) the job's own source.
// A job ingested from a file is replayed from its copy on the mount, byte
// for byte the file it was ingested from; one ingested from a bucket is
// replayed from the same object version, since its job ID names the
// object, not the bytes.
func resolveSource(m *jobfs.Mount, args []string, replay bool) (src, version, display string, cleanup func(), err error) {
	cleanup = func() {}
	switch {
	case len(args) > 1:
		return "", "", "", cleanup, usageError{"one file at a time"}
	case replay:
		if len(args) != 1 {
			return "", "", "", cleanup, usageError{"replay needs a job ID"}
		}
		job, err := jobfs.NewJob(args[0])
		if err != nil {
			return "", "", "", cleanup, usageError{err.Error()}
		}
		spec, err := jobspec.Load(m, job)
		if errors.Is(err, fs.ErrNotExist) {
			return "", "", "", cleanup, local.Unknown(m, job)
		} else if err != nil {
			return "", "", "", cleanup, err
		}
		if source.IsS3(spec.Source.URI) {
			return spec.Source.URI, spec.Source.Version, spec.Source.Name, cleanup, nil
		}
		return spec.Source.URI, "", spec.Source.Name, cleanup, nil
	case len(args) == 1 && source.IsS3(args[0]):
		_, key, err := source.ParseS3URI(args[0])
		if err != nil {
			return "", "", "", cleanup, usageError{err.Error()}
		}
		return args[0], "", path.Base(key), cleanup, nil
	case len(args) == 1:
		return args[0], "", filepath.Base(args[0]), cleanup, nil
	}
	// The sample is written as sample.pdf in a directory of its own: the
	// file's name is the source's name in the manifest, which is then the
	// same on every machine.
	dir, err := os.MkdirTemp("", "efspipe-sample-")
	if err != nil {
		return "", "", "", cleanup, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	f := filepath.Join(dir, "sample.pdf")
	if err := os.WriteFile(f, testdata.Sample, 0o600); err != nil {
		cleanup()
		return "", "", "", func() {}, err
	}
	return f, "", "sample.pdf", cleanup, nil
}

// replaySource is the source a replay of a job ingested from a local file
// runs on. The job's copy on the mount is trusted only as far as its ingest
// record vouches for it: read through the mount's os.Root (a symlink
// planted there cannot lead out), with the recorded size and SHA-256, the
// job's own hash. A copy that does not verify is re-ingested from the
// original file if that still has the recorded content; otherwise the
// replay fails, saying why, and nothing is published.
func replaySource(ctx context.Context, m *jobfs.Mount, sources source.Opener, id string, stderr io.Writer) (obj source.Object, src string, reingest bool, err error) {
	job, err := jobfs.NewJob(id)
	if err != nil {
		return source.Object{}, "", false, err
	}
	spec, err := jobspec.Load(m, job)
	if err != nil {
		return source.Object{}, "", false, err
	}
	rec, ok, reason, err := checkpoint.Open(m, job).Verify(checkpoint.Ingest)
	if err != nil {
		return source.Object{}, "", false, err
	}
	switch {
	case ok && rec.SHA256 == spec.Source.SHA256 && jobfs.FileJobIDOf(rec.SHA256) == job.ID:
		// The copy is the job's: ingest skips it, split reads it through
		// the mount.
		mounted := filepath.Join(m.Dir(), job.Source())
		return source.Object{JobID: job.ID, Name: spec.Source.Name, URI: mounted, Size: rec.Bytes, SHA256: rec.SHA256}, mounted, false, nil
	case ok:
		reason = "the record is not of this job's content"
	}
	orig, err := sources.Stat(ctx, spec.Source.URI, "")
	switch {
	case err != nil && ctx.Err() != nil:
		return source.Object{}, "", false, ctx.Err()
	case err != nil:
		return source.Object{}, "", false, pipeerr.Wrap(pipeerr.BadRequest, err, "job %s: its source on the mount does not match its ingest record (%s), and the original cannot be re-ingested", job.ID, reason)
	case orig.JobID != job.ID:
		return source.Object{}, "", false, pipeerr.New(pipeerr.BadRequest, "job %s: its source on the mount does not match its ingest record (%s), and the original %s has changed since it was ingested", job.ID, reason, spec.Source.URI)
	}
	fmt.Fprintf(stderr, "job %s: its source on the mount does not match its ingest record (%s); re-ingesting from %s\n", job.ID, reason, spec.Source.URI)
	return orig, spec.Source.URI, true, nil
}

// discard removes a job's work but not its lock file, which this process
// holds: removing it would let another run lock a new file at the same path.
// With keepSource it also keeps the job's copy of its source, the ingest
// record that vouches for it and the job's settings.
func discard(m *jobfs.Mount, job jobfs.Job, keepSource bool) error {
	keep := map[string]bool{job.Lock(): true}
	if keepSource {
		keep[job.Source()], keep[job.Settings()], keep[job.Checkpoints()] = true, true, true
		ents, err := m.ReadDir(job.Checkpoints())
		if err != nil {
			return err
		}
		for _, e := range ents {
			if p := job.Checkpoints() + "/" + e.Name(); e.Name() != checkpoint.Ingest+".json" {
				if err := m.RemoveAll(p); err != nil {
					return err
				}
			}
		}
	}
	ents, err := m.ReadDir(job.Dir())
	if err != nil {
		return err
	}
	for _, e := range ents {
		if p := job.Dir() + "/" + e.Name(); !keep[p] {
			if err := m.RemoveAll(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// startOver reports whether a run must discard job and start it over: it
// FAILED, and the settings this run gives it (flags over the mount's
// config) are not the ones it ran with, so the failure may have been the
// settings' (a --max-pages too low). Any other job, and any job a replay
// resumes, keeps its settings, as a resumed job must to end
// byte-identical; stderr says so when the command line asks for others.
func startOver(m *jobfs.Mount, job jobfs.Job, settings jobspec.Settings, replay bool, stderr io.Writer) (bool, error) {
	spec, err := jobspec.Load(m, job)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	now, err := jobspec.Resolve(m, settings)
	if err != nil {
		return false, err
	}
	if st, err := jobspec.LoadStatus(m, job); err == nil && st.Status == jobspec.Failed && !replay {
		if changes := jobspec.Changes(spec.Settings, now); len(changes) > 0 {
			fmt.Fprintf(stderr, "job %s failed with other settings; starting it over with these (%s)\n", job.ID, strings.Join(changes, ", "))
			return true, nil
		}
		return false, nil
	}
	// Only what this command line asks for is worth a word: a job run
	// with --keep and run again without it is not a user changing a
	// setting.
	if asked := jobspec.Changes(spec.Settings, settings.Over(spec.Settings)); len(asked) > 0 {
		how := "--fresh starts it over with these"
		if replay {
			// replay --fresh keeps the job's copy of its source and its
			// settings: only a run of the source takes new ones.
			how = "efspipe run --fresh FILE starts it over with these"
		}
		fmt.Fprintf(stderr, "job %s keeps the settings it started with, not these (%s); %s\n", job.ID, strings.Join(asked, ", "), how)
	}
	return false, nil
}

func report(stdout, stderr io.Writer, asJSON bool, display string, res local.Result) error {
	if asJSON {
		b, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(b))
	} else if res.Status == jobspec.Succeeded {
		fmt.Fprintf(stdout, "job %s: %s, %d bytes published\nmanifest: %s\n", res.Job, pages(res.Pages), res.Bytes, res.Manifest)
	}
	if res.Status != jobspec.Succeeded {
		reason := res.Cause
		if reason == "" {
			reason = res.Error
		}
		return jobFailed{display, reason}
	}
	return nil
}

// Interrupted is the status of a run stopped by SIGINT or SIGTERM.
const Interrupted = "INTERRUPTED"

// interrupted reports a run stopped by a signal: everything it finished is
// checkpointed, and a replay resumes from there.
func interrupted(stdout io.Writer, asJSON bool, job string) error {
	if asJSON {
		b, _ := json.Marshal(local.Result{Job: job, Status: Interrupted})
		fmt.Fprintln(stdout, string(b))
	}
	return interruptedError{job}
}

// interruptedError ends the process with exitInterrupted.
type interruptedError struct{ job string }

func (e interruptedError) Error() string {
	if e.job == "" {
		return "interrupted before the job started; nothing to resume"
	}
	return "interrupted; resume with `efspipe replay " + e.job + "`"
}

// localSecrets resolves password references for local engines: environment
// variables, files, and ARNs with the AWS configuration of the environment
// (loaded only when one is given). Confined (serve), files are read only
// under roots, none without any, and variables only if named
// EFSPIPE_PASSWORD*.
func localSecrets(confined bool, roots []string) *secret.Resolver {
	r := &secret.Resolver{Getenv: os.Getenv, Files: !confined || len(roots) > 0, FileRoots: roots, AWS: func(ctx context.Context) (aws.Config, error) {
		return config.LoadDefaultConfig(ctx)
	}}
	if confined {
		// Callers of serve are not identified: they may not pick serve's
		// other variables (AWS credentials) as a password.
		r.EnvPrefix = "EFSPIPE_PASSWORD"
	}
	return r
}

// pages is "1 page" or "N pages".
func pages(n int) string {
	if n == 1 {
		return "1 page"
	}
	return strconv.Itoa(n) + " pages"
}
