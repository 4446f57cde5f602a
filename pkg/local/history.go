package local

import (
	"context"
	"encoding/json"
	"path"
	"strings"
	"sync"

	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/pkg/jobfs"
)

// historyFile keeps the event history of a job's last local execution, so
// `efspipe replay` can redrive it like Step Functions does: rerun the failed
// state, reusing the Map iterations that succeeded.
func historyFile(job jobfs.Job) string { return path.Join(job.Dir(), "execution.json") }

// RunJob runs the pipeline for job, recording the execution's history on
// the mount. With redrive, a recorded failed execution is redriven from its
// failed state; anything else (no history: a killed run; a succeeded or
// permanently failed one) starts a new execution, which resumes from the
// checkpoint journal. Either way verified work is never redone.
func (p *Pipeline) RunJob(ctx context.Context, job jobfs.Job, in Input, redrive bool, onEvent func(asl.Event)) (Result, bool, error) {
	var (
		mu     sync.Mutex
		events []asl.Event
	)
	if redrive {
		events = p.redrivable(job)
	}
	record := func(ev asl.Event) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
		if onEvent != nil {
			onEvent(ev)
		}
	}
	opts := asl.Options{Invoke: p.functions.Invoke, OnEvent: record, Sleep: p.cfg.Sleep, ExecutionName: job.ID}
	var (
		out      json.RawMessage
		err      error
		redriven = len(events) > 0
	)
	if redriven {
		out, err = p.machine.Redrive(ctx, append([]asl.Event(nil), events...), opts)
	} else {
		input, merr := json.Marshal(in)
		if merr != nil {
			return Result{}, false, merr
		}
		out, err = p.machine.Execute(ctx, input, opts)
	}
	if ctx.Err() == nil {
		mu.Lock()
		b, merr := json.Marshal(events)
		mu.Unlock()
		if merr == nil {
			// Best effort: a history that cannot be written only means the
			// next replay resumes from the checkpoint instead.
			_ = p.cfg.Mount.WriteFile(historyFile(job), b)
		}
	}
	res, err := result(out, err)
	return res, redriven, err
}

// redrivable returns the recorded history of job if its execution failed
// for a reason a rerun can fix: not on its input (InvalidInput.* is
// permanent), and only if the history is intact.
func (p *Pipeline) redrivable(job jobfs.Job) []asl.Event {
	b, err := p.cfg.Mount.ReadFile(historyFile(job))
	if err != nil {
		// Missing or unreadable: resume from the checkpoint instead.
		return nil
	}
	var events []asl.Event
	if json.Unmarshal(b, &events) != nil || len(events) == 0 {
		return nil
	}
	last := events[len(events)-1]
	if last.Type != "ExecutionFailed" {
		return nil
	}
	if d := last.ExecutionFailedEventDetails; d != nil && strings.HasPrefix(d.Error, "InvalidInput.") {
		return nil
	}
	return events
}
