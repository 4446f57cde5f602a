package reader_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/efspipe/efspipe/internal/awstest"
	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/publish"
	"github.com/efspipe/efspipe/pkg/reader"
	"github.com/efspipe/efspipe/pkg/zlevel"
	"github.com/efspipe/efspipe/pkg/zpage"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func open(t *testing.T, out, job string) *reader.Job {
	t.Helper()
	j, err := reader.Open(t.Context(), out, job, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// Every page comes back as the pipeline produced it: the manifest's size
// and SHA-256, what `zstd -d` restores, and a PDF qpdf accepts; with and
// without a dictionary (a one-page document shares nothing).
func TestPageRestoresPublishedBytes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pages int
		dict  bool
	}{
		{"dictionary", 5, true},
		{"no dictionary", 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, job := published(t, pdftest.Doc(tc.pages, pdftest.DocOptions{}))
			j := open(t, out, job)
			m := j.Manifest()
			if j.Len() != tc.pages || (m.Dictionary != "") != tc.dict {
				t.Fatalf("%d pages, dictionary %q", j.Len(), m.Dictionary)
			}
			zstdCLI, qpdf := pipetest.Tool("zstd"), pipetest.Tool("qpdf")
			for n := 1; n <= j.Len(); n++ {
				pdf, err := j.Page(t.Context(), n)
				if err != nil {
					t.Fatal(err)
				}
				p := m.Pages[n-1]
				if sum(pdf) != p.SHA256 || int64(len(pdf)) != p.PDFBytes || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
					t.Fatalf("page %d: %d bytes, SHA-256 %s; manifest %+v", n, len(pdf), sum(pdf), p)
				}
				if zstdCLI != "" {
					args := []string{"-d", "-c", "-q"}
					if tc.dict {
						args = append(args, "-D", filepath.Join(out, job, manifest.DictionaryFile))
					}
					got, err := exec.Command(zstdCLI, append(args, filepath.Join(out, job, p.Path))...).Output()
					if err != nil || !bytes.Equal(got, pdf) {
						t.Fatalf("page %d: zstd -d gives other bytes (%v)", n, err)
					}
				}
				if qpdf != "" {
					pipetest.CheckPDF(t, qpdf, pdf, 1)
				}
				r, err := j.PageReader(t.Context(), n)
				if err != nil {
					t.Fatal(err)
				}
				if b, _ := io.ReadAll(r); !bytes.Equal(b, pdf) {
					t.Fatalf("page %d: PageReader differs from Page", n)
				}
			}
			probs, err := j.Verify(t.Context())
			if err != nil || probs == nil || len(probs) != 0 {
				t.Fatalf("Verify: %v %v", probs, err)
			}
			probs, err = j.CheckSizes(t.Context())
			if err != nil || probs == nil || len(probs) != 0 {
				t.Fatalf("CheckSizes: %v %v", probs, err)
			}
		})
	}
}

func TestPagesIterates(t *testing.T) {
	out, job := published(t, pdftest.Doc(4, pdftest.DocOptions{}))
	j := open(t, out, job)
	var seen []int
	for p, err := range j.Pages(t.Context()) {
		if err != nil || sum(p.Data) != p.SHA256 {
			t.Fatalf("page %d: %v", p.Number, err)
		}
		seen = append(seen, p.Number)
		if p.Number == 3 {
			break
		}
	}
	if len(seen) != 3 || seen[0] != 1 || seen[2] != 3 {
		t.Fatalf("pages seen: %v", seen)
	}
}

// Verify finds every problem, page by page; CheckSizes only those that
// change a size; Page refuses each damaged page with a Damaged error that
// names it.
func TestVerifyFindsEveryProblem(t *testing.T) {
	out, job := published(t, pdftest.Doc(6, pdftest.DocOptions{}))
	dir := filepath.Join(out, job)
	pipetest.FlipFile(t, filepath.Join(dir, manifest.PagePath(2)))
	os.Remove(filepath.Join(dir, manifest.PagePath(4)))
	b, _ := os.ReadFile(filepath.Join(dir, manifest.PagePath(5)))
	os.WriteFile(filepath.Join(dir, manifest.PagePath(5)), b[:len(b)-1], 0o644)
	j := open(t, out, job)

	probs, err := j.Verify(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{2: "page 2: pages/000002.pdf.zst ", 4: "page 4: pages/000004.pdf.zst: missing", 5: "page 5: pages/000005.pdf.zst is "}
	if len(probs) != len(want) {
		t.Fatalf("problems: %v", probs)
	}
	for _, p := range probs {
		if !strings.HasPrefix(p.Reason, want[p.Page]) || p.Kind != pipeerr.Damaged || p.Path != manifest.PagePath(p.Page) {
			t.Errorf("problem %+v, want a reason starting %q", p, want[p.Page])
		}
		if missing := errors.Is(p.Err, fs.ErrNotExist); missing != (p.Page == 4) {
			t.Errorf("page %d: errors.Is(fs.ErrNotExist) = %v", p.Page, missing)
		}
		if _, err := j.Page(t.Context(), p.Page); pipeerr.KindOf(err) != pipeerr.Damaged || err.Error() != p.Reason {
			t.Errorf("Page(%d): %v, want %q", p.Page, err, p.Reason)
		}
	}
	probs, err = j.CheckSizes(t.Context())
	if err != nil || len(probs) != 2 || probs[0].Page != 4 || probs[1].Page != 5 {
		t.Fatalf("CheckSizes: %v %v", probs, err)
	}
	for _, n := range []int{1, 3, 6} {
		if _, err := j.Page(t.Context(), n); err != nil {
			t.Errorf("an intact page fails: %v", err)
		}
	}
}

// A dictionary that is not the manifest's is a problem of its own; no page
// is handed out; pages are then checked for presence and size.
func TestChangedDictionary(t *testing.T) {
	out, job := published(t, pdftest.Doc(3, pdftest.DocOptions{}))
	dir := filepath.Join(out, job)
	pipetest.FlipFile(t, filepath.Join(dir, manifest.DictionaryFile))
	os.Remove(filepath.Join(dir, manifest.PagePath(3)))
	j := open(t, out, job)
	if _, err := j.Page(t.Context(), 1); pipeerr.KindOf(err) != pipeerr.Damaged || !strings.HasPrefix(err.Error(), "page 1: dictionary.zdict has SHA-256") {
		t.Fatalf("Page(1) with a changed dictionary: %v", err)
	}
	probs, err := j.Verify(t.Context())
	if err != nil || len(probs) != 2 || probs[0].Path != manifest.DictionaryFile || probs[0].Page != 0 || probs[1].Page != 3 {
		t.Fatalf("Verify: %v %v", probs, err)
	}
	// Same size: the quick check cannot see it, a truncated one it can.
	if probs, _ := j.CheckSizes(t.Context()); len(probs) != 1 {
		t.Fatalf("CheckSizes: %v", probs)
	}
	b, _ := os.ReadFile(filepath.Join(dir, manifest.DictionaryFile))
	os.WriteFile(filepath.Join(dir, manifest.DictionaryFile), b[:10], 0o644)
	if probs, _ := j.CheckSizes(t.Context()); len(probs) != 2 || probs[0].Reason != "dictionary.zdict is 10 bytes, the manifest says "+strconv.Itoa(len(b)) {
		t.Fatalf("CheckSizes: %v", probs)
	}
}

// A frame that declares more than the manifest's pdf_bytes is refused from
// its header: the 64 MiB it declares are never allocated.
func TestFrameDeclaringMoreIsRefused(t *testing.T) {
	enc, err := zpage.NewEncoder(nil, zlevel.Default)
	if err != nil {
		t.Fatal(err)
	}
	frame, err := enc.Encode(nil, make([]byte, 64<<20))
	if err != nil {
		t.Fatal(err)
	}
	enc.Close()
	out := t.TempDir()
	const job = "f-bomb"
	os.MkdirAll(filepath.Join(out, job, "pages"), 0o755)
	os.WriteFile(filepath.Join(out, job, manifest.PagePath(1)), frame, 0o644)
	m := manifest.Published{Job: job, Codec: "zstd", Bytes: int64(len(frame)),
		Source: manifest.Source{Pages: 1},
		Pages:  []manifest.Page{{Number: 1, Path: manifest.PagePath(1), Bytes: int64(len(frame)), PDFBytes: 1000, SHA256: strings.Repeat("0", 64)}}}
	raw, _ := manifest.Encode(m)
	os.WriteFile(filepath.Join(out, job, manifest.File), raw, 0o644)
	j := open(t, out, job)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = j.Page(t.Context(), 1)
	runtime.ReadMemStats(&after)
	if pipeerr.KindOf(err) != pipeerr.Damaged || err.Error() != "page 1: pages/000001.pdf.zst declares 67108864 bytes, the manifest says 1000" {
		t.Fatalf("Page: %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
		t.Errorf("refusing the frame allocated %d bytes", n)
	}
	// A page beyond the reader's bound is refused when the job is opened.
	if _, err := reader.Open(t.Context(), out, job, &reader.Options{MaxPageBytes: 999}); pipeerr.KindOf(err) != pipeerr.TooLarge {
		t.Fatalf("Open with MaxPageBytes below a page: %v", err)
	}
}

// A local folder is read confined to the job's folder: a page replaced by
// a symlink out of it (even into another job's pages) is refused, and a
// FIFO is refused without being opened.
func TestFolderIsConfined(t *testing.T) {
	out, job := published(t, pdftest.Doc(3, pdftest.DocOptions{}))
	other := filepath.Join(out, "f-other", "pages")
	os.MkdirAll(other, 0o755)
	page2 := filepath.Join(out, job, manifest.PagePath(2))
	b, _ := os.ReadFile(page2)
	os.WriteFile(filepath.Join(other, "000002.pdf.zst"), b, 0o644)
	os.Remove(page2)
	if err := os.Symlink(filepath.Join(other, "000002.pdf.zst"), page2); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(out, job, manifest.PagePath(3)+".tmp"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(out, job, manifest.PagePath(3)))
	os.Rename(filepath.Join(out, job, manifest.PagePath(3)+".tmp"), filepath.Join(out, job, manifest.PagePath(3)))
	j := open(t, out, job)
	if _, err := j.Page(t.Context(), 2); pipeerr.KindOf(err) != pipeerr.BadRequest || !strings.Contains(err.Error(), "escapes the job's folder") {
		t.Fatalf("a symlink out of the job's folder: %v", err)
	}
	if _, err := j.Page(t.Context(), 3); pipeerr.KindOf(err) != pipeerr.Damaged || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a FIFO: %v", err)
	}
	probs, err := j.Verify(t.Context())
	if err != nil || len(probs) != 2 {
		t.Fatalf("Verify: %v %v", probs, err)
	}
	if probs, err := j.CheckSizes(t.Context()); err != nil || len(probs) != 2 {
		t.Fatalf("CheckSizes: %v %v", probs, err)
	}
}

func TestOpenErrors(t *testing.T) {
	out, job := published(t, pdftest.Doc(2, pdftest.DocOptions{}))
	for _, tc := range []struct {
		name, out, job string
		kind           pipeerr.Kind
		missing        bool
	}{
		{"not a job ID", out, "../etc", pipeerr.BadRequest, false},
		{"no such job", out, "f-nothing", pipeerr.BadRequest, true},
		{"no such folder", filepath.Join(out, "none"), job, pipeerr.BadRequest, true},
		{"another scheme", "gs://bucket/x", job, pipeerr.BadRequest, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := reader.Open(t.Context(), tc.out, tc.job, nil)
			if pipeerr.KindOf(err) != tc.kind || errors.Is(err, fs.ErrNotExist) != tc.missing {
				t.Fatalf("%v (%s)", err, pipeerr.KindOf(err))
			}
		})
	}
	j := open(t, out, job)
	for _, n := range []int{0, 3} {
		if _, err := j.Page(t.Context(), n); pipeerr.KindOf(err) != pipeerr.BadRequest {
			t.Errorf("Page(%d): %v", n, err)
		}
	}
	// A manifest of another job, or edited so that it lies about a path.
	raw, _ := os.ReadFile(filepath.Join(out, job, manifest.File))
	for _, bad := range []string{
		strings.Replace(string(raw), `"job": "`+job, `"job": "f-other`, 1),
		strings.Replace(string(raw), `"pages/000002.pdf.zst"`, `"../f-other/pages/000002.pdf.zst"`, 1),
		"{",
	} {
		os.WriteFile(filepath.Join(out, job, manifest.File), []byte(bad), 0o644)
		if _, err := reader.Open(t.Context(), out, job, nil); pipeerr.KindOf(err) != pipeerr.Damaged {
			t.Errorf("a bad manifest: %v", err)
		}
	}
	// A manifest of a newer schema is refused, saying so, not read as this
	// one.
	os.WriteFile(filepath.Join(out, job, manifest.File), []byte(strings.Replace(string(raw), `"schema": 1,`, `"schema": 2,`, 1)), 0o644)
	if _, err := reader.Open(t.Context(), out, job, nil); pipeerr.KindOf(err) != pipeerr.BadRequest || !strings.Contains(err.Error(), "schema 2, newer") {
		t.Errorf("a newer schema: %v", err)
	}
	// Checked against the manifest it was published from, a changed one
	// is a problem.
	os.WriteFile(filepath.Join(out, job, manifest.File), append(raw, '\n'), 0o644)
	j, err := reader.Open(t.Context(), out, job, &reader.Options{Manifest: raw})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if probs, _ := j.Verify(t.Context()); len(probs) != 1 || probs[0].Reason != "manifest.json differs from the manifest it was published from" {
		t.Fatalf("Verify: %v", probs)
	}
	os.Remove(filepath.Join(out, job, manifest.File))
	if probs, _ := j.CheckSizes(t.Context()); len(probs) != 1 || probs[0].Reason != "manifest.json: missing" {
		t.Fatalf("CheckSizes: %v", probs)
	}
}

// A publication in a bucket, through a real S3 protocol server: read,
// verified, and its damage found.
func TestReadFromS3(t *testing.T) {
	c := awstest.S3(t, "out")
	job, err := publishDoc(t.Context(), t.TempDir(), pdftest.Doc(4, pdftest.DocOptions{}), "s3://out/prefix", publish.S3(c))
	if err != nil {
		t.Fatal(err)
	}
	// The client from the environment (AWS_ENDPOINT_URL), as a consumer's.
	j, err := reader.Open(t.Context(), "s3://out/prefix", job, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	m := j.Manifest()
	for n := 1; n <= j.Len(); n++ {
		pdf, err := j.Page(t.Context(), n)
		if err != nil || sum(pdf) != m.Pages[n-1].SHA256 {
			t.Fatalf("page %d: %v", n, err)
		}
	}
	if probs, err := j.Verify(t.Context()); err != nil || len(probs) != 0 {
		t.Fatalf("Verify: %v %v", probs, err)
	}
	key := func(n int) *string { return aws.String("prefix/" + job + "/" + manifest.PagePath(n)) }
	if _, err := c.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String("out"), Key: key(2)}); err != nil {
		t.Fatal(err)
	}
	obj, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("out"), Key: key(3)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	b[len(b)/2] ^= 1
	if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("out"), Key: key(3), Body: bytes.NewReader(b)}); err != nil {
		t.Fatal(err)
	}
	probs, err := j.Verify(t.Context())
	if err != nil || len(probs) != 2 || probs[0].Reason != "page 2: pages/000002.pdf.zst: missing" || !errors.Is(probs[0].Err, fs.ErrNotExist) || probs[1].Page != 3 {
		t.Fatalf("Verify: %v %v", probs, err)
	}
	if probs, err := j.CheckSizes(t.Context()); err != nil || len(probs) != 1 || probs[0].Page != 2 {
		t.Fatalf("CheckSizes: %v %v", probs, err)
	}
	if _, err := j.Page(t.Context(), 3); pipeerr.KindOf(err) != pipeerr.Damaged {
		t.Fatalf("Page(3): %v", err)
	}
	if _, err := reader.Open(t.Context(), "s3://out/prefix", "f-none", nil); pipeerr.KindOf(err) != pipeerr.BadRequest || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no such job: %v", err)
	}
}

// Where pages/ cannot be listed, CheckSizes stats each page instead and
// reports each one it cannot find.
func TestCheckSizesWithoutListing(t *testing.T) {
	out, job := published(t, pdftest.Doc(2, pdftest.DocOptions{}))
	j := open(t, out, job)
	pages := filepath.Join(out, job, "pages")
	os.RemoveAll(pages)
	os.WriteFile(pages, []byte("not a directory"), 0o644)
	probs, err := j.CheckSizes(t.Context())
	if err != nil || len(probs) != 2 || probs[0].Page != 1 || probs[1].Page != 2 {
		t.Fatalf("CheckSizes: %v %v", probs, err)
	}
}
