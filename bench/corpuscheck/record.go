package main

// Class is what happened to one file. Its string is what the summary and
// the JSON print.
type Class string

// The classes, in the order the summary lists them: the worst first.
const (
	SilentFault Class = "SILENT FAULT"         // efspipe exit 0, a published page is wrong
	PanicLeaked Class = "panic text leaked"    // a Go panic or stack trace in efspipe's stderr or cause
	Crash       Class = "timeout/crash"        // efspipe timed out or died of a signal
	Refused     Class = "refused, qpdf splits" // efspipe fails, qpdf exits 0 or 3 with pages
	BothRefuse  Class = "both refuse"          // neither splits it
	EfspipeOnly Class = "efspipe only"         // efspipe splits it, qpdf fails
	OK          Class = "ok"                   // both split it, same page count, every check passed
	Skipped     Class = "skipped"              // not run: a Git LFS pointer or too large
)

// Classes lists every class in summary order.
func Classes() []Class {
	return []Class{SilentFault, PanicLeaked, Crash, Refused, BothRefuse, EfspipeOnly, OK, Skipped}
}

// Fault kinds. Every kind but FaultPanic makes a file a SilentFault, and
// every one of them is found only after efspipe exited 0.
const (
	FaultResult  = "no result"         // exit 0 without a SUCCEEDED result or a readable manifest
	FaultCount   = "page count"        // efspipe's page count differs from qpdf's
	FaultRestore = "restore"           // a page does not restore from its frame to its checksum
	FaultZstd    = "zstd CLI restore"  // `zstd -d` restores a page differently from the manifest
	FaultCheck   = "qpdf --check"      // efspipe's page fails where qpdf's page of that number passes
	FaultOnePage = "not one page"      // a published page holds other than one page
	FaultRender  = "render"            // efspipe's page renders unlike the source where qpdf's renders the same
	FaultPanic   = "panic text leaked" // a Go panic or stack trace in stderr or the cause
	// FaultPassword: efspipe, given no password, published a file that
	// neither poppler nor qpdf opens without one.
	FaultPassword = "opened without a password"
)

// FaultKinds lists the fault kinds in summary order.
func FaultKinds() []string {
	return []string{FaultResult, FaultCount, FaultRestore, FaultZstd, FaultCheck, FaultOnePage, FaultRender, FaultPassword, FaultPanic}
}

// Record is everything measured on one file: one line of the -json output.
type Record struct {
	Path  string `json:"path"`
	Class Class  `json:"class"`
	// Skipped says why the file was not run (Class Skipped).
	Skipped     string `json:"skipped,omitempty"`
	SourceBytes int64  `json:"source_bytes"`
	// Efspipe and Qpdf are absent from a skipped file's record.
	Efspipe Run `json:"efspipe,omitzero"`
	Qpdf    Run `json:"qpdf,omitzero"`
	// Pages is the number of pages efspipe published (0 when it did not).
	Pages int `json:"pages"`
	// PublishedBytes sums every file efspipe published for the job: pages,
	// dictionary and manifest. Ratio is PublishedBytes / SourceBytes.
	PublishedBytes int64   `json:"published_bytes,omitempty"`
	Ratio          float64 `json:"ratio,omitempty"`
	Checks         Checks  `json:"checks,omitzero"`
	Faults         []Fault `json:"faults,omitempty"`
}

// Run is one tool's run on the file.
type Run struct {
	// Exit is the exit code, -1 when the process did not exit on its own
	// (TimedOut, or Signal names what ended it).
	Exit     int     `json:"exit"`
	Seconds  float64 `json:"seconds"` // wall time
	TimedOut bool    `json:"timed_out,omitempty"`
	Signal   string  `json:"signal,omitempty"`
	// Pages: efspipe's published page count; qpdf's pages written.
	Pages int `json:"pages"`
	// Status, Kind and Cause are efspipe's --json "status", "error" and
	// "cause" ("(no JSON)" as Kind when it printed none).
	Status string `json:"status,omitempty"`
	Kind   string `json:"kind,omitempty"`
	Cause  string `json:"cause,omitempty"`
	// Warned: qpdf printed warnings (exit 3 or WARNING on stderr).
	Warned bool `json:"warned,omitempty"`
	// Stderr is the first line the tool printed on stderr.
	Stderr string `json:"stderr,omitempty"`
}

// Checks counts the page checks that ran on efspipe's pages, and those that
// could not say: none of these counters is a fault by itself.
type Checks struct {
	Restored int `json:"restored"` // pages restored and matched to their checksum
	Checked  int `json:"checked"`  // pages through qpdf --check
	// CheckWarned: efspipe pages qpdf --check passed with warnings.
	CheckWarned int `json:"check_warned,omitempty"`
	// CheckBothFail: efspipe's and qpdf's pages of that number both fail.
	CheckBothFail int `json:"check_both_fail,omitempty"`
	// CheckNoWitness: efspipe's page fails and qpdf has no page to compare.
	CheckNoWitness int `json:"check_no_witness,omitempty"`
	Rendered       int `json:"rendered"`                   // pages rendered beside the source
	RenderSame     int `json:"render_same"`                // ... pixel-identical to the source page
	RenderBothDiff int `json:"render_both_diff,omitempty"` // efspipe's and qpdf's pages both differ from the source
	// RenderNoWitness: efspipe's page differs and qpdf's page is missing or
	// does not render.
	RenderNoWitness int `json:"render_no_witness,omitempty"`
	// RenderSkipped pages were not compared: the source needs a password or
	// pdftoppm fails on the source page (RenderSkipReason says which).
	RenderSkipped    int    `json:"render_skipped,omitempty"`
	RenderSkipReason string `json:"render_skip_reason,omitempty"`
}

// Fault is one wrong published page (Page 0: the file as a whole).
type Fault struct {
	Kind   string `json:"kind"`
	Page   int    `json:"page,omitempty"`
	Detail string `json:"detail"`
}

// efspipeOK: efspipe exited 0 and said SUCCEEDED.
func (r Record) efspipeOK() bool { return r.Efspipe.Exit == 0 && r.Efspipe.Status == "SUCCEEDED" }

// qpdfOK: qpdf --split-pages exited 0 or 3 (warnings) and wrote a page.
func (r Record) qpdfOK() bool {
	return (r.Qpdf.Exit == 0 || r.Qpdf.Exit == 3) && r.Qpdf.Pages > 0
}

// classify derives the class from what was measured. A silent fault wins
// over everything but a timeout: a file that printed a panic and published
// wrong pages is first of all wrong pages.
func classify(r Record) Class {
	if r.Skipped != "" {
		return Skipped
	}
	if r.Efspipe.TimedOut || r.Efspipe.Signal != "" {
		return Crash
	}
	silent, leaked := false, false
	for _, f := range r.Faults {
		if f.Kind == FaultPanic {
			leaked = true
		} else {
			silent = true
		}
	}
	switch {
	case silent:
		return SilentFault
	case leaked:
		return PanicLeaked
	case r.efspipeOK() && r.qpdfOK():
		return OK
	case r.efspipeOK():
		return EfspipeOnly
	case r.Efspipe.Exit == 0:
		// Exit 0 without SUCCEEDED is a FaultResult, found above; this is
		// a record made without the checks (a test's table).
		return SilentFault
	case r.qpdfOK():
		return Refused
	}
	return BothRefuse
}

// spread picks k of the pages 1..n, evenly spaced, first and last included
// (every page when k < 0 or k >= n, none when k == 0), in increasing order.
func spread(n, k int) []int {
	if n <= 0 || k == 0 {
		return nil
	}
	if k < 0 || k >= n {
		k = n
	}
	if k == 1 {
		return []int{1}
	}
	out := make([]int, k)
	for i := range k {
		// n > k here (or k == n), so consecutive picks differ by at
		// least one: (n-1)/(k-1) >= 1.
		out[i] = 1 + i*(n-1)/(k-1)
	}
	return out
}
