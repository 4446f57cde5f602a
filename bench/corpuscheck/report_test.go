package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestSummary(t *testing.T) {
	ok := func(path string, pages int, ratio float64) Record {
		return Record{Path: path, Class: OK, Pages: pages, Ratio: ratio, SourceBytes: 100, PublishedBytes: int64(100 * ratio),
			Efspipe: Run{Status: "SUCCEEDED", Pages: pages, Seconds: 1}, Qpdf: Run{Pages: pages, Seconds: 0.5}}
	}
	refused := func(path, kind, cause string, warned bool) Record {
		return Record{Path: path, Class: Refused, Efspipe: Run{Exit: 1, Kind: kind, Cause: cause}, Qpdf: Run{Exit: 3, Pages: 1, Warned: warned}}
	}
	recs := []Record{
		ok("a|pipe.pdf", 30, 1.5),
		ok("big.pdf", 25, 9.75),
		ok("small-but-worst.pdf", 3, 50),
		{Path: "bad.pdf", Class: SilentFault, Faults: []Fault{
			{Kind: FaultRender, Page: 4, Detail: "pixels differ"},
			{Kind: FaultCheck, Page: 7, Detail: "WARNING: page: *broken* <xref>"},
		}},
		{Path: "panic.pdf", Class: PanicLeaked, Efspipe: Run{Exit: 1, Kind: "InvalidInput.Damaged"}, Faults: []Fault{{Kind: FaultPanic, Detail: "panic: runtime error: x"}}},
		{Path: "slow.pdf", Class: Crash, Efspipe: Run{Exit: -1, TimedOut: true, Seconds: 120}, Qpdf: Run{Exit: 0, Pages: 2}},
		refused("r1.pdf", "InvalidInput.Damaged", "damaged: the PDF cannot be parsed: xref table: missing trailer Size and more words after the fourteenth word", true),
		refused("r2.pdf", "InvalidInput.Damaged", "damaged: page tree object 3 is missing", false),
		refused("r3.pdf", "InvalidInput.Encrypted", "encrypted: a user password is required", false),
		{Path: "lfs.pdf", Class: Skipped, Skipped: skipLFS},
	}
	var out bytes.Buffer
	if err := writeSummary(&out, recs, runInfo{Roots: []string{"dir"}, Jobs: 2, CheckPages: 50, RenderPages: 4, DPI: 36}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"| SILENT FAULT | 1 |", "| ok | 3 |", "| refused, qpdf splits | 3 |", "| total | 10 |",
		"Skipped: 1 Git LFS pointer (`lfs.pdf`).",
		"## Silent faults (1 file)",
		"| `bad.pdf` | render | 4 | pixels differ |",
		`| ` + "`bad.pdf`" + ` | qpdf --check | 7 | WARNING: page: \*broken\* \<xref\> |`,
		"| render | 1 | `bad.pdf` |",
		"- `panic.pdf` (InvalidInput.Damaged): panic: runtime error: x",
		"- `slow.pdf`: efspipe timed out after 120 s; qpdf exit 0, 2 pages",
		"| InvalidInput.Damaged | 1 | 1 | 2 |",
		"| InvalidInput.Encrypted | 1 | 0 | 1 |",
		"- `r1.pdf`: damaged: the PDF cannot be parsed: xref table: missing trailer Size and more words … [qpdf warned]",
		"- `r2.pdf`: damaged: page tree object 3 is missing\n",
		"(ok files of 20 pages or more: 2)",
		"| `big.pdf` | 25 | 100 | 975 | 9.75× |\n| `a\\|pipe.pdf` | 30 | 100 | 150 | 1.50× |\n",
		"median efspipe/qpdf per file 2.00×",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	if strings.Contains(s, "small-but-worst") {
		t.Error("a 3-page file is among the worst ratios of files of 20 pages or more")
	}
	if t.Failed() {
		t.Log(s)
	}
}

func TestRecordsRoundTrip(t *testing.T) {
	recs := []Record{
		{Path: "b.pdf", Class: SilentFault, Pages: 2, Faults: []Fault{{Kind: FaultCount, Detail: "efspipe published 2 pages, qpdf split 3"}}},
		{Path: "a.pdf", Class: OK, Pages: 3, Efspipe: Run{Status: "SUCCEEDED", Pages: 3}},
	}
	path := filepath.Join(t.TempDir(), "runs.json")
	if err := writeRecords(path, recs); err != nil {
		t.Fatal(err)
	}
	got, err := readRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["b.pdf"].Faults[0].Kind != FaultCount || got["a.pdf"].Efspipe.Pages != 3 {
		t.Errorf("read back %+v", got)
	}
	var out bytes.Buffer
	now := []Record{{Path: "a.pdf", Class: OK}, {Path: "b.pdf", Class: OK, Pages: 3, Qpdf: Run{Pages: 3}}, {Path: "c.pdf", Class: BothRefuse, Efspipe: Run{Exit: 1, Kind: "InvalidInput.NotPDF", Cause: "not a PDF"}, Qpdf: Run{Exit: 2}}}
	if err := writeChanges(&out, "old.json", got, now); err != nil {
		t.Fatal(err)
	}
	want := "\n## Changed since `old.json` (2 files)\n\n| file | was | now | why now |\n|---|---|---|---|\n" +
		"| `b.pdf` | SILENT FAULT | ok | 3 pages |\n" +
		"| `c.pdf` | (absent) | both refuse | InvalidInput.NotPDF: not a PDF |\n"
	if out.String() != want {
		t.Errorf("changes:\n%s\nwant:\n%s", out.String(), want)
	}
	if err := writeRecords(path, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := readRecords(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file reads")
	}
}
