package finalize_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/efspipe/efspipe/internal/awstest"
	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/publish/s3direct"
	"github.com/efspipe/efspipe/pkg/zlevel"
	"github.com/efspipe/efspipe/stages/finalize"
)

func TestFinalize(t *testing.T) {
	m := pipetest.Mount(t)
	s := pipetest.Run(t, m, pdftest.Doc(5, pdftest.DocOptions{}), jobspec.Settings{ShardPages: 2}, "checkpoint")
	out, dir := pipetest.Out(t)
	f := &finalize.Stage{Mount: m, Out: out}
	res, err := f.Handle(t.Context(), finalize.In{Job: s.Job.ID, Sealed: s.Checkpoint.Manifest})
	if err != nil || res.Status != jobspec.Succeeded || res.Pages != 5 {
		t.Fatalf("%+v %v", res, err)
	}
	pipetest.Verify(t, dir, s.Job.ID, true)
	sealed, _ := m.ReadFile(s.Job.Sealed())
	published, _ := os.ReadFile(filepath.Join(dir, s.Job.ID, "manifest.json"))
	if string(sealed) != string(published) {
		t.Fatal("the published manifest differs from the sealed one")
	}
	for _, d := range s.Job.Intermediates() {
		if m.Exists(d) {
			t.Errorf("%s left behind", d)
		}
	}
	st, err := jobspec.LoadStatus(m, s.Job)
	if err != nil || st.Status != jobspec.Succeeded || st.Manifest != res.Manifest {
		t.Fatalf("status %+v %v", st, err)
	}
	// A retry after success is a no-op that reports the same outcome, but
	// for what a writer killed in another run left, which goes.
	stray := filepath.Join(dir, s.Job.ID, "pages", "000003.pdf.zst.0123456789abcdef.tmp")
	os.WriteFile(stray, []byte("half"), 0o644)
	again, err := f.Handle(t.Context(), finalize.In{Job: s.Job.ID, Sealed: s.Checkpoint.Manifest})
	if err != nil || again != res {
		t.Fatalf("retry: %+v %v", again, err)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Errorf("a killed writer's temp file is still in the output (%v)", err)
	}
}

// TestFinalizeToS3 is the finalize Lambda's composition: s3direct, not
// gocloud, against a real S3 protocol server.
func TestFinalizeToS3(t *testing.T) {
	c := awstest.S3(t, "out")
	out, err := s3direct.Open(c, "s3://out/published")
	if err != nil {
		t.Fatal(err)
	}
	m := pipetest.Mount(t)
	s := pipetest.Run(t, m, pdftest.Doc(3, pdftest.DocOptions{}), jobspec.Settings{ShardPages: 2}, "checkpoint")
	res, err := (&finalize.Stage{Mount: m, Out: out}).Handle(t.Context(), finalize.In{Job: s.Job.ID, Sealed: s.Checkpoint.Manifest})
	if err != nil || res.Status != jobspec.Succeeded || res.Manifest != "s3://out/published/"+s.Job.ID+"/manifest.json" {
		t.Fatalf("%+v %v", res, err)
	}
	sealed, _ := m.ReadFile(s.Job.Sealed())
	got, found, err := out.Get(t.Context(), s.Job.ID+"/manifest.json")
	if err != nil || !found || string(got) != string(sealed) {
		t.Fatalf("published manifest: found %v, %v", found, err)
	}
	list, err := c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String("out"), Prefix: aws.String("published/" + s.Job.ID + "/pages/")})
	if err != nil || len(list.Contents) != 3 {
		t.Fatalf("%d pages published, want 3 (%v)", len(list.Contents), err)
	}
}

func TestFinalizeFailurePublishesNothing(t *testing.T) {
	m := pipetest.Mount(t)
	s := pipetest.Run(t, m, pdftest.Doc(1, pdftest.DocOptions{}), jobspec.Settings{}, "ingest")
	out, dir := pipetest.Out(t)
	res, err := (&finalize.Stage{Mount: m, Out: out}).Handle(t.Context(), finalize.In{Job: s.Job.ID, Failure: &finalize.Failure{
		Error: "InvalidInput.Damaged", Cause: `{"errorMessage":"damaged: xref table is broken","errorType":"InvalidInput.Damaged"}`,
	}})
	if err != nil || res.Status != jobspec.Failed || res.Cause != "damaged: xref table is broken" {
		t.Fatalf("%+v %v", res, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatal("published on the failure path")
	}
	st, _ := jobspec.LoadStatus(m, s.Job)
	if st.Status != jobspec.Failed || st.Error != "InvalidInput.Damaged" || !m.Exists(s.Job.Source()) {
		t.Fatalf("status %+v", st)
	}
}

// A finalize cut short after some shards were published resumes: shards
// whose pages are all still there are not put again; a shard missing a page
// is put again; the manifest comes last.
func TestFinalizeResumes(t *testing.T) {
	m, s, f, dir := publishKept(t)
	// As if killed before the manifest: it is gone, one page of shard 2 too.
	jobDir := filepath.Join(dir, s.Job.ID)
	os.Remove(filepath.Join(jobDir, "manifest.json"))
	os.Remove(filepath.Join(jobDir, "pages", "000006.pdf.zst"))
	// What fileblob leaves when its writer is killed mid-page.
	os.WriteFile(filepath.Join(jobDir, "pages", "000006.pdf.zst.18ec0b8a6c8b3192.tmp"), []byte("half"), 0o644)
	os.Remove(filepath.Join(m.Dir(), s.Job.Status()))
	kept, _ := os.Stat(filepath.Join(jobDir, "pages", "000001.pdf.zst"))
	if _, err := f.Handle(t.Context(), finalize.In{Job: s.Job.ID, Sealed: s.Checkpoint.Manifest}); err != nil {
		t.Fatal(err)
	}
	pipetest.Verify(t, dir, s.Job.ID, false)
	if _, err := os.Stat(filepath.Join(jobDir, "pages", "000006.pdf.zst.18ec0b8a6c8b3192.tmp")); err == nil {
		t.Error("a killed writer's temp file is still in the output")
	}
	if now, _ := os.Stat(filepath.Join(jobDir, "pages", "000001.pdf.zst")); !os.SameFile(kept, now) {
		t.Error("a shard whose pages were all published was put again")
	}
}

// TestFinalizeRepublishesAMissingPage: a page deleted or truncated after
// publishing, with the manifest left in place, is put again by the next
// finalize of the job (a replay's execution), byte for byte, and only its
// shard is put.
func TestFinalizeRepublishesAMissingPage(t *testing.T) {
	_, s, f, dir := publishKept(t)
	want := pipetest.Tree(t, dir)
	jobDir := filepath.Join(dir, s.Job.ID)
	kept, _ := os.Stat(filepath.Join(jobDir, "pages", "000001.pdf.zst"))
	for _, damage := range []func(string) error{os.Remove, func(p string) error { return os.Truncate(p, 3) }} {
		if err := damage(filepath.Join(jobDir, "pages", "000004.pdf.zst")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Handle(t.Context(), finalize.In{Job: s.Job.ID, Sealed: s.Checkpoint.Manifest}); err != nil {
			t.Fatal(err)
		}
		pipetest.SameTree(t, want, pipetest.Tree(t, dir))
	}
	if now, _ := os.Stat(filepath.Join(jobDir, "pages", "000001.pdf.zst")); !os.SameFile(kept, now) {
		t.Error("a shard whose pages were all published was put again")
	}
}

// publishKept publishes a 6-page job of three shards, keeping its
// intermediates, and returns the finalize stage that did and its folder.
func publishKept(t *testing.T) (*jobfs.Mount, pipetest.Stages, *finalize.Stage, string) {
	t.Helper()
	m := pipetest.Mount(t)
	s := pipetest.Run(t, m, pdftest.Doc(6, pdftest.DocOptions{}), jobspec.Settings{ShardPages: 2, Keep: true}, "checkpoint")
	out, dir := pipetest.Out(t)
	f := &finalize.Stage{Mount: m, Out: out}
	if _, err := f.Handle(t.Context(), finalize.In{Job: s.Job.ID, Sealed: s.Checkpoint.Manifest}); err != nil {
		t.Fatal(err)
	}
	return m, s, f, dir
}

// TestFinalizeTrustsOnlyItsOwnRecord: an identical manifest found at the
// output vouches for the pages only when this mount's journal records the
// publication. From a new mount (or after gc --all) every page is put
// again, so a page changed in place, size kept, is put right.
func TestFinalizeTrustsOnlyItsOwnRecord(t *testing.T) {
	_, s, f, dir := publishKept(t)
	want := pipetest.Tree(t, dir)
	pipetest.FlipFile(t, filepath.Join(dir, s.Job.ID, "pages", "000002.pdf.zst"))

	m2 := pipetest.Mount(t)
	s2 := pipetest.Run(t, m2, pdftest.Doc(6, pdftest.DocOptions{}), jobspec.Settings{ShardPages: 2, Keep: true}, "checkpoint")
	f2 := &finalize.Stage{Mount: m2, Out: f.Out}
	if _, err := f2.Handle(t.Context(), finalize.In{Job: s2.Job.ID, Sealed: s2.Checkpoint.Manifest}); err != nil {
		t.Fatal(err)
	}
	pipetest.SameTree(t, want, pipetest.Tree(t, dir))
}

// TestFinalizeWithdrawsAnotherPublication: publishing a job again with
// other settings (another sealed manifest) first withdraws the manifest
// found, so a publication that fails midway leaves no manifest naming
// pages it does not describe.
func TestFinalizeWithdrawsAnotherPublication(t *testing.T) {
	_, s, f, dir := publishKept(t)
	jobDir := filepath.Join(dir, s.Job.ID)
	// A page the next publication cannot replace.
	page := filepath.Join(jobDir, "pages", "000005.pdf.zst")
	if err := os.Remove(page); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(page, "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	m2 := pipetest.Mount(t)
	s2 := pipetest.Run(t, m2, pdftest.Doc(6, pdftest.DocOptions{}), jobspec.Settings{ShardPages: 2, Level: zlevel.Fastest}, "checkpoint")
	f2 := &finalize.Stage{Mount: m2, Out: f.Out}
	if _, err := f2.Handle(t.Context(), finalize.In{Job: s2.Job.ID, Sealed: s2.Checkpoint.Manifest}); err == nil {
		t.Fatal("publishing over a directory succeeded")
	}
	if _, err := os.Stat(filepath.Join(jobDir, "manifest.json")); !os.IsNotExist(err) {
		t.Fatalf("the earlier manifest is still published over pages of another publication (%v)", err)
	}
}

// TestFinalizeDamagedDictionaryPutsEveryPage: with the published
// dictionary truncated, a page changed in place (its size kept) cannot be
// found by size; finalize puts every page again with the dictionary.
func TestFinalizeDamagedDictionaryPutsEveryPage(t *testing.T) {
	_, s, f, dir := publishKept(t)
	want := pipetest.Tree(t, dir)
	jobDir := filepath.Join(dir, s.Job.ID)
	if err := os.Truncate(filepath.Join(jobDir, "dictionary.zdict"), 10); err != nil {
		t.Fatal(err)
	}
	pipetest.FlipFile(t, filepath.Join(jobDir, "pages", "000005.pdf.zst"))
	os.WriteFile(filepath.Join(jobDir, "pages", "000002.pdf.zst.0123456789abcdef.tmp"), []byte("half"), 0o644)
	if _, err := f.Handle(t.Context(), finalize.In{Job: s.Job.ID, Sealed: s.Checkpoint.Manifest}); err != nil {
		t.Fatal(err)
	}
	pipetest.SameTree(t, want, pipetest.Tree(t, dir))
}
