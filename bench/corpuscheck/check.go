package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/zpage"
)

// Checker runs efspipe and the reference tools on one file at a time. It
// holds no mutable state: one Checker serves every worker.
type Checker struct {
	Efspipe  string // the efspipe binary
	Qpdf     string // the qpdf binary
	Pdftoppm string // the pdftoppm binary; "" turns rendering off
	Zstd     string // the zstd binary; "" skips the CLI restore of rendered pages
	// Timeout bounds every process: efspipe's run, qpdf's split, one
	// page's check or render.
	Timeout time.Duration
	// CheckPages is how many pages per file go through qpdf --check,
	// evenly spaced, first and last included; < 0 means every page.
	CheckPages int
	// RenderPages is how many pages per file are rendered beside the
	// source page and qpdf's page, evenly spaced; 0 turns rendering off.
	RenderPages int
	DPI         int    // rendering resolution, dots per inch
	Tmp         string // each file works in its own directory under Tmp
}

// efspipeResult is the object `efspipe run --json` prints.
type efspipeResult struct {
	Job    string `json:"job"`
	Status string `json:"status"`
	Pages  int    `json:"pages"`
	Error  string `json:"error"`
	Cause  string `json:"cause"`
}

// File runs efspipe and qpdf on path (size bytes) and checks every page
// efspipe published. The error is for a run that cannot go on (a
// cancelled ctx, a tool that cannot be started, a full temp disk), never
// for anything the file does.
func (c *Checker) File(ctx context.Context, path string, size int64) (Record, error) {
	r := Record{Path: path, SourceBytes: size}
	abs, err := filepath.Abs(path)
	if err != nil {
		return r, err
	}
	work, err := os.MkdirTemp(c.Tmp, "file-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(work)

	res, err := c.efspipe(ctx, abs, work, &r)
	if err != nil {
		return r, err
	}
	qpages, err := c.split(ctx, abs, work, &r)
	if err != nil {
		return r, err
	}
	if r.Efspipe.Exit == 0 {
		switch {
		case res.Status != "SUCCEEDED":
			r.fault(FaultResult, 0, "exit 0 with status %q", res.Status)
		case res.Job == "" || !filepath.IsLocal(res.Job):
			r.fault(FaultResult, 0, "exit 0 with job %q", res.Job)
		default:
			if err := c.judge(ctx, abs, filepath.Join(work, "o", res.Job), qpages, work, &r); err != nil {
				return r, err
			}
		}
	}
	r.Class = classify(r)
	return r, nil
}

// efspipe runs `efspipe run --json` on a fresh mount under work.
func (c *Checker) efspipe(ctx context.Context, abs, work string, r *Record) (efspipeResult, error) {
	var res efspipeResult
	p, err := run(ctx, c.Timeout, nil, c.Efspipe, "run", "--mount", filepath.Join(work, "m"), "--out", filepath.Join(work, "o"), "--json", abs)
	if err != nil {
		return res, fmt.Errorf("efspipe: %w", err)
	}
	r.Efspipe = Run{Exit: p.exit, Seconds: p.wall.Seconds(), TimedOut: p.timedOut, Signal: p.signal, Stderr: firstLine(p.stderr)}
	parsed := json.Unmarshal(lastLine(p.stdout), &res) == nil && res.Status != ""
	if parsed {
		r.Efspipe.Status, r.Efspipe.Kind, r.Efspipe.Cause, r.Efspipe.Pages = res.Status, res.Error, clip(res.Cause, 1000), res.Pages
	}
	if p.exit > 0 {
		switch {
		case !parsed:
			r.Efspipe.Kind = "(no JSON)"
		case r.Efspipe.Kind == "":
			r.Efspipe.Kind = "(no kind)"
		}
		if r.Efspipe.Cause == "" {
			r.Efspipe.Cause = strings.TrimPrefix(r.Efspipe.Stderr, "efspipe: ")
		}
	}
	if t := panicText(string(p.stderr) + "\n" + res.Error + "\n" + res.Cause); t != "" {
		r.fault(FaultPanic, 0, "%s", t)
	}
	return res, nil
}

// split runs `qpdf --split-pages` into work/q and returns its pages by
// number (qpdf zero-pads the number in the name).
func (c *Checker) split(ctx context.Context, abs, work string, r *Record) (map[int]string, error) {
	dir := filepath.Join(work, "q")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	p, err := run(ctx, c.Timeout, nil, c.Qpdf, "--split-pages", abs, filepath.Join(dir, "p-%d.pdf"))
	if err != nil {
		return nil, fmt.Errorf("qpdf: %w", err)
	}
	r.Qpdf = Run{
		Exit: p.exit, Seconds: p.wall.Seconds(), TimedOut: p.timedOut, Signal: p.signal,
		Warned: p.exit == 3 || bytes.Contains(p.stderr, []byte("WARNING")), Stderr: firstLine(p.stderr),
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	pages := map[int]string{}
	for _, e := range ents {
		num, ok := strings.CutPrefix(e.Name(), "p-")
		num, ok2 := strings.CutSuffix(num, ".pdf")
		if n, err := strconv.Atoi(num); ok && ok2 && err == nil && n > 0 {
			pages[n] = filepath.Join(dir, e.Name())
		}
	}
	r.Qpdf.Pages = len(pages)
	return pages, nil
}

// judge checks the job efspipe published in jobDir: the manifest, every
// page restored from its frame, qpdf --check on CheckPages of them and
// RenderPages rendered beside the source. qpdf's page of the same number
// is the witness that a page can pass: it is used only when qpdf cut the
// document into as many pages as efspipe did.
func (c *Checker) judge(ctx context.Context, src, jobDir string, qpages map[int]string, work string, r *Record) error {
	raw, err := os.ReadFile(filepath.Join(jobDir, manifest.File))
	if err != nil {
		r.fault(FaultResult, 0, "no published manifest: %v", err)
		return nil
	}
	var m manifest.Published
	if err := json.Unmarshal(raw, &m); err != nil {
		r.fault(FaultResult, 0, "the published manifest does not parse: %v", err)
		return nil
	}
	n := len(m.Pages)
	r.Pages = n
	if r.PublishedBytes, err = treeBytes(jobDir); err != nil {
		return err
	}
	if r.SourceBytes > 0 {
		r.Ratio = float64(r.PublishedBytes) / float64(r.SourceBytes)
	}
	switch {
	case n == 0:
		r.fault(FaultResult, 0, "the manifest lists no pages")
		return nil
	case m.Source.Pages != n:
		r.fault(FaultResult, 0, "the manifest lists %d pages of a %d-page source", n, m.Source.Pages)
	case r.Efspipe.Pages != n:
		r.fault(FaultResult, 0, "efspipe reported %d pages, its manifest lists %d", r.Efspipe.Pages, n)
	}
	if r.qpdfOK() && r.Qpdf.Pages != n {
		r.fault(FaultCount, 0, "efspipe published %d pages, qpdf split %d", n, r.Qpdf.Pages)
	}
	witness := qpages
	if len(qpages) != n {
		witness = nil
	}

	var dict []byte
	if m.Dictionary != "" {
		if !filepath.IsLocal(m.Dictionary) {
			r.fault(FaultResult, 0, "the manifest's dictionary %q is outside the job", m.Dictionary)
			return nil
		}
		dict, err = os.ReadFile(filepath.Join(jobDir, m.Dictionary))
		if err != nil || int64(len(dict)) != m.DictionaryBytes || sum(dict) != m.DictionarySHA256 {
			r.fault(FaultRestore, 0, "dictionary %s does not match the manifest (%d bytes, err %v)", m.Dictionary, len(dict), err)
			return nil
		}
	}
	var maxPDF int64
	for _, p := range m.Pages {
		maxPDF = max(maxPDF, p.PDFBytes)
	}
	dec, err := zpage.NewDecoder(dict, uint64(maxPDF)+1<<20)
	if err != nil {
		r.fault(FaultRestore, 0, "no decoder for the dictionary: %v", err)
		return nil
	}
	defer dec.Close()

	checks := spread(n, c.CheckPages)
	var renders []int
	if c.Pdftoppm != "" {
		renders = spread(n, c.RenderPages)
	}
	need := map[int]bool{}
	for _, num := range append(checks, renders...) {
		need[num] = true
	}
	pageDir := filepath.Join(work, "e")
	if err := os.Mkdir(pageDir, 0o755); err != nil {
		return err
	}
	restored := map[int]string{} // page number -> restored one-page PDF
	for i, p := range m.Pages {
		num := i + 1
		if p.Number != num || p.Path != manifest.PagePath(num) {
			r.fault(FaultResult, num, "manifest entry %d is page %d at %q", num, p.Number, p.Path)
			continue
		}
		frame, err := os.ReadFile(filepath.Join(jobDir, p.Path))
		if err != nil {
			r.fault(FaultRestore, num, "frame: %v", err)
			continue
		}
		if int64(len(frame)) != p.Bytes {
			r.fault(FaultRestore, num, "frame is %d bytes, the manifest says %d", len(frame), p.Bytes)
			continue
		}
		pdf, err := dec.Decode(frame)
		if err != nil {
			r.fault(FaultRestore, num, "%v", err)
			continue
		}
		if int64(len(pdf)) != p.PDFBytes || sum(pdf) != p.SHA256 {
			r.fault(FaultRestore, num, "restores to %d bytes that do not match the manifest's %d bytes and checksum", len(pdf), p.PDFBytes)
			continue
		}
		r.Checks.Restored++
		if need[num] {
			f := filepath.Join(pageDir, fmt.Sprintf("%06d.pdf", num))
			if err := os.WriteFile(f, pdf, 0o644); err != nil {
				return err
			}
			restored[num] = f
		}
	}
	if err := c.zstdRestore(ctx, jobDir, m, renders, restored, r); err != nil {
		return err
	}
	if err := c.checkPages(ctx, checks, restored, witness, r); err != nil {
		return err
	}
	return c.renderPages(ctx, src, renders, restored, witness, r)
}

// zstdRestore restores the rendered pages again with the zstd CLI, the
// tool a reader of the published job uses.
func (c *Checker) zstdRestore(ctx context.Context, jobDir string, m manifest.Published, pages []int, restored map[int]string, r *Record) error {
	if c.Zstd == "" {
		return nil
	}
	for _, num := range pages {
		if restored[num] == "" {
			continue // its restore fault is reported
		}
		args := []string{"-d", "-c", "-q"}
		if m.Dictionary != "" {
			args = append(args, "-D", filepath.Join(jobDir, m.Dictionary))
		}
		var h hashCount
		h.Hash = sha256.New()
		p, err := run(ctx, c.Timeout, &h, c.Zstd, append(args, "--", filepath.Join(jobDir, m.Pages[num-1].Path))...)
		if err != nil {
			return fmt.Errorf("zstd: %w", err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); p.exit != 0 || got != m.Pages[num-1].SHA256 {
			r.fault(FaultZstd, num, "zstd -d exit %d, %d bytes not matching the manifest's checksum: %s", p.exit, h.n, firstLine(p.stderr))
		}
	}
	return nil
}

// checkPages runs qpdf --check on efspipe's pages; a failing page is a
// fault only when qpdf's page of the same number passes.
func (c *Checker) checkPages(ctx context.Context, pages []int, restored, witness map[int]string, r *Record) error {
	for _, num := range pages {
		f := restored[num]
		if f == "" {
			continue
		}
		ok, count, msg, err := c.qpdfCheck(ctx, f)
		if err != nil {
			return err
		}
		r.Checks.Checked++
		if ok != checkFailed {
			if count != 1 {
				r.fault(FaultOnePage, num, "qpdf counts %d pages in it", count)
			} else if ok == checkWarned {
				r.Checks.CheckWarned++
			}
			continue
		}
		ref := witness[num]
		if ref == "" {
			r.Checks.CheckNoWitness++
			continue
		}
		refOK, _, _, err := c.qpdfCheck(ctx, ref)
		if err != nil {
			return err
		}
		if refOK == checkFailed {
			r.Checks.CheckBothFail++
		} else {
			r.fault(FaultCheck, num, "%s (qpdf's page passes)", msg)
		}
	}
	return nil
}

type checkResult int

const (
	checkPassed checkResult = iota
	checkWarned
	checkFailed
)

// qpdfCheck runs `qpdf --check --show-npages` on a one-page PDF: whether
// it passed (exit 0), passed with warnings (3) or failed (2, or a timeout,
// or a signal), the page count it printed last, and the first line that
// says why it failed.
func (c *Checker) qpdfCheck(ctx context.Context, file string) (checkResult, int, string, error) {
	p, err := run(ctx, c.Timeout, nil, c.Qpdf, "--check", "--show-npages", file)
	if err != nil {
		return checkFailed, 0, "", fmt.Errorf("qpdf: %w", err)
	}
	switch {
	case p.timedOut:
		return checkFailed, 0, "qpdf --check timed out", nil
	case p.exit != 0 && p.exit != 3:
		// qpdf names the file: the page's temporary path would make every
		// run's message differ.
		msg := firstLine(bytes.ReplaceAll(p.stderr, []byte(file), []byte("page")))
		if msg == "" {
			msg = fmt.Sprintf("qpdf --check exit %d %s", p.exit, p.signal)
		}
		return checkFailed, 0, msg, nil
	}
	count, err := strconv.Atoi(string(lastLine(p.stdout)))
	if err != nil {
		count = -1
	}
	if p.exit == 3 {
		return checkWarned, count, "", nil
	}
	return checkPassed, count, "", nil
}

// renderPages renders efspipe's pages beside the source page; a page that
// differs is a fault only when qpdf's page of the same number renders the
// same as the source.
func (c *Checker) renderPages(ctx context.Context, src string, pages []int, restored, witness map[int]string, r *Record) error {
	for i, num := range pages {
		f := restored[num]
		if f == "" {
			continue
		}
		want, fail, err := c.render(ctx, src, num)
		if err != nil {
			return err
		}
		if strings.Contains(fail, "Incorrect password") {
			if len(witness) == 0 {
				// efspipe runs here without a password: a file that
				// neither reader opens without one, efspipe opened by
				// misreading it (a direct /Encrypt it did not see, once).
				r.fault(FaultPassword, 0, "published without a password; pdftoppm and qpdf open the source only with one")
			}
			r.Checks.RenderSkipped += len(pages) - i
			r.Checks.RenderSkipReason = "source needs a password"
			return nil
		}
		if fail != "" {
			r.Checks.RenderSkipped++
			r.Checks.RenderSkipReason = "pdftoppm fails on the source: " + fail
			continue
		}
		r.Checks.Rendered++
		got, gotFail, err := c.render(ctx, f, 1)
		if err != nil {
			return err
		}
		if gotFail == "" && got == want {
			r.Checks.RenderSame++
			continue
		}
		ref := witness[num]
		if ref == "" {
			r.Checks.RenderNoWitness++
			continue
		}
		refImg, refFail, err := c.render(ctx, ref, 1)
		if err != nil {
			return err
		}
		switch {
		case refFail != "":
			r.Checks.RenderNoWitness++
		case refImg != want:
			r.Checks.RenderBothDiff++
		case gotFail != "":
			r.fault(FaultRender, num, "does not render (%s); qpdf's page renders as the source does", gotFail)
		case got.Width != want.Width || got.Height != want.Height:
			r.fault(FaultRender, num, "renders %dx%d, the source page %dx%d; qpdf's page renders as the source does", got.Width, got.Height, want.Width, want.Height)
		case want.Blank && !got.Blank:
			// Seen on damaged sources: pdfcpu reads a content stream that
			// poppler and qpdf lose. Still a fault by the rule, since
			// nothing says which reading is right; the detail says so.
			r.fault(FaultRender, num, "the source page and qpdf's render blank, efspipe's page does not (a damaged source read differently?)")
		default:
			r.fault(FaultRender, num, "pixels differ from the source page at %d dpi; qpdf's page renders as the source does", c.DPI)
		}
	}
	return nil
}

// render rasterizes page num of file with pdftoppm; fail says why it could
// not ("" when it did).
func (c *Checker) render(ctx context.Context, file string, num int) (img image, fail string, err error) {
	var w ppmWriter
	n := strconv.Itoa(num)
	p, err := run(ctx, c.Timeout, &w, c.Pdftoppm, "-r", strconv.Itoa(c.DPI), "-f", n, "-l", n, file)
	if err != nil {
		return img, "", fmt.Errorf("pdftoppm: %w", err)
	}
	switch {
	case p.timedOut:
		return img, "pdftoppm timed out", nil
	case p.signal != "":
		return img, "pdftoppm died of " + p.signal, nil
	case p.exit != 0:
		return img, fmt.Sprintf("pdftoppm exit %d: %s", p.exit, firstLine(p.stderr)), nil
	}
	img, ierr := w.Image()
	if ierr != nil {
		return img, ierr.Error(), nil
	}
	return img, "", nil
}

// faultsPerKind bounds the faults one file lists of one kind: a file whose
// every page is wrong says so in a few lines.
const faultsPerKind = 5

func (r *Record) fault(kind string, page int, format string, args ...any) {
	n := 0
	for _, f := range r.Faults {
		if f.Kind == kind {
			n++
		}
	}
	switch {
	case n < faultsPerKind:
		r.Faults = append(r.Faults, Fault{Kind: kind, Page: page, Detail: fmt.Sprintf(format, args...)})
	case n == faultsPerKind:
		r.Faults = append(r.Faults, Fault{Kind: kind, Detail: "more pages with this fault, not listed"})
	}
}

// treeBytes sums the sizes of the regular files under dir.
func treeBytes(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	return total, err
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// hashCount hashes what is written to it and counts the bytes.
type hashCount struct {
	hash.Hash
	n int64
}

func (h *hashCount) Write(p []byte) (int, error) {
	h.n += int64(len(p))
	return h.Hash.Write(p)
}
