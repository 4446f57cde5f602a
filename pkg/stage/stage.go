package stage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Handler wraps a stage's Handle method for lambda.StartHandlerFunc or
// lambda.NewHandler: it logs the call with its duration, recovers panics,
// and converts errors into the value Lambda reports by ASL name.
func Handler[In, Out any](name string, log *slog.Logger, fn func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("stage", name)
	return func(ctx context.Context, in In) (out Out, err error) {
		start := time.Now()
		log := withJob(log, in)
		defer func() {
			if jobOf(in) == "" {
				// Ingest learns the job ID from the content it copies.
				log = withJob(log, out)
			}
			if p := recover(); p != nil {
				log.Error("panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				err = pipeerr.New(pipeerr.Internal, "%s: internal error (recovered panic: %v)", name, p)
			}
			if err != nil {
				kind := pipeerr.KindOf(err)
				// A panic recovered deeper down (the PDF parser) keeps its
				// stack out of the one-line cause users see.
				var p interface{ PanicStack() []byte }
				if errors.As(err, &p) {
					log.Debug("recovered panic", "stack", string(p.PanicStack()))
				}
				log.Warn("failed", "error", kind, "cause", err.Error(), "ms", time.Since(start).Milliseconds())
				err = pipeerr.ForLambda(err)
				return
			}
			log.Info("done", "ms", time.Since(start).Milliseconds())
		}()
		if dl, ok := ctx.Deadline(); ok {
			log.Debug("start", "remaining_ms", time.Until(dl).Milliseconds())
		}
		return fn(ctx, in)
	}
}

// Identified is a stage input or output that names its job: every log line
// of a call carries it as "job", so one job's lines can be picked out of a
// stream where executions interleave.
type Identified interface {
	JobID() string
}

func jobOf(v any) string {
	if j, ok := v.(Identified); ok {
		return j.JobID()
	}
	return ""
}

func withJob(log *slog.Logger, v any) *slog.Logger {
	if id := jobOf(v); id != "" {
		return log.With("job", id)
	}
	return log
}

// Progress receives counts of finished work for people watching a run
// (the CLI's progress bars). Nil is allowed everywhere and means nobody
// watches.
type Progress interface {
	// Total announces how many units of kind ("pages split", "pages
	// compressed") the job has.
	Total(kind string, n int)
	// Add reports n more units of kind done.
	Add(kind string, n int)
}

// Progress kinds.
const (
	PagesSplit      = "split"
	PagesCompressed = "compressed"
)

// Total calls p.Total if p is not nil.
func Total(p Progress, kind string, n int) {
	if p != nil {
		p.Total(kind, n)
	}
}

// Add calls p.Add if p is not nil.
func Add(p Progress, kind string, n int) {
	if p != nil {
		p.Add(kind, n)
	}
}

// CheckTime returns a retryable Timeout error when ctx has less than need
// left: a stage stops between units of work, with everything finished so far
// checkpointed, instead of being killed mid-write by Lambda's timeout.
func CheckTime(ctx context.Context, need time.Duration) error {
	if err := ctx.Err(); err != nil {
		return pipeerr.Wrap(pipeerr.Timeout, err, "stopped before finishing; finished work is checkpointed")
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < need {
		return pipeerr.New(pipeerr.Timeout, "less than %s left before the deadline; finished work is checkpointed", need)
	}
	return nil
}
