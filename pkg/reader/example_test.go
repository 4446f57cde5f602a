package reader_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/reader"
	"github.com/efspipe/efspipe/testdata"
)

// sample publishes the bundled 12-page sample into a temp folder with the
// real pipeline, as `efspipe run --out DIR` does, and returns the folder,
// the job ID and a cleanup.
func sample() (out, job string, cleanup func()) {
	dir, err := os.MkdirTemp("", "reader-example")
	if err != nil {
		log.Fatal(err)
	}
	out = filepath.Join(dir, "out")
	job, err = publishDoc(context.Background(), dir, testdata.Sample, out, nil)
	if err != nil {
		log.Fatal(err)
	}
	return out, job, func() { os.RemoveAll(dir) }
}

func Example() {
	out, job, cleanup := sample()
	defer cleanup()
	ctx := context.Background()

	j, err := reader.Open(ctx, out, job, nil) // or "s3://bucket/prefix"
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close()
	pdf, err := j.Page(ctx, 7) // checked against the manifest's size and SHA-256
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d pages; page 7 is %d bytes, starting %q\n", j.Len(), len(pdf), pdf[:8])
	// Output: 12 pages; page 7 is 80188 bytes, starting "%PDF-1.7"
}

func ExampleJob_Pages() {
	out, job, cleanup := sample()
	defer cleanup()
	ctx := context.Background()

	j, err := reader.Open(ctx, out, job, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close()
	var total int
	for p, err := range j.Pages(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		total += len(p.Data)
	}
	fmt.Println(total, "bytes of PDF in", j.Len(), "pages")
	// Output: 962291 bytes of PDF in 12 pages
}

func ExampleJob_Verify() {
	out, job, cleanup := sample()
	defer cleanup()
	ctx := context.Background()
	os.Remove(filepath.Join(out, job, manifest.PagePath(3)))

	j, err := reader.Open(ctx, out, job, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close()
	problems, err := j.Verify(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range problems {
		fmt.Println(p.Kind, p.Reason)
	}
	_, err = j.Page(ctx, 3)
	fmt.Println(pipeerr.KindOf(err) == pipeerr.Damaged, errors.Is(err, fs.ErrNotExist))
	// Output:
	// InvalidInput.Damaged page 3: pages/000003.pdf.zst: missing
	// true true
}
