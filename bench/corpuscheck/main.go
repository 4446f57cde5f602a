package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: corpuscheck [flags] DIR|FILE...

Runs efspipe and qpdf --split-pages on every *.pdf under each DIR and prints
a Markdown summary on stdout: classes, refusals, every silent fault.

`

// Main runs one check and returns the exit code: 0 when the summary was
// printed (whatever it says), 1 when the run could not finish, 2 for a
// usage error.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("corpuscheck", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, usage); fl.PrintDefaults() }
	efspipe := fl.String("efspipe", "bin/efspipe", "the efspipe `binary` to measure")
	jobs := fl.Int("j", 2, "files checked in parallel")
	renderPages := fl.Int("pages", 4, "pages per file rendered beside the source and qpdf's page: first, last, evenly spaced (0: none)")
	checkPages := fl.Int("check", 50, "pages per file through qpdf --check, evenly spaced, first and last included (-1: every page, 0: none)")
	dpi := fl.Int("dpi", 36, "rendering resolution in dots per inch")
	timeout := fl.Duration("timeout", 120*time.Second, "time allowed to each process: efspipe's run, qpdf's split, one page's check or render")
	maxMiB := fl.Int64("max-mb", 200, "skip files over this many MiB")
	jsonOut := fl.String("json", "", "write one JSON object per file to `FILE`")
	compare := fl.String("compare", "", "print the files whose class changed since `OLD.json`, the -json of an earlier run")
	tmp := fl.String("tmp", os.TempDir(), "work under `DIR`; every file's directory is removed when it is done")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() == 0 || *jobs < 1 || *dpi < 1 || *timeout <= 0 || *renderPages < 0 || *maxMiB < 1 {
		fl.Usage()
		return 2
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "corpuscheck: "+format+"\n", args...)
		return 1
	}

	var old map[string]Record
	if *compare != "" {
		var err error
		if old, err = readRecords(*compare); err != nil {
			return fail("%v", err)
		}
	}
	efs, err := filepath.Abs(*efspipe)
	if err == nil {
		_, err = exec.LookPath(efs)
	}
	if err != nil {
		return fail("efspipe binary: %v (build it: go build -o bin/efspipe ./cmd/efspipe)", err)
	}
	ck := Checker{Efspipe: efs, Timeout: *timeout, CheckPages: *checkPages, RenderPages: *renderPages, DPI: *dpi}
	if ck.Qpdf, err = exec.LookPath("qpdf"); err != nil {
		return fail("qpdf is required: %v", err)
	}
	info := runInfo{Roots: fl.Args(), Efspipe: *efspipe, Jobs: *jobs, CheckPages: *checkPages, RenderPages: *renderPages, DPI: *dpi}
	if ck.Pdftoppm, err = exec.LookPath("pdftoppm"); err != nil {
		info.Rendering = "pdftoppm not found"
		fmt.Fprintln(stderr, "corpuscheck: pdftoppm not found (poppler-utils): pages are not rendered")
	} else if *renderPages == 0 {
		info.Rendering = "-pages 0"
	}
	ck.Zstd, _ = exec.LookPath("zstd")

	files, err := find(fl.Args(), *maxMiB<<20)
	if err != nil {
		return fail("%v", err)
	}
	root, err := os.MkdirTemp(*tmp, "efspipe-corpus-")
	if err != nil {
		return fail("%v", err)
	}
	defer os.RemoveAll(root)
	if ck.Tmp, err = filepath.Abs(root); err != nil {
		return fail("%v", err)
	}

	start := time.Now()
	recs, err := checkAll(ctx, &ck, files, *jobs, stderr)
	info.Elapsed = time.Since(start)
	if err != nil {
		return fail("stopped, nothing reported: %v", err)
	}
	if *jsonOut != "" {
		if err := writeRecords(*jsonOut, recs); err != nil {
			return fail("%v", err)
		}
	}
	if err := writeSummary(stdout, recs, info); err != nil {
		return fail("%v", err)
	}
	if old != nil {
		if err := writeChanges(stdout, *compare, old, recs); err != nil {
			return fail("%v", err)
		}
	}
	return 0
}

// checkAll checks files with jobs workers, the largest first so that one
// big file does not finish alone at the end, and returns the records in
// the order of files (by path). It reports progress, and every file that
// is not ok or refused as it is found, on stderr.
func checkAll(ctx context.Context, ck *Checker, files []candidate, jobs int, stderr io.Writer) ([]Record, error) {
	recs := make([]Record, len(files))
	var order []int
	for i, f := range files {
		if f.skip != "" {
			recs[i] = Record{Path: f.path, SourceBytes: f.size, Skipped: f.skip, Class: Skipped}
			continue
		}
		order = append(order, i)
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(files[b].size, files[a].size) })

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu    sync.Mutex
		done  int
		start = time.Now()
		wg    sync.WaitGroup
		work  = make(chan int)
	)
	for range jobs {
		wg.Go(func() {
			for i := range work {
				r, err := ck.File(ctx, files[i].path, files[i].size)
				if err != nil {
					cancel(err)
					continue
				}
				recs[i] = r
				mu.Lock()
				done++
				switch r.Class {
				case SilentFault, PanicLeaked, Crash:
					fmt.Fprintf(stderr, "corpuscheck: %s: %s: %s\n", r.Class, r.Path, why(r))
				}
				if done%100 == 0 || done == len(order) {
					fmt.Fprintf(stderr, "corpuscheck: %d/%d files checked, %s\n", done, len(order), time.Since(start).Round(time.Second))
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, i := range order {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, errors.New("interrupted")
		}
		return nil, err
	}
	return recs, nil
}
