package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/efspipe/efspipe/internal/awstest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/manifest"
)

// A run of a finished job checks that every published file is there with
// its size; one that is not is republished from the intermediates on the
// mount, byte for byte, saying so. A replay also restores every page and
// checks its SHA-256, so it republishes a page with a flipped byte too. A
// changed manifest is put back from the sealed one.
func TestRunRepublishes(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	src := writeDoc(t, 12)
	args := []string{"--mount", mount, "--out", out}
	r, stderr, code := run(t, append(append([]string{"run", "--json", "--keep", "--shard-pages", "4"}, args...), src)...)
	if code != 0 {
		t.Fatalf("run: %s", stderr)
	}
	want := pipetest.Tree(t, out)
	dir := filepath.Join(out, r.Job)

	os.Remove(filepath.Join(dir, manifest.PagePath(7)))
	got, stderr, code := run(t, append(append([]string{"run", "--json"}, args...), src)...)
	if code != 0 || got.Status != "SUCCEEDED" || stderr != "job "+r.Job+": its publication at "+dir+" does not verify (page 7: pages/000007.pdf.zst: missing); republishing it from the checkpoint\n" {
		t.Fatalf("run after deleting a page: exit %d, %+v, %q", code, got, stderr)
	}
	pipetest.SameTree(t, want, pipetest.Tree(t, out))

	// A flipped byte keeps the size: a run does not read pages, a replay does.
	pipetest.FlipFile(t, filepath.Join(dir, manifest.PagePath(10)))
	if _, stderr, code := run(t, append(append([]string{"run"}, args...), src)...); code != 0 || stderr != "" {
		t.Fatalf("run after flipping a byte: exit %d, %q", code, stderr)
	}
	_, stderr, code = run(t, append(append([]string{"replay"}, args...), r.Job)...)
	if code != 0 || !strings.Contains(stderr, "(page 10: pages/000010.pdf.zst does not restore") || !strings.HasSuffix(stderr, "; republishing it from the checkpoint\n") {
		t.Fatalf("replay after flipping a byte: exit %d, %q", code, stderr)
	}
	pipetest.SameTree(t, want, pipetest.Tree(t, out))

	// A changed manifest, and a changed dictionary.
	os.WriteFile(filepath.Join(dir, manifest.File), []byte("{}\n"), 0o644)
	_, stderr, code = run(t, append(append([]string{"replay"}, args...), r.Job)...)
	if code != 0 || !strings.HasSuffix(stderr, "(manifest.json differs from the manifest it was published from); republishing manifest.json from the sealed manifest on the mount\n") {
		t.Fatalf("replay after changing the manifest: exit %d, %q", code, stderr)
	}
	pipetest.SameTree(t, want, pipetest.Tree(t, out))
	// A changed dictionary hides a page changed in place (nothing can
	// restore pages to check them): both are put right at once.
	pipetest.FlipFile(t, filepath.Join(dir, manifest.DictionaryFile))
	pipetest.FlipFile(t, filepath.Join(dir, manifest.PagePath(3)))
	if _, stderr, code = run(t, append(append([]string{"replay"}, args...), r.Job)...); code != 0 || !strings.Contains(stderr, "(dictionary.zdict has SHA-256") {
		t.Fatalf("replay after changing the dictionary: exit %d, %q", code, stderr)
	}
	pipetest.SameTree(t, want, pipetest.Tree(t, out))
	if _, _, code := cli(t, "verify", "--out", out, r.Job); code != 0 {
		t.Fatal("the republished job does not verify")
	}
}

// Without the intermediates (gone after publishing unless --keep, or
// collected by gc), a damaged publication is redone from the job's copy of
// its source, and comes out byte for byte as first published.
func TestRepublishWithoutIntermediates(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	src := writeDoc(t, 6)
	args := []string{"--mount", mount, "--out", out}
	r, stderr, code := run(t, append(append([]string{"run", "--json", "--keep"}, args...), src)...)
	if code != 0 {
		t.Fatalf("run: %s", stderr)
	}
	want := pipetest.Tree(t, out)
	if _, stderr, code := cli(t, "gc", "--mount", mount, "--older-than", "0s"); code != 0 {
		t.Fatalf("gc: %s", stderr)
	}
	// Nothing published at another output is not damage: the run
	// publishes the job there as a first time, from its source on the
	// mount.
	out2 := t.TempDir()
	if _, stderr, code := run(t, "run", "--mount", mount, "--out", out2, src); code != 0 || stderr != "" {
		t.Fatalf("run to another output: exit %d, %q", code, stderr)
	}
	pipetest.SameTree(t, want, pipetest.Tree(t, out2))
	cli(t, "gc", "--mount", mount, "--older-than", "0s")

	// Without intermediates a damaged publication is redone from the
	// job's copy of its source with the job's own settings (not this
	// run's --level): the same bytes as the first time.
	for i, cmd := range [][]string{
		append(append([]string{"run", "--level", "best"}, args...), src),
		append(append([]string{"replay"}, args...), r.Job),
	} {
		os.Remove(filepath.Join(out, r.Job, manifest.PagePath(2+i)))
		cli(t, "gc", "--mount", mount, "--older-than", "0s")
		_, stderr, code := run(t, cmd...)
		if code != 0 || !strings.Contains(stderr, fmt.Sprintf("does not verify (page %d: pages/%06d.pdf.zst: missing); its intermediates are no longer on the mount", 2+i, 2+i)) ||
			!strings.Contains(stderr, "redone from its source with its own settings") ||
			(i == 0) != strings.Contains(stderr, "keeps the settings it started with, not these (level auto -> best)") {
			t.Fatalf("%s: exit %d, %q", cmd[0], code, stderr)
		}
		pipetest.SameTree(t, want, pipetest.Tree(t, out))
	}
	os.Remove(filepath.Join(out, r.Job, manifest.PagePath(4)))
	_, stderr, code = run(t, append(append([]string{"replay", "--fresh"}, args...), r.Job)...)
	if code != 0 || !strings.HasSuffix(stderr, "; republishing it from the source (--fresh)\n") {
		t.Fatalf("replay --fresh: exit %d, %q", code, stderr)
	}
	pipetest.SameTree(t, want, pipetest.Tree(t, out))
}

// With --keep, a damaged intermediate is named, not taken for removed
// intermediates, and the job is redone to the same bytes.
func TestRepublishWithADamagedIntermediate(t *testing.T) {
	mount, out := t.TempDir(), t.TempDir()
	src := writeDoc(t, 6)
	r, stderr, code := run(t, "run", "--json", "--keep", "--mount", mount, "--out", out, src)
	if code != 0 {
		t.Fatalf("run: %s", stderr)
	}
	want := pipetest.Tree(t, out)
	pipetest.FlipFile(t, filepath.Join(mount, "jobs", r.Job, "zst", "shard-0000.zst"))
	os.Remove(filepath.Join(out, r.Job, manifest.PagePath(2)))
	_, stderr, code = run(t, "replay", "--mount", mount, "--out", out, r.Job)
	if code != 0 || !strings.Contains(stderr, "its intermediate compress-0000 on the mount does not verify (checksum differs from the record), so the job is redone") {
		t.Fatalf("replay: exit %d, %q", code, stderr)
	}
	pipetest.SameTree(t, want, pipetest.Tree(t, out))
}

// A run republishes a page deleted from a bucket, byte for byte.
func TestRunRepublishesToS3(t *testing.T) {
	c := awstest.S3(t, "out")
	const out = "s3://out/prefix"
	src := writeDoc(t, 4)
	mount := t.TempDir()
	r, stderr, code := run(t, "run", "--json", "--keep", "--mount", mount, "--out", out, src)
	if code != 0 {
		t.Fatalf("run: %s", stderr)
	}
	raw := get(t, c, "prefix/"+r.Job+"/"+manifest.File)
	var m manifest.Published
	if err := json.Unmarshal(raw, &m); err != nil || len(m.Pages) != 4 {
		t.Fatalf("manifest %s: %v", raw, err)
	}
	key := "prefix/" + r.Job + "/" + manifest.PagePath(3)
	page3 := get(t, c, key)
	if _, err := c.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String("out"), Key: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = run(t, "run", "--mount", mount, "--out", out, src)
	if want := "job " + r.Job + ": its publication at s3://out/prefix/" + r.Job + " does not verify (page 3: pages/000003.pdf.zst: missing); republishing it from the checkpoint\n"; code != 0 || stderr != want {
		t.Fatalf("run after deleting a page: exit %d, %q, want %q", code, stderr, want)
	}
	if !bytes.Equal(get(t, c, key), page3) || !bytes.Equal(get(t, c, "prefix/"+r.Job+"/"+manifest.File), raw) {
		t.Fatal("the republished page or manifest differs")
	}
	if _, stderr, code := cli(t, "verify", "--out", out, r.Job); code != 0 {
		t.Fatalf("verify after republishing: %s", stderr)
	}
}
