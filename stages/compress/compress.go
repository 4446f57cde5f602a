package compress

import (
	"bytes"
	"context"
	"log/slog"
	"sync"

	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pdfcheck"
	"github.com/efspipe/efspipe/pkg/pdfsplit"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/stage"
	"github.com/efspipe/efspipe/pkg/zlevel"
	"github.com/efspipe/efspipe/pkg/zpage"
)

// In is one Map iteration: the job, its plan and a shard index.
type In struct {
	Job      string `json:"job"`
	Manifest string `json:"manifest"`
	Shard    int    `json:"shard"`
}

// JobID names the job in the stage's log lines (stage.Identified).
func (v In) JobID() string { return v.Job }

// Out is small counters only.
type Out struct {
	Shard int   `json:"shard"`
	Pages int   `json:"pages"`
	Bytes int64 `json:"bytes"`
}

// Stage is the compress stage. It keeps the last job's tools: a warm
// Lambda, or the local engine's Map, runs many shards of one job in a row,
// and building an encoder indexes the whole dictionary.
type Stage struct {
	Mount    *jobfs.Mount
	Progress stage.Progress
	Log      *slog.Logger

	mu  sync.Mutex
	cur *cachedTools
}

// Handle compresses one shard, unless its record verifies.
func (s *Stage) Handle(ctx context.Context, in In) (Out, error) {
	job, err := jobfs.NewJob(in.Job)
	if err != nil {
		return Out{}, err
	}
	plan, err := manifest.LoadPlan(s.Mount, job, in.Manifest)
	if err != nil {
		return Out{}, err
	}
	if err := plan.CheckShard(in.Shard); err != nil {
		return Out{}, err
	}
	journal := checkpoint.Open(s.Mount, job)
	out := Out{Shard: in.Shard}
	if rec, ok, _, err := journal.Verify(checkpoint.Unit(checkpoint.Compress, in.Shard)); err != nil {
		return out, err
	} else if ok {
		out.Pages, out.Bytes = len(rec.Items), rec.Bytes
		stage.Add(s.Progress, stage.PagesCompressed, len(rec.Items))
		return out, nil
	}
	if err := stage.CheckTime(ctx, 0); err != nil {
		return out, err
	}
	split, data, ok, reason, err := journal.ReadVerified(checkpoint.Unit(checkpoint.Split, in.Shard))
	if err != nil {
		return out, err
	}
	if !ok {
		return out, pipeerr.New(pipeerr.Internal, "split shard %d does not verify (%s); replay the job to redo it", in.Shard, reason)
	}
	tools, release, err := s.tools(journal, plan)
	if err != nil {
		return out, err
	}
	defer release()

	var frames, page, check []byte
	items := make([]checkpoint.Item, 0, len(split.Items))
	for _, it := range split.Items {
		// Between pages too, not only between shards: a shard of 256
		// pages, each checked and restored, kept a Ctrl-C waiting 5 s.
		// The shard is the unit recorded, so nothing of it is kept.
		if err := stage.CheckTime(ctx, 0); err != nil {
			return out, err
		}
		if page, err = tools.objects.Assemble(page[:0], data[it.Offset:it.Offset+it.Len]); err != nil {
			return out, err
		}
		if int64(len(page)) != it.PDFBytes {
			return out, pipeerr.New(pipeerr.Internal, "page %d assembles to %d bytes, split made %d", it.Page, len(page), it.PDFBytes)
		}
		// The page is read back as a reader would before it is recorded:
		// whatever the splitter got wrong, on whatever input, ends here
		// and is never published. The writer is ours and refuses the
		// inputs it cannot write, so a page that fails is a bug, not the
		// document's fault: Internal, which the state machine does not
		// retry. The Flate probe (data that does not inflate) is for
		// encrypted sources, where it catches a stream left encrypted: an
		// unencrypted source's stream data is copied byte for byte, and
		// a stream damaged there (qpdf's damaged-inline-image, issue-117
		// test files) is the source's own, which qpdf copies too.
		if err := pdfcheck.Page(page, pdfcheck.Options{NoProbe: !plan.Encrypted}); err != nil {
			return out, pipeerr.Wrap(pipeerr.Internal, err, "page %d of shard %d is not a valid PDF as written, so nothing of this job is published", it.Page, in.Shard)
		}
		off := len(frames)
		if frames, err = tools.enc.Encode(frames, page); err != nil {
			return out, err
		}
		// Each frame is restored and compared before it is recorded: the
		// page exists whole only here, so this is where a frame that does
		// not restore to it can be caught, at the cost of one decode.
		if check, err = tools.dec.DecodeTo(check[:0], frames[off:]); err != nil || !bytes.Equal(check, page) {
			return out, pipeerr.New(pipeerr.Internal, "page %d does not restore from its frame", it.Page)
		}
		items = append(items, checkpoint.Item{
			Page: it.Page, Offset: int64(off), Len: int64(len(frames) - off),
			PDFBytes: it.PDFBytes, PDFSHA256: checkpoint.Sum(page),
		})
		stage.Add(s.Progress, stage.PagesCompressed, 1)
	}
	rec, err := journal.WriteFile(checkpoint.Unit(checkpoint.Compress, in.Shard), job.CompressedShard(in.Shard), frames, items)
	if err != nil {
		return out, err
	}
	out.Pages, out.Bytes = len(items), rec.Bytes
	return out, nil
}

// jobTools are what compressing a job's shards needs: its shared-object
// table, and an encoder and decoder of its dictionary.
type jobTools struct {
	objects *pdfsplit.Objects
	enc     *zpage.Encoder
	dec     *zpage.Decoder
}

// tools returns the job's tools, building them when the job changed. The
// table and the dictionary are read once and checked against their records
// (a damaged dictionary would make every page unrestorable); the tools of
// the same records are reused without reading the files again, since they
// hold the verified bytes already.
func (s *Stage) tools(journal *checkpoint.Journal, plan manifest.Plan) (*jobTools, func(), error) {
	var recs [2]checkpoint.Record
	for i, u := range []string{checkpoint.Dictionary, checkpoint.Objects} {
		rec, ok, err := journal.Get(u)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, pipeerr.New(pipeerr.Internal, "the %s has no record; replay the job to redo it", u)
		}
		recs[i] = rec
	}
	key := recs[0].SHA256 + "/" + recs[1].SHA256 + "/" + string(plan.Level)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || s.cur.key != key {
		t, err := s.build(journal, recs, plan.Level)
		if err != nil {
			return nil, nil, err
		}
		if s.cur != nil {
			s.cur.stale = true
			s.cur.closeIfUnused()
		}
		s.cur = &cachedTools{key: key, tools: t}
	}
	c := s.cur
	c.users++
	return &c.tools, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		c.users--
		c.closeIfUnused()
	}, nil
}

func (s *Stage) build(journal *checkpoint.Journal, recs [2]checkpoint.Record, level zlevel.Level) (jobTools, error) {
	var files [2][]byte
	for i, rec := range recs {
		b, ok, reason := journal.Read(rec)
		if !ok {
			return jobTools{}, pipeerr.New(pipeerr.Internal, "the %s does not verify (%s); replay the job to redo it", rec.Unit, reason)
		}
		files[i] = b
	}
	objects, err := pdfsplit.DecodeObjects(files[1])
	if err != nil {
		return jobTools{}, err
	}
	enc, err := zpage.NewEncoder(files[0], level)
	if err != nil {
		return jobTools{}, err
	}
	// The decoder checks frames made here, of pages already in memory:
	// its bound is not a defence against hostile frames.
	dec, err := zpage.NewDecoder(files[0], 1<<40)
	if err != nil {
		enc.Close()
		return jobTools{}, err
	}
	return jobTools{objects: objects, enc: enc, dec: dec}, nil
}

// cachedTools are a job's tools with their users counted, so those replaced
// by a new job's are closed only when their last shard is done.
type cachedTools struct {
	key   string
	tools jobTools
	users int
	stale bool
}

func (c *cachedTools) closeIfUnused() {
	if c.stale && c.users == 0 {
		c.tools.enc.Close()
		c.tools.dec.Close()
	}
}
