package checkpoint

import (
	"context"
	"log/slog"
	"runtime"

	"golang.org/x/sync/errgroup"

	ckpt "github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// In names the job and its plan.
type In struct {
	Job      string `json:"job"`
	Manifest string `json:"manifest"`
}

// JobID names the job in the stage's log lines (stage.Identified).
func (v In) JobID() string { return v.Job }

// Out is the sealed manifest's path and totals.
type Out struct {
	Manifest string `json:"manifest"`
	Pages    int    `json:"pages"`
	Bytes    int64  `json:"bytes"`
}

// Stage is the checkpoint stage.
type Stage struct {
	Mount *jobfs.Mount
	Log   *slog.Logger
}

// Handle verifies every compressed shard and seals the manifest, unless a
// verified seal exists.
func (s *Stage) Handle(ctx context.Context, in In) (Out, error) {
	job, err := jobfs.NewJob(in.Job)
	if err != nil {
		return Out{}, err
	}
	plan, err := manifest.LoadPlan(s.Mount, job, in.Manifest)
	if err != nil {
		return Out{}, err
	}
	journal := ckpt.Open(s.Mount, job)
	if rec, ok, _, err := journal.Verify(ckpt.Sealed); err != nil {
		return Out{}, err
	} else if ok {
		m, err := manifest.LoadSealed(s.Mount, job, rec.Path)
		return Out{Manifest: rec.Path, Pages: len(m.Pages), Bytes: m.Bytes}, err
	}
	spec, err := jobspec.Load(s.Mount, job)
	if err != nil {
		return Out{}, err
	}
	dictRec, ok, reason, err := journal.Verify(ckpt.Dictionary)
	if err != nil {
		return Out{}, err
	}
	if !ok {
		return Out{}, pipeerr.New(pipeerr.Internal, "the dictionary does not verify (%s)", reason)
	}
	pages := make([]manifest.Page, plan.Pages)
	g, gctx := errgroup.WithContext(ctx)
	// Verifying is reading and hashing compressed bytes (about the
	// source's size): on EFS mostly waiting, so more shards than cores.
	g.SetLimit(4 * runtime.GOMAXPROCS(0))
	for i := range plan.Shards {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return pipeerr.Wrap(pipeerr.Timeout, err, "verify shard %d", i)
			}
			return verifyShard(journal, plan, i, pages)
		})
	}
	if err := g.Wait(); err != nil {
		return Out{}, err
	}

	m := manifest.Published{
		Schema: manifest.Schema,
		Job:    job.ID,
		Source: manifest.Source{
			Name: spec.Source.Name, Bytes: spec.Source.Bytes, SHA256: spec.Source.SHA256, Pages: plan.Pages,
			Encrypted: plan.Encrypted, Repairs: plan.Repairs,
		},
		Codec: "zstd",
		Level: string(plan.Level),
		Pages: pages,
	}
	if dictRec.Bytes > 0 {
		m.Dictionary, m.DictionaryBytes, m.DictionarySHA256 = manifest.DictionaryFile, dictRec.Bytes, dictRec.SHA256
	}
	m.Bytes = m.DictionaryBytes
	for _, p := range pages {
		m.Bytes += p.Bytes
	}
	b, err := manifest.Encode(m)
	if err != nil {
		return Out{}, err
	}
	rec, err := journal.WriteFile(ckpt.Sealed, job.Sealed(), b, nil)
	if err != nil {
		return Out{}, err
	}
	return Out{Manifest: rec.Path, Pages: len(pages), Bytes: m.Bytes}, nil
}

// verifyShard checks shard i's compressed file against its record and the
// record against the plan. Every frame was restored and compared with its
// page by compress before the record was written, so a file that still
// matches its record restores to the pages whose checksums it lists.
func verifyShard(journal *ckpt.Journal, plan manifest.Plan, i int, pages []manifest.Page) error {
	unit := ckpt.Unit(ckpt.Compress, i)
	rec, ok, reason, err := journal.Verify(unit)
	if err != nil {
		return err
	}
	if rec.Unit == "" {
		return pipeerr.New(pipeerr.Internal, "shard %d was never compressed", i)
	}
	if !ok {
		return pipeerr.New(pipeerr.Internal, "compressed shard %d does not match its record (%s); replay the job to redo it", i, reason)
	}
	first, last := plan.ShardRange(i)
	if len(rec.Items) != last-first+1 {
		return pipeerr.New(pipeerr.Internal, "compressed shard %d has %d pages, the plan says %d", i, len(rec.Items), last-first+1)
	}
	for k, it := range rec.Items {
		if it.Page != first+k || it.Offset < 0 || it.Len < 0 || it.Offset+it.Len > rec.Bytes || len(it.PDFSHA256) != 64 {
			return pipeerr.New(pipeerr.Internal, "compressed shard %d: bad entry for page %d", i, it.Page)
		}
		pages[it.Page-1] = manifest.Page{
			Number: it.Page, Path: manifest.PagePath(it.Page), Bytes: it.Len, SHA256: it.PDFSHA256, PDFBytes: it.PDFBytes,
		}
	}
	return nil
}
