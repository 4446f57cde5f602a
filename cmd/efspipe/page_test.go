package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/efspipe/efspipe/internal/awstest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/reader"
)

// publishJob runs the pipeline on a document of pages pages and returns
// the mount, the output folder and the job's manifest.
func publishJob(t *testing.T, pages int, flags ...string) (mount, out string, m manifest.Published) {
	t.Helper()
	mount, out = t.TempDir(), t.TempDir()
	src := writeDoc(t, pages)
	r, stderr, code := run(t, append(append([]string{"run", "--mount", mount, "--out", out, "--json"}, flags...), src)...)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	return mount, out, pipetest.Verify(t, out, r.Job, false)
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// checkPage requires pdf to be page n of m as the pipeline produced it: its
// size and SHA-256 in the manifest, and a PDF qpdf accepts.
func checkPage(t *testing.T, m manifest.Published, n int, pdf []byte) {
	t.Helper()
	if p := m.Pages[n-1]; sha(pdf) != p.SHA256 || int64(len(pdf)) != p.PDFBytes {
		t.Fatalf("page %d: %d bytes, SHA-256 %s; the manifest says %d, %s", n, len(pdf), sha(pdf), p.PDFBytes, p.SHA256)
	}
	if qpdf := pipetest.Tool("qpdf"); qpdf != "" {
		pipetest.CheckPDF(t, qpdf, pdf, 1)
	}
}

// `efspipe page` gives back each page byte for byte: on stdout, to -o FILE
// (whole: no temp file left), and a range to -o DIR, one file a page.
func TestPage(t *testing.T) {
	_, out, m := publishJob(t, 5)
	stdout, stderr, code := cli(t, "page", "--out", out, m.Job, "3")
	if code != 0 || stderr != "" {
		t.Fatalf("page 3: exit %d: %s", code, stderr)
	}
	checkPage(t, m, 3, []byte(stdout))

	// Flags after the arguments, as `efspipe page JOB 7 -o p7.pdf`.
	dir := t.TempDir()
	file := filepath.Join(dir, "p2.pdf")
	if _, stderr, code := cli(t, "page", m.Job, "2", "-o", file, "--out", out); code != 0 {
		t.Fatalf("page 2 -o: exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(file)
	checkPage(t, m, 2, b)
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left in the directory: %v", ents)
	}

	pages := filepath.Join(t.TempDir(), "pages")
	if _, stderr, code := cli(t, "page", "--out", out, m.Job, "2-4", "-o", pages); code != 0 {
		t.Fatalf("page 2-4: exit %d: %s", code, stderr)
	}
	ents, _ := os.ReadDir(pages)
	if len(ents) != 3 {
		t.Fatalf("range wrote %v", ents)
	}
	for n := 2; n <= 4; n++ {
		b, err := os.ReadFile(filepath.Join(pages, fmt.Sprintf("%06d.pdf", n)))
		if err != nil {
			t.Fatal(err)
		}
		checkPage(t, m, n, b)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"2-4"}, 2, "efspipe: a range of pages needs -o DIR"},
		{[]string{"0"}, 2, `efspipe: "0" is not a page number`},
		{[]string{"4-2", "-o", pages}, 2, `efspipe: "4-2" is not a page number`},
		{[]string{"6"}, 1, "efspipe: job " + m.Job + " has pages 1 to 5, not 6\n"},
	} {
		_, stderr, code := cli(t, append([]string{"page", "--out", out, m.Job}, tc.args...)...)
		if code != tc.code || !strings.HasPrefix(stderr, tc.want) {
			t.Errorf("page %v: exit %d, %q; want %d, %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	if _, stderr, code := cli(t, "page", "--out", out, "f-nosuchjob", "1"); code != 1 || stderr != "efspipe: job f-nosuchjob is not published: "+filepath.Join(out, "f-nosuchjob", "manifest.json")+": missing\n" {
		t.Errorf("a job not published: exit %d, %q", code, stderr)
	}
}

// A one-page document shares nothing: no dictionary is published, and the
// page restores without one.
func TestPageWithoutDictionary(t *testing.T) {
	_, out, m := publishJob(t, 1)
	if m.Dictionary != "" {
		t.Fatalf("a dictionary was published: %s", m.Dictionary)
	}
	if _, err := os.Stat(filepath.Join(out, m.Job, manifest.DictionaryFile)); err == nil {
		t.Fatal("dictionary.zdict exists")
	}
	stdout, stderr, code := cli(t, "page", "--out", out, m.Job, "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkPage(t, m, 1, []byte(stdout))
	if stdout, _, code := cli(t, "verify", "--out", out, m.Job); code != 0 || !strings.HasPrefix(stdout, "job "+m.Job+": 1 page,") {
		t.Fatalf("verify: exit %d %q", code, stdout)
	}
}

func verifyJSON(t *testing.T, out, job string) ([]reader.Problem, string, int) {
	t.Helper()
	stdout, _, code := cli(t, "verify", "--out", out, "--json", job)
	var probs []reader.Problem
	if err := json.Unmarshal([]byte(stdout), &probs); err != nil {
		t.Fatalf("verify --json printed %q: %v", stdout, err)
	}
	return probs, stdout, code
}

// `efspipe verify` passes a clean publication and names what is wrong with
// a damaged one: a flipped byte in a page, a deleted page, a changed
// dictionary. `efspipe page` refuses the damaged page without writing it.
func TestVerify(t *testing.T) {
	_, out, m := publishJob(t, 5)
	dir := filepath.Join(out, m.Job)
	stdout, stderr, code := cli(t, "verify", "--out", out, m.Job)
	if want := "job " + m.Job + ": 5 pages, " + strconv.FormatInt(m.Bytes, 10) + " bytes verified\n"; code != 0 || stdout != want || stderr != "" {
		t.Fatalf("verify: exit %d, %q, %q; want %q", code, stdout, stderr, want)
	}
	if probs, raw, code := verifyJSON(t, out, m.Job); code != 0 || raw != "[]\n" || len(probs) != 0 {
		t.Fatalf("verify --json: exit %d, %q", code, raw)
	}

	pipetest.FlipFile(t, filepath.Join(dir, manifest.PagePath(3)))
	_, stderr, code = cli(t, "verify", "--out", out, m.Job)
	if code != 1 || !strings.HasPrefix(stderr, "efspipe: job "+m.Job+": page 3: pages/000003.pdf.zst ") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("verify of a flipped byte: exit %d, %q", code, stderr)
	}
	dest := filepath.Join(t.TempDir(), "p3.pdf")
	_, stderr, code = cli(t, "page", "--out", out, m.Job, "3", "-o", dest)
	if code != 1 || !strings.HasPrefix(stderr, "efspipe: job "+m.Job+": page 3: ") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("page of a flipped byte: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(dest); err == nil {
		t.Fatal("page wrote a page that fails its check")
	}
	stdout, _, code = cli(t, "page", "--out", out, m.Job, "3")
	if code != 1 || stdout != "" {
		t.Fatalf("page to stdout of a flipped byte: exit %d, %d bytes written", code, len(stdout))
	}

	os.Remove(filepath.Join(dir, manifest.PagePath(4)))
	probs, _, code := verifyJSON(t, out, m.Job)
	if code != 1 || len(probs) != 2 || probs[0].Page != 3 || probs[1].Page != 4 || probs[1].Reason != "page 4: pages/000004.pdf.zst: missing" || probs[1].Kind != "InvalidInput.Damaged" {
		t.Fatalf("verify --json: exit %d, %+v", code, probs)
	}
	_, stderr, _ = cli(t, "verify", "--out", out, m.Job)
	if !strings.HasSuffix(stderr, " (and 1 more problem)\n") {
		t.Errorf("verify: %q", stderr)
	}

	pipetest.FlipFile(t, filepath.Join(dir, manifest.DictionaryFile))
	probs, _, code = verifyJSON(t, out, m.Job)
	if code != 1 || len(probs) != 2 || probs[0].Path != manifest.DictionaryFile || !strings.HasPrefix(probs[0].Reason, "dictionary.zdict has SHA-256 ") {
		t.Fatalf("verify --json with a changed dictionary: exit %d, %+v", code, probs)
	}
	if _, stderr, code := cli(t, "page", "--out", out, m.Job, "1"); code != 1 || !strings.HasPrefix(stderr, "efspipe: job "+m.Job+": page 1: dictionary.zdict has SHA-256") {
		t.Fatalf("page with a changed dictionary: exit %d, %q", code, stderr)
	}

	probs, _, code = verifyJSON(t, out, "f-nosuchjob")
	if code != 1 || len(probs) != 1 || probs[0].Path != manifest.File {
		t.Fatalf("verify --json of a job not published: exit %d, %+v", code, probs)
	}
}

// page and verify read an s3:// output through a real S3 protocol server.
func TestPageAndVerifyFromS3(t *testing.T) {
	c := awstest.S3(t, "out")
	const out = "s3://out/prefix"
	src := writeDoc(t, 4)
	mount := t.TempDir()
	r, stderr, code := run(t, "run", "--json", "--mount", mount, "--out", out, src)
	if code != 0 {
		t.Fatalf("run: %s", stderr)
	}
	raw := get(t, c, "prefix/"+r.Job+"/"+manifest.File)
	var m manifest.Published
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "p2.pdf")
	if _, stderr, code := cli(t, "page", r.Job, "2", "-o", file, "--out", out); code != 0 {
		t.Fatalf("page: exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(file)
	checkPage(t, m, 2, b)
	if stdout, stderr, code := cli(t, "verify", "--out", out, r.Job); code != 0 || !strings.HasPrefix(stdout, "job "+r.Job+": 4 pages, ") {
		t.Fatalf("verify: exit %d, %q %q", code, stdout, stderr)
	}

	key := "prefix/" + r.Job + "/" + manifest.PagePath(3)
	if _, err := c.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String("out"), Key: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := cli(t, "verify", "--out", out, r.Job); code != 1 || stderr != "efspipe: job "+r.Job+": page 3: pages/000003.pdf.zst: missing\n" {
		t.Fatalf("verify of a deleted page: exit %d, %q", code, stderr)
	}
	if _, stderr, code := cli(t, "page", "--out", out, r.Job, "3"); code != 1 || stderr != "efspipe: job "+r.Job+": page 3: pages/000003.pdf.zst: missing\n" {
		t.Fatalf("page of a deleted page: exit %d, %q", code, stderr)
	}
}

func get(t *testing.T, c *s3.Client, key string) []byte {
	t.Helper()
	obj, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("out"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	defer obj.Body.Close()
	b, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
