package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// runInfo describes a run for the summary's heading.
type runInfo struct {
	Roots       []string
	Efspipe     string
	Jobs        int
	CheckPages  int
	RenderPages int
	DPI         int
	// Rendering says why rendering was off ("" when on).
	Rendering string
	Elapsed   time.Duration
}

// examplesPerKind is how many file names the fault table gives per kind.
const examplesPerKind = 3

// writeSummary prints the Markdown summary of recs, sorted by path.
func writeSummary(w io.Writer, recs []Record, info runInfo) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	by := map[Class][]Record{}
	for _, r := range recs {
		by[r.Class] = append(by[r.Class], r)
	}

	p("# efspipe beside qpdf --split-pages\n\n")
	roots := make([]string, len(info.Roots))
	for i, r := range info.Roots {
		roots[i] = code(r)
	}
	p("%d PDFs under %s; efspipe %s; -j %d; %s.\n", len(recs), strings.Join(roots, ", "), code(info.Efspipe), info.Jobs, info.Elapsed.Round(time.Second))
	check := fmt.Sprintf("up to %d pages", info.CheckPages)
	if info.CheckPages < 0 {
		check = "every page"
	}
	render := fmt.Sprintf("up to %d pages per file rendered at %d dpi beside the source page", info.RenderPages, info.DPI)
	if info.Rendering != "" {
		render = "no rendering (" + info.Rendering + ")"
	}
	p("Every published page restored from its frame; %s per file through `qpdf --check`; %s.\n\n", check, render)

	p("| class | files |\n|---|---:|\n")
	for _, c := range Classes() {
		p("| %s | %d |\n", c, len(by[c]))
	}
	p("| total | %d |\n\n", len(recs))

	if sk := by[Skipped]; len(sk) > 0 {
		reasons := map[string][]string{}
		for _, r := range sk {
			reasons[r.Skipped] = append(reasons[r.Skipped], r.Path)
		}
		p("Skipped:")
		for i, k := range sortedKeys(reasons) {
			sep := ","
			if i == 0 {
				sep = ""
			}
			p("%s %d %s (%s)", sep, len(reasons[k]), k, examples(reasons[k], examplesPerKind))
		}
		p(".\n\n")
	}

	var t Checks
	var pwFiles, srcFailFiles int
	for _, r := range recs {
		c := r.Checks
		t.Restored += c.Restored
		t.Checked += c.Checked
		t.CheckWarned += c.CheckWarned
		t.CheckBothFail += c.CheckBothFail
		t.CheckNoWitness += c.CheckNoWitness
		t.Rendered += c.Rendered
		t.RenderSame += c.RenderSame
		t.RenderBothDiff += c.RenderBothDiff
		t.RenderNoWitness += c.RenderNoWitness
		t.RenderSkipped += c.RenderSkipped
		switch {
		case c.RenderSkipReason == "source needs a password":
			pwFiles++
		case c.RenderSkipped > 0:
			srcFailFiles++
		}
	}
	p("Checks on efspipe's pages: %d restored from their frames; %d through `qpdf --check` "+
		"(%d passed with warnings, %d failed as qpdf's page of the same number did, %d failed with no qpdf page to compare); "+
		"%d rendered beside the source (%d identical, %d differ as qpdf's page does too, %d differ with no qpdf page to witness); "+
		"%d not rendered (source needs a password: %d files; pdftoppm fails on the source page: %d files). "+
		"Only what qpdf's page witnesses is a fault.\n\n",
		t.Restored, t.Checked, t.CheckWarned, t.CheckBothFail, t.CheckNoWitness,
		t.Rendered, t.RenderSame, t.RenderBothDiff, t.RenderNoWitness,
		t.RenderSkipped, pwFiles, srcFailFiles)

	p("## Silent faults (%s)\n\n", nFiles(len(by[SilentFault])))
	if len(by[SilentFault]) == 0 {
		p("None.\n\n")
	} else {
		p("| file | fault | page | detail |\n|---|---|---:|---|\n")
		for _, r := range by[SilentFault] {
			for _, f := range r.Faults {
				page := ""
				if f.Page > 0 {
					page = fmt.Sprint(f.Page)
				}
				p("| %s | %s | %s | %s |\n", code(r.Path), f.Kind, page, cell(f.Detail))
			}
		}
		p("\n")
	}

	faultFiles := map[string][]string{}
	for _, r := range recs {
		seen := map[string]bool{}
		for _, f := range r.Faults {
			if !seen[f.Kind] {
				seen[f.Kind] = true
				faultFiles[f.Kind] = append(faultFiles[f.Kind], r.Path)
			}
		}
	}
	if len(faultFiles) > 0 {
		p("## Faults by kind\n\n| kind | files | examples |\n|---|---:|---|\n")
		for _, k := range FaultKinds() {
			if fs := faultFiles[k]; len(fs) > 0 {
				p("| %s | %d | %s |\n", k, len(fs), examples(fs, examplesPerKind))
			}
		}
		p("\n")
	}

	if rs := by[PanicLeaked]; len(rs) > 0 {
		p("## Panic text leaked (%s)\n\n", nFiles(len(rs)))
		for _, r := range rs {
			for _, f := range r.Faults {
				if f.Kind == FaultPanic {
					p("- %s (%s): %s\n", code(r.Path), r.Efspipe.Kind, cell(f.Detail))
				}
			}
		}
		p("\n")
	}

	if rs := by[Crash]; len(rs) > 0 {
		p("## Timeouts and crashes (%s)\n\n", nFiles(len(rs)))
		for _, r := range rs {
			p("- %s: efspipe %s after %.3g s; qpdf %s, %s\n", code(r.Path), ending(r.Efspipe), r.Efspipe.Seconds, ending(r.Qpdf), plural(r.Qpdf.Pages, "page"))
		}
		p("\n")
	}

	refused := by[Refused]
	p("## Refused where qpdf splits (%s)\n\n", nFiles(len(refused)))
	if len(refused) > 0 {
		kinds := map[string][]Record{}
		for _, r := range refused {
			kinds[r.Efspipe.Kind] = append(kinds[r.Efspipe.Kind], r)
		}
		p("| efspipe error | qpdf clean | qpdf warned | files |\n|---|---:|---:|---:|\n")
		for _, k := range sortedKeys(kinds) {
			warned := 0
			for _, r := range kinds[k] {
				if r.Qpdf.Warned {
					warned++
				}
			}
			p("| %s | %d | %d | %d |\n", k, len(kinds[k])-warned, warned, len(kinds[k]))
		}
		for _, k := range sortedKeys(kinds) {
			p("\n### %s (%d)\n\n", k, len(kinds[k]))
			for _, r := range kinds[k] {
				tag := ""
				if r.Qpdf.Warned {
					tag = " [qpdf warned]"
				}
				p("- %s: %s%s\n", code(r.Path), cell(firstWords(r.Efspipe.Cause, 14)), tag)
			}
		}
		p("\n")
	}

	if rs := by[EfspipeOnly]; len(rs) > 0 {
		p("## Split by efspipe only (%s)\n\n", nFiles(len(rs)))
		for _, r := range rs {
			p("- %s: %s; qpdf %s: %s\n", code(r.Path), plural(r.Pages, "page"), ending(r.Qpdf), cell(firstWords(r.Qpdf.Stderr, 14)))
		}
		p("\n")
	}

	if rs := by[BothRefuse]; len(rs) > 0 {
		kinds := map[string]int{}
		for _, r := range rs {
			kinds[r.Efspipe.Kind]++
		}
		p("## Both refuse (%s)\n\n| efspipe error | files |\n|---|---:|\n", nFiles(len(rs)))
		for _, k := range sortedKeys(kinds) {
			p("| %s | %d |\n", k, kinds[k])
		}
		p("\n")
	}

	var big []Record
	for _, r := range by[OK] {
		if r.Pages >= 20 {
			big = append(big, r)
		}
	}
	slices.SortStableFunc(big, func(a, b Record) int { return cmp.Compare(b.Ratio, a.Ratio) })
	p("## Worst published bytes / source bytes (ok files of 20 pages or more: %d)\n\n", len(big))
	if len(big) > 0 {
		p("| file | pages | source bytes | published bytes | ratio |\n|---|---:|---:|---:|---:|\n")
		for _, r := range big[:min(5, len(big))] {
			p("| %s | %d | %d | %d | %.2f× |\n", code(r.Path), r.Pages, r.SourceBytes, r.PublishedBytes, r.Ratio)
		}
		p("\n")
	}

	if ok := by[OK]; len(ok) > 0 {
		var efs, qp float64
		ratios := make([]float64, 0, len(ok))
		for _, r := range ok {
			efs += r.Efspipe.Seconds
			qp += r.Qpdf.Seconds
			if r.Qpdf.Seconds > 0 {
				ratios = append(ratios, r.Efspipe.Seconds/r.Qpdf.Seconds)
			}
		}
		slices.Sort(ratios)
		p("## Wall time on ok files\n\nefspipe %.1f s, qpdf --split-pages %.1f s in all; median efspipe/qpdf per file %.2f× "+
			"(efspipe's run includes durable writes and zstd; qpdf's split writes uncompressed pages; both ran with -j %d).\n",
			efs, qp, median(ratios), info.Jobs)
	}
	return bw.Flush()
}

// writeChanges prints the files whose class differs from old's.
func writeChanges(w io.Writer, name string, old map[string]Record, recs []Record) error {
	type change struct{ path, was, now, why string }
	var changes []change
	now := map[string]bool{}
	for _, r := range recs {
		now[r.Path] = true
		o, ok := old[r.Path]
		was := Class("(absent)")
		if ok {
			was = o.Class
		}
		if was != r.Class {
			changes = append(changes, change{r.Path, string(was), string(r.Class), why(r)})
		}
	}
	for path, o := range old {
		if !now[path] {
			changes = append(changes, change{path, string(o.Class), "(absent)", ""})
		}
	}
	slices.SortFunc(changes, func(a, b change) int { return strings.Compare(a.path, b.path) })
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "\n## Changed since %s (%s)\n\n", code(name), nFiles(len(changes)))
	if len(changes) == 0 {
		fmt.Fprintf(bw, "None.\n")
	} else {
		fmt.Fprintf(bw, "| file | was | now | why now |\n|---|---|---|---|\n")
		for _, c := range changes {
			fmt.Fprintf(bw, "| %s | %s | %s | %s |\n", code(c.path), c.was, c.now, cell(c.why))
		}
	}
	return bw.Flush()
}

// why is the one-line reason a record is in its class.
func why(r Record) string {
	switch {
	case len(r.Faults) > 0:
		return r.Faults[0].Kind + ": " + r.Faults[0].Detail
	case r.Skipped != "":
		return r.Skipped
	case r.Efspipe.TimedOut || r.Efspipe.Signal != "":
		return "efspipe " + ending(r.Efspipe)
	case r.Efspipe.Exit != 0:
		return r.Efspipe.Kind + ": " + firstWords(r.Efspipe.Cause, 14)
	case !r.qpdfOK():
		return "qpdf " + ending(r.Qpdf) + ": " + firstWords(r.Qpdf.Stderr, 14)
	}
	return plural(r.Pages, "page")
}

// ending says how a tool's run ended: "exit 2", "timed out", "died of
// killed".
func ending(r Run) string {
	switch {
	case r.TimedOut:
		return "timed out"
	case r.Signal != "":
		return "died of " + r.Signal
	}
	return fmt.Sprintf("exit %d", r.Exit)
}

// writeRecords writes one JSON object per record, one per line.
func writeRecords(path string, recs []Record) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readRecords reads a file writeRecords wrote, by path.
func readRecords(path string) (map[string]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]Record{}
	dec := json.NewDecoder(f)
	for {
		var r Record
		err := dec.Decode(&r)
		if err == io.EOF {
			return out, nil
		}
		if err != nil || r.Path == "" || r.Class == "" {
			return nil, fmt.Errorf("%s: record %d is not one of a -json output (err %v)", path, len(out)+1, err)
		}
		out[r.Path] = r
	}
}

// code renders s as a Markdown code span that is safe in a table cell.
func code(s string) string {
	s = strings.ReplaceAll(oneLine(s), "|", `\|`)
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// cell makes free text safe in a Markdown table cell or list item.
func cell(s string) string {
	s = oneLine(s)
	for _, c := range []string{`\`, "|", "`", "*", "_", "<", ">", "[", "]"} {
		s = strings.ReplaceAll(s, c, `\`+c)
	}
	return s
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// firstWords is the first n words of s.
func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) <= n {
		return clip(strings.Join(f, " "), 160)
	}
	return clip(strings.Join(f[:n], " "), 160) + " …"
}

// examples names up to n of paths, and how many more there are.
func examples(paths []string, n int) string {
	var parts []string
	for _, p := range paths[:min(n, len(paths))] {
		parts = append(parts, code(p))
	}
	s := strings.Join(parts, ", ")
	if len(paths) > n {
		s += fmt.Sprintf(" and %d more", len(paths)-n)
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func median(sorted []float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func nFiles(n int) string { return plural(n, "file") }

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
