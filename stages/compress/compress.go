package compress

import (
	"context"
	"log/slog"
	"sync"

	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/stage"
	"github.com/efspipe/efspipe/pkg/zpage"
)

// In is one Map iteration: the job, its plan and a shard index.
type In struct {
	Job      string `json:"job"`
	Manifest string `json:"manifest"`
	Shard    int    `json:"shard"`
}

// Out is small counters only.
type Out struct {
	Shard int   `json:"shard"`
	Pages int   `json:"pages"`
	Bytes int64 `json:"bytes"`
}

// Stage is the compress stage. It keeps the last job's encoder: a warm
// Lambda, or the local engine's Map, runs many shards of one job in a row,
// and building an encoder indexes the whole dictionary.
type Stage struct {
	Mount    *jobfs.Mount
	Progress stage.Progress
	Log      *slog.Logger

	mu  sync.Mutex
	cur *cachedEncoder
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
	enc, release, err := s.encoder(journal, plan)
	if err != nil {
		return out, err
	}
	defer release()

	var frames []byte
	items := make([]checkpoint.Item, 0, len(split.Items))
	for _, it := range split.Items {
		page := data[it.Offset : it.Offset+it.Len]
		off := len(frames)
		frames = enc.Encode(frames, page)
		items = append(items, checkpoint.Item{
			Page: it.Page, Offset: int64(off), Len: int64(len(frames) - off),
			PDFBytes: it.PDFBytes, PDFSHA256: it.PDFSHA256,
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

// encoder returns the encoder of the plan's dictionary, building it when the
// job changed. A new dictionary is read once and checked against its record
// (a damaged dictionary would make every page unrestorable); the encoder of
// the same record is reused without reading the file again, since it holds
// the verified bytes already.
func (s *Stage) encoder(journal *checkpoint.Journal, plan manifest.Plan) (*zpage.Encoder, func(), error) {
	rec, ok, err := journal.Get(checkpoint.Dictionary)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, pipeerr.New(pipeerr.Internal, "the dictionary has no record; replay the job to redo it")
	}
	key := rec.SHA256 + "/" + string(plan.Level)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || s.cur.key != key {
		dict, ok, reason := journal.Read(rec)
		if !ok {
			return nil, nil, pipeerr.New(pipeerr.Internal, "the dictionary does not verify (%s); replay the job to redo it", reason)
		}
		enc, err := zpage.NewEncoder(dict, plan.Level)
		if err != nil {
			return nil, nil, err
		}
		if s.cur != nil {
			s.cur.stale = true
			s.cur.closeIfUnused()
		}
		s.cur = &cachedEncoder{key: key, enc: enc}
	}
	c := s.cur
	c.users++
	return c.enc, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		c.users--
		c.closeIfUnused()
	}, nil
}

// cachedEncoder is an encoder with its users counted, so one replaced by a
// new job's is closed only when its last shard is done.
type cachedEncoder struct {
	key   string
	enc   *zpage.Encoder
	users int
	stale bool
}

func (c *cachedEncoder) closeIfUnused() {
	if c.stale && c.users == 0 {
		c.enc.Close()
	}
}
