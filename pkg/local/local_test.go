package local_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/publish"
)

type env struct {
	mount *jobfs.Mount
	out   string
	p     *local.Pipeline
}

func newEnv(t *testing.T, cfg local.Config) *env {
	t.Helper()
	m := pipetest.Mount(t)
	out, outDir := pipetest.Out(t)
	cfg.Mount, cfg.Out = m, out
	if cfg.Sleep == nil {
		cfg.Sleep = func(context.Context, time.Duration) error { return nil }
	}
	p, err := local.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{mount: m, out: outDir, p: p}
}

func writePDF(t *testing.T, data []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRunEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name       string
		pages      int
		shardPages int
	}{
		{"one page", 1, 0},
		{"three pages", 3, 0},
		{"many shards", 40, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, local.Config{Settings: jobspec.Settings{ShardPages: tc.shardPages}})
			src := writePDF(t, pdftest.Doc(tc.pages, pdftest.DocOptions{FontBytes: 32 << 10, Image: true}))
			res, err := e.p.Run(t.Context(), local.Input{Source: src}, nil)
			if err != nil || res.Status != jobspec.Succeeded {
				t.Fatalf("run: %+v, %v", res, err)
			}
			m := pipetest.Verify(t, e.out, res.Job, true)
			if m.Source.Pages != tc.pages || res.Pages != tc.pages || res.Manifest != filepath.Join(e.out, res.Job, "manifest.json") {
				t.Fatalf("result %+v, manifest pages %d", res, m.Source.Pages)
			}
			// Intermediates are cleaned; the journal stays for status.
			for _, dir := range []string{"split", "zst"} {
				if e.mount.Exists(filepath.Join("jobs", res.Job, dir)) {
					t.Errorf("intermediate %s left on the mount", dir)
				}
			}
		})
	}
}

func TestSharedResourcesCompressAcrossPages(t *testing.T) {
	e := newEnv(t, local.Config{})
	data := pdftest.Doc(60, pdftest.DocOptions{FontBytes: 256 << 10, Image: true})
	res, err := e.p.Run(t.Context(), local.Input{Source: writePDF(t, data)}, nil)
	if err != nil || res.Status != jobspec.Succeeded {
		t.Fatalf("run: %+v, %v", res, err)
	}
	m := pipetest.Verify(t, e.out, res.Job, false)
	var split int64
	for _, p := range m.Pages {
		split += p.PDFBytes
	}
	ratio := float64(m.Bytes) / float64(len(data))
	t.Logf("source %d bytes, split pages %d bytes (%.1fx), published %d bytes (%.2fx the source)", len(data), split, float64(split)/float64(len(data)), m.Bytes, ratio)
	if ratio > 1.5 {
		t.Fatalf("published %.2fx the source; the dictionary should share the font across pages", ratio)
	}
}

func TestSameFileSameJobSameBytes(t *testing.T) {
	e := newEnv(t, local.Config{})
	data := pdftest.Doc(5, pdftest.DocOptions{})
	a, err := e.p.Run(t.Context(), local.Input{Source: writePDF(t, data)}, nil)
	if err != nil || a.Status != jobspec.Succeeded {
		t.Fatalf("run: %+v, %v", a, err)
	}
	first := pipetest.Tree(t, e.out)
	// Another copy of the same bytes elsewhere, on a fresh mount and output.
	e2 := newEnv(t, local.Config{})
	b, err := e2.p.Run(t.Context(), local.Input{Source: writePDF(t, data)}, nil)
	if err != nil || b.Job != a.Job {
		t.Fatalf("second run: job %q, first %q, %v", b.Job, a.Job, err)
	}
	pipetest.SameTree(t, first, pipetest.Tree(t, e2.out))
}

func TestBadInputFailsCleanly(t *testing.T) {
	full := pdftest.Doc(3, pdftest.DocOptions{})
	for _, tc := range []struct {
		name string
		data []byte
		want pipeerr.Kind
		// onMount: the source was copied before it was found bad (a file
		// that is plainly not a PDF never reaches the mount).
		onMount bool
	}{
		{"empty", nil, pipeerr.NotPDF, false},
		{"not a pdf", []byte("PK\x03\x04 this is a zip file, not a PDF"), pipeerr.NotPDF, false},
		{"truncated", full[:len(full)/3], pipeerr.Damaged, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, local.Config{})
			src := writePDF(t, tc.data)
			res, err := e.p.Run(t.Context(), local.Input{Source: src}, nil)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if res.Status != jobspec.Failed || !strings.HasPrefix(res.Error, "InvalidInput.") || res.Cause == "" || strings.Contains(res.Cause, "errorMessage") {
				t.Fatalf("result %+v, want a FAILED InvalidInput.* with a readable cause", res)
			}
			t.Logf("%s: %s: %s", tc.name, res.Error, res.Cause)
			if tc.want != pipeerr.NotPDF || len(tc.data) > 0 {
				if res.Error != string(tc.want) && !(tc.want == pipeerr.Damaged && res.Error == string(pipeerr.NotPDF)) {
					t.Errorf("error %s, want %s", res.Error, tc.want)
				}
			}
			ents, _ := os.ReadDir(e.out)
			if len(ents) != 0 {
				t.Fatalf("a failed job published %d entries", len(ents))
			}
			if strings.Contains(res.Cause, "PK") {
				t.Errorf("the cause quotes the file: %q", res.Cause)
			}
			jobs, _ := e.mount.ReadDir("jobs")
			if !tc.onMount {
				if len(jobs) != 0 {
					t.Errorf("a file that is not a PDF was copied onto the mount")
				}
				return
			}
			// The source stays on the mount, and status says why.
			if len(jobs) != 1 {
				t.Fatalf("%d job dirs", len(jobs))
			}
			job, _ := jobfs.NewJob(jobs[0].Name())
			if !e.mount.Exists(job.Source()) {
				t.Error("source removed after a failure")
			}
			st, err := jobspec.LoadStatus(e.mount, job)
			if err != nil || st.Status != jobspec.Failed || st.Error != res.Error {
				t.Errorf("status %+v, %v", st, err)
			}
		})
	}
}

func TestMissingSource(t *testing.T) {
	e := newEnv(t, local.Config{})
	res, err := e.p.Run(t.Context(), local.Input{Source: filepath.Join(t.TempDir(), "nope.pdf")}, nil)
	if err != nil || res.Status != jobspec.Failed || res.Error != string(pipeerr.BadRequest) {
		t.Fatalf("result %+v, %v", res, err)
	}
}

// A transient failure of one Map iteration is retried by the ASL's Retry,
// and the run ends with the same bytes as an untroubled one.
func TestTransientFailureIsRetried(t *testing.T) {
	data := pdftest.Doc(20, pdftest.DocOptions{})
	clean := newEnv(t, local.Config{Settings: jobspec.Settings{ShardPages: 4}})
	want, err := clean.p.Run(t.Context(), local.Input{Source: writePDF(t, data)}, nil)
	if err != nil || want.Status != jobspec.Succeeded {
		t.Fatalf("clean run: %+v %v", want, err)
	}
	var slept atomic.Int64
	hook := local.Once(func(fn string, in json.RawMessage) bool {
		return fn == "compress" && strings.Contains(string(in), `"shard":2`)
	}, pipeerr.New(pipeerr.IO, "injected EFS hiccup"))
	e := newEnv(t, local.Config{Settings: jobspec.Settings{ShardPages: 4}, Hook: hook,
		Sleep: func(_ context.Context, d time.Duration) error { slept.Add(int64(d)); return nil }})
	var events []asl.Event
	got, err := e.p.Run(t.Context(), local.Input{Source: writePDF(t, data)}, func(ev asl.Event) { events = append(events, ev) })
	if err != nil || got.Status != jobspec.Succeeded {
		t.Fatalf("run: %+v %v", got, err)
	}
	if time.Duration(slept.Load()) != 2*time.Second {
		t.Errorf("retry waited %v, the ASL says IntervalSeconds 2", time.Duration(slept.Load()))
	}
	pipetest.SameTree(t, pipetest.Tree(t, clean.out), pipetest.Tree(t, e.out))
	// The whole state stays small: paths and counters only.
	for _, ev := range events {
		if b, _ := json.Marshal(ev); len(b) > 8<<10 {
			t.Errorf("event %s is %d bytes", ev.Type, len(b))
		}
	}
}

// A run that failed half-way (a stage error the ASL does not retry) is
// resumed by running it again: verified work is skipped, and the output is
// byte-identical to an uninterrupted run.
func TestResumeAfterFailure(t *testing.T) {
	data := pdftest.Doc(24, pdftest.DocOptions{})
	clean := newEnv(t, local.Config{Settings: jobspec.Settings{ShardPages: 4}})
	if res, err := clean.p.Run(t.Context(), local.Input{Source: writePDF(t, data)}, nil); err != nil || res.Status != jobspec.Succeeded {
		t.Fatalf("clean run: %+v %v", res, err)
	}
	var calls atomic.Int64
	fail := true
	hook := func(_ context.Context, fn string, in json.RawMessage) error {
		if fn == "compress" {
			calls.Add(1)
			if fail && strings.Contains(string(in), `"shard":4`) {
				return pipeerr.New(pipeerr.Internal, "injected crash")
			}
		}
		return nil
	}
	m, _ := jobfs.Open(t.TempDir())
	defer m.Close()
	outDir := t.TempDir()
	out, _ := publish.Open(t.Context(), outDir, nil)
	defer out.Close()
	p, err := local.New(local.Config{Mount: m, Out: out, Hook: hook, Settings: jobspec.Settings{ShardPages: 4}})
	if err != nil {
		t.Fatal(err)
	}
	src := writePDF(t, data)
	res, err := p.Run(t.Context(), local.Input{Source: src}, nil)
	if err != nil || res.Status != jobspec.Failed || res.Error != "Internal" {
		t.Fatalf("first run: %+v %v", res, err)
	}
	if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
		t.Fatal("a failed run published something")
	}
	fail = false
	calls.Store(0)
	res, err = p.Run(t.Context(), local.Input{Source: src}, nil)
	if err != nil || res.Status != jobspec.Succeeded {
		t.Fatalf("resumed run: %+v %v", res, err)
	}
	pipetest.SameTree(t, pipetest.Tree(t, clean.out), pipetest.Tree(t, outDir))
}

// TestManifestSaysWhatWasRepaired: a source read through the repair layer
// or decrypted with the empty user password says so in the published
// manifest; a sound one says neither.
func TestManifestSaysWhatWasRepaired(t *testing.T) {
	cases := map[string]struct{ encrypted, repaired bool }{
		"encrypted-linearized-junk-before-header": {true, true},
		"xref-wrong-offsets":                      {false, true},
		"encrypted-rc4-no-length":                 {true, true},
	}
	seen := 0
	for _, c := range pdftest.RepairCases() {
		want, ok := cases[c.Name]
		if !ok {
			continue
		}
		seen++
		t.Run(c.Name, func(t *testing.T) {
			e := newEnv(t, local.Config{})
			res, err := e.p.Run(t.Context(), local.Input{Source: writePDF(t, c.Data)}, nil)
			if err != nil || res.Status != jobspec.Succeeded {
				t.Fatalf("run: %+v, %v", res, err)
			}
			m := pipetest.Verify(t, e.out, res.Job, true)
			if m.Source.Encrypted != want.encrypted || (len(m.Source.Repairs) > 0) != want.repaired {
				t.Fatalf("manifest source %+v, want encrypted %v, repaired %v", m.Source, want.encrypted, want.repaired)
			}
		})
	}
	if seen != len(cases) {
		t.Fatalf("found %d of the %d repair cases", seen, len(cases))
	}
	e := newEnv(t, local.Config{})
	res, err := e.p.Run(t.Context(), local.Input{Source: writePDF(t, pdftest.Doc(2, pdftest.DocOptions{}))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := pipetest.Verify(t, e.out, res.Job, true); m.Source.Encrypted || m.Source.Repairs != nil {
		t.Fatalf("a sound source: %+v", m.Source)
	}
}
