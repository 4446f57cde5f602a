package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/internal/testenv"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/zlevel"
	"github.com/efspipe/efspipe/pkg/zpage"
)

var binDir string

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "corpuscheck-bin-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// efspipeBinary builds the efspipe CLI once for the tests that run it.
var efspipeBinary = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(binDir, "efspipe")
	out, err := testenv.GoBuild(bin, "github.com/efspipe/efspipe/cmd/efspipe").CombinedOutput()
	if err != nil {
		return "", &buildError{err, out}
	}
	return bin, nil
})

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

// needTools skips without the tools a run uses and returns the efspipe
// binary.
func needTools(t *testing.T) string {
	t.Helper()
	pipetest.NeedsTool(t, "qpdf")
	pipetest.NeedsTool(t, "pdftoppm")
	pipetest.NeedsTool(t, "go")
	bin, err := efspipeBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestMainOnAFolder runs the whole tool on a folder of generated PDFs with
// odd names and checks the summary, the JSON and the comparison.
func TestMainOnAFolder(t *testing.T) {
	bin := needTools(t)
	dir, tmp := t.TempDir(), t.TempDir()
	doc := pdftest.Doc(3, pdftest.DocOptions{FontBytes: 2048, Image: true})
	files := map[string][]byte{
		"good | one.pdf":         doc,
		"sub dir/-refused.PDF":   pdftest.StrayHashName(true),
		"sub dir/not a pdf.pdf":  []byte("not a PDF at all\n"),
		"lfs.pdf":                []byte("version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 9\n"),
		"sub dir/ignored.pdf.gz": doc,
	}
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good := filepath.Join(dir, "good | one.pdf")
	// An earlier run that found the good file faulty, and a file since gone.
	old := filepath.Join(t.TempDir(), "old.json")
	if err := writeRecords(old, []Record{
		{Path: good, Class: SilentFault, Faults: []Fault{{Kind: FaultRender, Page: 2}}},
		{Path: filepath.Join(dir, "gone.pdf"), Class: OK},
	}); err != nil {
		t.Fatal(err)
	}

	runs := filepath.Join(t.TempDir(), "runs.json")
	var stdout, stderr bytes.Buffer
	code := Main(t.Context(), []string{"-efspipe", bin, "-tmp", tmp, "-json", runs, "-compare", old, "-j", "2", dir}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	recs, err := readRecords(runs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Class{
		good: OK,
		filepath.Join(dir, "sub dir/-refused.PDF"):  Refused,
		filepath.Join(dir, "sub dir/not a pdf.pdf"): BothRefuse,
		filepath.Join(dir, "lfs.pdf"):               Skipped,
	}
	if len(recs) != len(want) {
		t.Errorf("%d records, want %d", len(recs), len(want))
	}
	for path, class := range want {
		if recs[path].Class != class {
			t.Errorf("%s: class %q, want %q (%+v)", path, recs[path].Class, class, recs[path])
		}
	}
	g := recs[good]
	if g.Pages != 3 || g.Efspipe.Pages != 3 || g.Qpdf.Pages != 3 || g.Checks.Restored != 3 || g.Checks.Checked != 3 ||
		g.Checks.Rendered != 3 || g.Checks.RenderSame != 3 || g.PublishedBytes == 0 || g.Ratio <= 0 {
		t.Errorf("good file: %+v", g)
	}
	if r := recs[filepath.Join(dir, "sub dir/-refused.PDF")]; r.Efspipe.Kind != "InvalidInput.Damaged" || !r.Qpdf.Warned || r.Efspipe.Cause == "" {
		t.Errorf("refused file: %+v", r)
	}

	sum := stdout.String()
	for _, s := range []string{
		"| ok | 1 |", "| refused, qpdf splits | 1 |", "| both refuse | 1 |", "| skipped | 1 |", "| SILENT FAULT | 0 |",
		"Skipped: 1 Git LFS pointer",
		"| InvalidInput.Damaged | 0 | 1 | 1 |",
		"`" + filepath.Join(dir, "sub dir/-refused.PDF") + "`: damaged",
		"## Changed since",
		"| `" + strings.ReplaceAll(good, "|", `\|`) + "` | SILENT FAULT | ok | 3 pages |",
		"| `" + filepath.Join(dir, "gone.pdf") + "` | ok | (absent) |",
		"| `" + filepath.Join(dir, "sub dir/-refused.PDF") + "` | (absent) | refused, qpdf splits |",
	} {
		if !strings.Contains(sum, s) {
			t.Errorf("summary lacks %q:\n%s", s, sum)
		}
	}
	// Every file's work directory and the run's own are gone.
	if ents, err := os.ReadDir(tmp); err != nil || len(ents) != 0 {
		t.Errorf("temp dir holds %v (err %v)", ents, err)
	}

	// The same folder again: deterministic output, nothing changed.
	var again bytes.Buffer
	if code := Main(t.Context(), []string{"-efspipe", bin, "-tmp", tmp, "-compare", runs, "-j", "1", dir}, &again, &stderr); code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(again.String(), "(0 files)\n\nNone.") {
		t.Errorf("second run changed classes:\n%s", again.String())
	}
}

// published is one real efspipe job and qpdf split of a generated document,
// copied afresh for each tampering case.
type published struct {
	src, job string
	qpages   map[int]string
	r        Record
}

func publish(t *testing.T, ck *Checker, pages int) published {
	t.Helper()
	work := t.TempDir()
	src := filepath.Join(work, "source.pdf")
	if err := os.WriteFile(src, pdftest.Doc(pages, pdftest.DocOptions{FontBytes: 2048, Image: true}), 0o644); err != nil {
		t.Fatal(err)
	}
	var r Record
	res, err := ck.efspipe(t.Context(), src, work, &r)
	if err != nil || res.Status != "SUCCEEDED" {
		t.Fatalf("efspipe: %+v, %v", r.Efspipe, err)
	}
	qpages, err := ck.split(t.Context(), src, work, &r)
	if err != nil || r.Qpdf.Pages != pages {
		t.Fatalf("qpdf: %+v, %v", r.Qpdf, err)
	}
	return published{src: src, job: filepath.Join(work, "o", res.Job), qpages: qpages, r: r}
}

// tamper is a copy of a published job that a case may change.
type tamper struct {
	t   *testing.T
	dir string
	m   manifest.Published
}

func (tp *tamper) file(rel string) string { return filepath.Join(tp.dir, filepath.FromSlash(rel)) }

func (tp *tamper) read(rel string) []byte {
	b, err := os.ReadFile(tp.file(rel))
	if err != nil {
		tp.t.Fatal(err)
	}
	return b
}

func (tp *tamper) write(rel string, b []byte) {
	if err := os.WriteFile(tp.file(rel), b, 0o644); err != nil {
		tp.t.Fatal(err)
	}
}

// page restores page n (1-based) as published.
func (tp *tamper) page(n int) []byte {
	var dict []byte
	if tp.m.Dictionary != "" {
		dict = tp.read(tp.m.Dictionary)
	}
	dec, err := zpage.NewDecoder(dict, 1<<30)
	if err != nil {
		tp.t.Fatal(err)
	}
	defer dec.Close()
	pdf, err := dec.Decode(tp.read(tp.m.Pages[n-1].Path))
	if err != nil {
		tp.t.Fatal(err)
	}
	return pdf
}

// replace publishes pdf as page n, frame and manifest entry both, as a
// faulty splitter would: everything restores and matches its checksum.
func (tp *tamper) replace(n int, pdf []byte) {
	var dict []byte
	if tp.m.Dictionary != "" {
		dict = tp.read(tp.m.Dictionary)
	}
	enc, err := zpage.NewEncoder(dict, zlevel.Level(tp.m.Level))
	if err != nil {
		tp.t.Fatal(err)
	}
	defer enc.Close()
	frame, err := enc.Encode(nil, pdf)
	if err != nil {
		tp.t.Fatal(err)
	}
	tp.write(tp.m.Pages[n-1].Path, frame)
	p := &tp.m.Pages[n-1]
	p.Bytes, p.PDFBytes, p.SHA256 = int64(len(frame)), int64(len(pdf)), sum(pdf)
}

func (tp *tamper) save() {
	b, err := manifest.Encode(tp.m)
	if err != nil {
		tp.t.Fatal(err)
	}
	tp.write(manifest.File, b)
}

// judgeChecker is a Checker of the real tools that checks every page and
// renders up to 4 per file.
func judgeChecker(t *testing.T) *Checker {
	t.Helper()
	bin := needTools(t)
	qpdf, _ := exec.LookPath("qpdf")
	pdftoppm, _ := exec.LookPath("pdftoppm")
	return &Checker{Efspipe: bin, Qpdf: qpdf, Pdftoppm: pdftoppm, Zstd: pipetest.Tool("zstd"),
		Timeout: time.Minute, CheckPages: -1, RenderPages: 4, DPI: 36}
}

// TestJudgeFindsTampering publishes a real job, then changes it the ways a
// faulty splitter could, and checks that judge reports each fault, and
// nothing on the untouched job.
func TestJudgeFindsTampering(t *testing.T) {
	ck := judgeChecker(t)
	const pages = 4
	pub := publish(t, ck, pages)

	tests := []struct {
		name   string
		change func(tp *tamper)
		want   []string // fault kinds judge must report, in this order
	}{
		{"untouched", func(tp *tamper) {}, nil},
		{"a frame corrupted", func(tp *tamper) {
			rel := tp.m.Pages[1].Path
			b := tp.read(rel)
			b[len(b)/2] ^= 0xff
			tp.write(rel, b)
		}, []string{FaultRestore}},
		{"the dictionary changed", func(tp *tamper) {
			if tp.m.Dictionary == "" {
				tp.t.Skip("no dictionary published")
			}
			b := tp.read(tp.m.Dictionary)
			b[0] ^= 0xff
			tp.write(tp.m.Dictionary, b)
		}, []string{FaultRestore}},
		{"page 3 holds page 2", func(tp *tamper) {
			tp.replace(3, tp.page(2))
			tp.save()
		}, []string{FaultRender}},
		{"the last page dropped", func(tp *tamper) {
			tp.m.Pages = tp.m.Pages[:pages-1]
			tp.m.Source.Pages = pages - 1
			tp.save()
		}, []string{FaultCount}},
		{"page 2 holds the whole document", func(tp *tamper) {
			src, err := os.ReadFile(pub.src)
			if err != nil {
				tp.t.Fatal(err)
			}
			tp.replace(2, src)
			tp.save()
		}, []string{FaultOnePage, FaultRender}},
		{"page 4 is not a PDF", func(tp *tamper) {
			tp.replace(4, []byte("%PDF-1.7\nnot really\n"))
			tp.save()
		}, []string{FaultCheck, FaultRender}},
		{"a frame is missing", func(tp *tamper) {
			if err := os.Remove(tp.file(tp.m.Pages[0].Path)); err != nil {
				tp.t.Fatal(err)
			}
		}, []string{FaultRestore}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := &tamper{t: t, dir: filepath.Join(t.TempDir(), "job")}
			if err := os.CopyFS(tp.dir, os.DirFS(pub.job)); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(tp.read(manifest.File), &tp.m); err != nil {
				t.Fatal(err)
			}
			tt.change(tp)
			r := pub.r
			r.Efspipe.Pages = len(tp.m.Pages)
			if err := ck.judge(t.Context(), pub.src, tp.dir, pub.qpages, t.TempDir(), &r); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range r.Faults {
				if !slices.Contains(got, f.Kind) {
					got = append(got, f.Kind)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("faults %v, want kinds %v", r.Faults, tt.want)
			}
			if wantClass := map[bool]Class{true: OK, false: SilentFault}[tt.want == nil]; classify(r) != wantClass {
				t.Errorf("class %q, want %q", classify(r), wantClass)
			}
		})
	}
}

// TestJudgeFindsAPasswordMisread: a job efspipe published, run without a
// password, from a source that pdftoppm opens only with one is a fault
// when qpdf split nothing either (the file was misread as unencrypted),
// and only a skipped rendering when qpdf's pages witness that the file
// opens without one.
func TestJudgeFindsAPasswordMisread(t *testing.T) {
	ck := judgeChecker(t)
	const pages = 2
	pub := publish(t, ck, pages)
	var locked []byte
	for _, c := range pdftest.Corpus() {
		if c.Name == "encrypted-user-password" {
			locked = c.Data
		}
	}
	src := filepath.Join(t.TempDir(), "locked.pdf")
	if err := os.WriteFile(src, locked, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		qpages map[int]string
		want   bool
	}{
		{"qpdf split nothing", map[int]string{}, true},
		{"qpdf split it", pub.qpages, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := pub.r
			if err := ck.judge(t.Context(), src, pub.job, tc.qpages, t.TempDir(), &r); err != nil {
				t.Fatal(err)
			}
			got := slices.ContainsFunc(r.Faults, func(f Fault) bool { return f.Kind == FaultPassword })
			if got != tc.want {
				t.Errorf("faults %v: %s reported %v, want %v", r.Faults, FaultPassword, got, tc.want)
			}
			if r.Checks.RenderSkipReason != "source needs a password" {
				t.Errorf("render skip reason %q", r.Checks.RenderSkipReason)
			}
		})
	}
}
