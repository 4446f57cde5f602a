package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/reader"
)

// cmdPage writes published pages back as one-page PDFs: one page to
// stdout or to -o FILE, a range A-B to the directory -o DIR as
// DIR/NNNNNN.pdf. Every page is checked against the manifest (size and
// SHA-256 of the restored PDF) before a byte of it is written, and every
// file appears whole or not at all (a temp file renamed over it). A page
// that fails its check ends the command with one line naming it; the
// pages of a range before it stay written.
func cmdPage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("page", flag.ContinueOnError)
	var out, dest string
	outFlag(fl, &out)
	fl.StringVar(&dest, "o", "", "write the page to `FILE` instead of stdout; with a range A-B, the directory that receives one NNNNNN.pdf per page")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	pos := fl.Args()
	if len(pos) != 2 {
		return usageError{"page needs a job ID and a page number or range: page JOB N, page JOB A-B -o DIR"}
	}
	if err := jobfs.CheckJobID(pos[0]); err != nil {
		return usageError{err.Error()}
	}
	first, last, err := pageRange(pos[1])
	if err != nil {
		return usageError{err.Error()}
	}
	switch {
	case first != last && dest == "":
		return usageError{"a range of pages needs -o DIR (one file per page): stdout takes one page"}
	case dest == "" && isTerminal(stdout):
		return usageError{"a page is a PDF, not text: redirect stdout or write it with -o FILE"}
	}
	j, err := openPublished(ctx, out, pos[0])
	if err != nil {
		return err
	}
	defer j.Close()
	if last > j.Len() {
		return pipeerr.New(pipeerr.BadRequest, "job %s has pages 1 to %d, not %d", j.ID(), j.Len(), last)
	}
	if first != last {
		if err := os.MkdirAll(dest, 0o755); err != nil {
			return err
		}
	}
	for n := first; n <= last; n++ {
		pdf, err := j.Page(ctx, n)
		if err != nil {
			return fmt.Errorf("job %s: %w", j.ID(), err)
		}
		switch {
		case dest == "":
			_, err = stdout.Write(pdf)
		case first == last:
			err = writeFile(dest, pdf)
		default:
			err = writeFile(filepath.Join(dest, fmt.Sprintf("%06d.pdf", n)), pdf)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// cmdVerify re-checks every published page of a job: exit 0 with a
// one-line summary when all verify, else exit 1 naming the first problem;
// with --json, every problem as a JSON list ([] when there is none).
func cmdVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("verify", flag.ContinueOnError)
	var out string
	outFlag(fl, &out)
	asJSON := fl.Bool("json", false, "print every problem as a JSON list on stdout ([] when all is well)")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	pos := fl.Args()
	if len(pos) != 1 {
		return usageError{"verify needs a job ID"}
	}
	if err := jobfs.CheckJobID(pos[0]); err != nil {
		return usageError{err.Error()}
	}
	j, err := openPublished(ctx, out, pos[0])
	if err != nil {
		if *asJSON && ctx.Err() == nil {
			// No manifest to check the pages against: that is the problem.
			b, _ := json.Marshal([]reader.Problem{{Path: manifest.File, Kind: pipeerr.KindOf(err), Reason: err.Error()}})
			fmt.Fprintln(stdout, string(b))
		}
		return err
	}
	defer j.Close()
	probs, err := j.Verify(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		b, _ := json.Marshal(probs)
		fmt.Fprintln(stdout, string(b))
	}
	if len(probs) > 0 {
		return errors.New("job " + pos[0] + ": " + summarize(probs))
	}
	if !*asJSON {
		m := j.Manifest()
		fmt.Fprintf(stdout, "job %s: %s, %d bytes verified\n", j.ID(), pages(j.Len()), m.Bytes)
	}
	return nil
}

// summarize is the first problem, and how many more there are.
func summarize(probs []reader.Problem) string {
	s := probs[0].Reason
	switch len(probs) {
	case 1:
	case 2:
		s += " (and 1 more problem)"
	default:
		s += fmt.Sprintf(" (and %d more problems)", len(probs)-1)
	}
	return s
}

// openPublished opens a published job under out, a folder or an s3:// prefix
// (with the AWS configuration of the environment, as run publishes there).
func openPublished(ctx context.Context, out, job string) (*reader.Job, error) {
	_, s3c, err := openSources(ctx, out)
	if err != nil {
		return nil, err
	}
	return reader.Open(ctx, out, job, &reader.Options{S3: s3c})
}

// pageRange parses N or A-B (1-based, inclusive).
func pageRange(s string) (first, last int, err error) {
	a, b, isRange := strings.Cut(s, "-")
	first, err1 := strconv.Atoi(a)
	last, err2 := first, error(nil)
	if isRange {
		last, err2 = strconv.Atoi(b)
	}
	if err1 != nil || err2 != nil || first < 1 || last < first {
		return 0, 0, fmt.Errorf("%q is not a page number N or a range A-B (pages count from 1)", s)
	}
	return first, last, nil
}

// writeFile writes data to name whole or not at all: a temp file in the
// same directory, synced, renamed over name, the directory synced.
func writeFile(name string, data []byte) (err error) {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
