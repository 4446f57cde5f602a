package split

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pdfsplit"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/secret"
	"github.com/efspipe/efspipe/pkg/stage"
)

// In names the job and its source on the mount.
type In struct {
	Job    string `json:"job"`
	Source string `json:"source"`
	// PasswordRef is where the password of a PDF that needs one is; the
	// stage resolves it (Stage.Secrets) and keeps the password in memory
	// only.
	PasswordRef secret.Ref `json:"passwordRef"`
}

// JobID names the job in the stage's log lines (stage.Identified).
func (v In) JobID() string { return v.Job }

// Out is the plan's path and small counters: never page lists, so the state
// stays a few hundred bytes whatever the page count.
type Out struct {
	Manifest  string `json:"manifest"`
	Pages     int    `json:"pages"`
	Shards    int    `json:"shards"`
	LastShard int    `json:"lastShard"`
}

// Stage is the split stage.
type Stage struct {
	Mount *jobfs.Mount
	// Workers is how many shards are split at once, each worker with its own
	// parse of the document (pdfcpu's parsed document is not safe for
	// concurrent use). Default: one less than GOMAXPROCS, at least 1, at
	// most 4. Measured on 2 cores: a second worker saves 15% on the Octave
	// manual but costs a second parse (+70 MB there, +175 MB on the 2,415-
	// page R manual, where it saves nothing once compress competes for the
	// cores).
	Workers  int
	Progress stage.Progress
	Log      *slog.Logger
	// Secrets resolves PasswordRef. Nil refuses every reference.
	Secrets *secret.Resolver
}

// ShardTime is the time a shard is assumed to need at most: a stage with less
// left stops between shards with a retryable Timeout.
const ShardTime = 20 * time.Second

// Handle splits the source, skipping every shard already done.
func (s *Stage) Handle(ctx context.Context, in In) (Out, error) {
	job, err := jobfs.NewJob(in.Job)
	if err != nil {
		return Out{}, err
	}
	if err := job.Owns(in.Source); err != nil {
		return Out{}, err
	}
	spec, err := jobspec.Load(s.Mount, job)
	if err != nil {
		return Out{}, err
	}
	journal := checkpoint.Open(s.Mount, job)
	// Verifying the source reads it whole; the bytes read are the ones the
	// workers parse, so the source is fetched from the mount once.
	_, src, ok, reason, err := journal.ReadVerified(checkpoint.Ingest)
	if err != nil {
		return Out{}, err
	} else if !ok || in.Source != job.Source() {
		return Out{}, pipeerr.New(pipeerr.Internal, "the source on the mount does not match its ingest record (%s); replay from ingest", reason)
	}
	res := s.Secrets
	if res == nil {
		res = &secret.Resolver{}
	}
	password, err := res.Password(ctx, in.PasswordRef)
	if err != nil {
		return Out{}, err
	}
	writes := &errgroup.Group{}
	writes.SetLimit(8)
	r := &run{
		Stage: s, job: job, journal: journal, spec: spec, writes: writes,
		src:  src,
		opts: pdfsplit.Options{Password: password, Limits: pdfsplit.Limits{MaxBytes: spec.Settings.MaxBytes, MaxPages: spec.Settings.MaxPages}},
	}
	out, err := r.split(ctx)
	// Whatever happened, no write is left running when the stage returns.
	if werr := writes.Wait(); err == nil {
		err = werr
	}
	return out, err
}

// split makes or loads the plan and splits every shard not done yet.
func (r *run) split(ctx context.Context) (Out, error) {
	doc, err := r.makePlan(ctx)
	if err != nil {
		return Out{}, err
	}
	plan := r.plan
	out := Out{Manifest: r.job.SplitManifest(), Pages: plan.Pages, Shards: plan.Shards, LastShard: plan.Shards - 1}
	stage.Total(r.Progress, stage.PagesSplit, plan.Pages)
	stage.Total(r.Progress, stage.PagesCompressed, plan.Pages)

	// One listing says which units have records at all, so only those
	// are verified: on EFS a lookup of a missing record is a round trip.
	recorded, err := r.journal.Units()
	if err != nil {
		return out, err
	}
	if doc != nil {
		// A table made now may not be the one existing split shards refer
		// to (a job begun by an older efspipe, or whose table was lost):
		// only compressed output, which needs no table, is trusted then.
		for u := range recorded {
			if strings.HasPrefix(u, checkpoint.Split+"-") {
				delete(recorded, u)
			}
		}
	}
	var todo []int
	for i := range plan.Shards {
		ok, err := r.shardDone(recorded, i)
		if err != nil {
			return out, err
		}
		if ok {
			first, last := plan.ShardRange(i)
			stage.Add(r.Progress, stage.PagesSplit, last-first+1)
			continue
		}
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return out, nil
	}
	return out, r.splitShards(ctx, todo, doc)
}

// run is one call of Handle: the job, its journal and plan, and the source
// read once and shared by every worker.
type run struct {
	*Stage
	job     jobfs.Job
	journal *checkpoint.Journal
	spec    jobspec.Spec
	plan    manifest.Plan
	src     []byte
	opts    pdfsplit.Options
	// objects is the shared-object table every worker's parse uses.
	objects *pdfsplit.Objects
	// writes holds the durable writes of finished shards, so the next
	// shard is split while the last one's round trips (create, write,
	// fsync, rename, record) are paid: on EFS that is ~10 waits per shard.
	writes *errgroup.Group
}

// shardDone reports whether shard i needs no splitting: its split record
// verifies, or its compressed output already does (then the split shard is
// not needed any more, and neither hashing nor parsing to redo it is).
func (r *run) shardDone(recorded map[string]bool, i int) (bool, error) {
	for _, kind := range []string{checkpoint.Compress, checkpoint.Split} {
		unit := checkpoint.Unit(kind, i)
		if !recorded[unit] {
			continue
		}
		if _, ok, _, err := r.journal.Verify(unit); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// makePlan loads the verified plan and shared-object table, or makes them
// (and the dictionary) from a parse of the document, which it then returns
// so the first worker need not parse again.
func (r *run) makePlan(ctx context.Context) (*pdfsplit.Document, error) {
	done := true
	for _, u := range []string{checkpoint.Plan, checkpoint.Dictionary} {
		_, ok, _, err := r.journal.Verify(u)
		if err != nil {
			return nil, err
		}
		done = done && ok
	}
	if done {
		_, b, ok, _, err := r.journal.ReadVerified(checkpoint.Objects)
		if err != nil {
			return nil, err
		}
		if ok {
			// A table an older efspipe wrote decodes to an error: the plan
			// is then made anew, as for a job that has none.
			if r.objects, err = pdfsplit.DecodeObjects(b); err == nil {
				r.plan, err = manifest.LoadPlan(r.Mount, r.job, r.job.SplitManifest())
				return nil, err
			}
			r.objects = nil
		}
	}
	doc, err := r.open(r.src)
	if err != nil {
		return nil, err
	}
	if r.objects, err = doc.ObjectsContext(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, stage.CheckTime(ctx, 0)
		}
		return nil, err
	}
	settings := r.spec.Settings
	level := settings.Level.Resolve(r.objects.Size())
	dictBytes := settings.DictionaryBytes
	if dictBytes == 0 {
		dictBytes = level.Reach()
	}
	r.plan = manifest.NewPlan(r.job, doc.Pages(), settings.ShardPages, jobspec.MaxShards, level)
	r.plan.Dictionary = r.job.Dictionary()
	r.plan.Encrypted, r.plan.Repairs = doc.Encrypted(), doc.Repairs()
	plan, err := manifest.Encode(r.plan)
	if err != nil {
		return nil, err
	}
	// Written in the background with the shards: nothing else on the
	// mount waits for them (a replay that finds shards but no plan remakes
	// the same plan), and Handle returns only once all are durable.
	for _, f := range []struct {
		unit, rel string
		data      []byte
	}{
		{checkpoint.Objects, r.job.Objects(), r.objects.Encode()},
		{checkpoint.Dictionary, r.job.Dictionary(), r.objects.Dictionary(dictBytes)},
		{checkpoint.Plan, r.job.SplitManifest(), plan},
	} {
		r.writes.Go(func() error {
			_, err := r.journal.WriteFile(f.unit, f.rel, f.data, nil)
			return err
		})
	}
	return doc, nil
}

// open parses the source from the bytes Handle read and verified: one large
// read, shared read-only by every worker's parse, where a parser's small
// seeks and reads would each be a network round trip on EFS (the bytes are
// a few percent of what a parse holds). Once the table exists, a new parse
// adopts it instead of walking every page again.
func (r *run) open(src []byte) (*pdfsplit.Document, error) {
	doc, err := pdfsplit.Open(bytes.NewReader(src), int64(len(src)), r.opts)
	if err == nil && r.objects != nil {
		doc.UseObjects(r.objects)
	}
	return doc, err
}

// splitShards runs workers over the shards to do. Each worker parses the
// document once (the first reuses doc when the plan step parsed it) and
// splits whole shards; a shard's file and record are written together in
// the background (see checkpoint.Journal.WriteFile), and at most eight
// finished shards wait to be written, so a kill loses at most
// those and the one each worker is splitting.
func (r *run) splitShards(ctx context.Context, todo []int, doc *pdfsplit.Document) error {
	workers := r.Workers
	if workers <= 0 {
		workers = max(1, min(runtime.GOMAXPROCS(0)-1, 4))
	}
	workers = min(workers, len(todo))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	shards := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	// Each worker that still has to parse holds the source until it has:
	// then nothing does, and its memory (the source's size, beside a parse
	// of four to six times that) goes before the shards are split.
	src := r.src
	r.src = nil
	for w := range workers {
		mine, own := doc, []byte(nil)
		if w > 0 || doc == nil {
			mine, own = nil, src
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- r.worker(ctx, shards, mine, own)
		}()
	}
	src = nil
	var first error
feed:
	for _, i := range todo {
		select {
		case shards <- i:
		case err := <-errs:
			first = err
			break feed
		}
	}
	close(shards)
	wg.Wait()
	close(errs)
	for err := range errs {
		if first == nil {
			first = err
		}
	}
	return first
}

// worker splits shards with doc, or with its own parse of src.
func (r *run) worker(ctx context.Context, shards <-chan int, doc *pdfsplit.Document, src []byte) (err error) {
	defer func() {
		// pdfcpu is known to panic on some real files; the stage boundary
		// only sees the worker's goroutine through this recover.
		if p := recover(); p != nil {
			err = &pipeerr.Error{Kind: pipeerr.Damaged, Msg: "damaged: the PDF could not be split",
				Err: &pdfsplit.PanicError{Value: p, Stack: debug.Stack()}}
		}
	}()
	for i := range shards {
		if err := stage.CheckTime(ctx, ShardTime); err != nil {
			return err
		}
		if doc == nil {
			if doc, err = r.open(src); err != nil {
				return err
			}
			src = nil
		}
		if err := r.shard(doc, i); err != nil {
			return err
		}
	}
	return nil
}

// shard writes shard i as one file of page recipes, located by the
// record's items: one durable write per shard instead of one per page, which
// on EFS is the difference between paying write latency 64 times and once.
// Recipes leave out the shared objects (94-96% of the pages' bytes in
// real manuals), so a shard file is 4-6% of its pages' size.
func (r *run) shard(doc *pdfsplit.Document, i int) error {
	first, last := r.plan.ShardRange(i)
	var data []byte
	items := make([]checkpoint.Item, 0, last-first+1)
	for n := first; n <= last; n++ {
		off := len(data)
		var size int
		var err error
		if data, size, err = doc.AppendRecipe(data, n); err != nil {
			return err
		}
		items = append(items, checkpoint.Item{
			Page: n, Offset: int64(off), Len: int64(len(data) - off), PDFBytes: int64(size),
		})
		stage.Add(r.Progress, stage.PagesSplit, 1)
	}
	// Written with its record in the background; at most eight files
	// wait to be written (a shard of recipes is a megabyte or two), so
	// memory stays bounded.
	r.writes.Go(func() error {
		_, err := r.journal.WriteFile(checkpoint.Unit(checkpoint.Split, i), r.job.SplitShard(i), data, items)
		return err
	})
	return nil
}
