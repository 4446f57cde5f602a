package asl

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
)

// NotRedrivableError refuses a Redrive: the history did not end in a
// failure (FAILED, TIMED_OUT or ABORTED), or it is not a history of this
// machine.
type NotRedrivableError struct {
	Reason string
}

func (e *NotRedrivableError) Error() string { return "asl: execution not redrivable: " + e.Reason }

// threadRec is what a history records of one thread of an execution (the
// top level, a Map iteration, a Parallel branch): the last state it
// entered, and what the states before it assigned. A redrive needs no
// more of them, so a loop's thousands of entries, each with its state's
// data, are not held: a 20 KB loop redriven at 20,000 events peaked serve
// at 1.2 GB when every run was kept.
type threadRec struct {
	last     *runRec        // the last run, or nil
	assigned map[string]any // the variables the earlier runs assigned, the later winning
}

// enter makes r the thread's last run, folding the one before it into
// assigned.
func (t *threadRec) enter(r *runRec) {
	if t.last != nil && len(t.last.assigned) > 0 {
		if t.assigned == nil {
			t.assigned = map[string]any{}
		}
		maps.Copy(t.assigned, t.last.assigned)
	}
	t.last = r
}

// clone is a copy of t that enter can change without changing t.
func (t *threadRec) clone() *threadRec {
	return &threadRec{last: t.last, assigned: maps.Clone(t.assigned)}
}

// runRec is one entry into a state.
type runRec struct {
	name     string
	input    string
	exited   bool
	output   string
	assigned map[string]any // the variables the state assigned

	iters     map[int]*iterRec   // Map: the latest record of each iteration
	branches  map[int]*threadRec // Parallel: the latest record of each branch
	inherited bool               // a redrive continues this run: keep iters/branches at the next start
}

type iterRec struct {
	thread    *threadRec
	succeeded bool
	output    string
}

// unfinished returns the last run of t if it was entered and never exited:
// the state a redrive reruns. It is nil for a nil or finished thread.
func (t *threadRec) unfinished() *runRec {
	if t == nil || t.last == nil || t.last.exited {
		return nil
	}
	return t.last
}

// finished reports the output of a thread that ran sc to a terminal state.
func (t *threadRec) finished(sc *scope) (string, bool) {
	if t == nil || t.last == nil {
		return "", false
	}
	last := t.last
	st, ok := sc.states[last.name]
	if !ok || !last.exited || !(st.end || st.typ == "Succeed") {
		return "", false
	}
	return last.output, true
}

// threadInfo places a thread in the tree while the history is replayed.
type threadInfo struct {
	rec    *threadRec
	parent *threadInfo
	iter   *iterRec // for Map iterations
}

// replay rebuilds, from a history, what each thread of the execution
// finished. Events are attributed to threads through previousEventId: a
// MapIterationStarted, or the first event of a Parallel branch, starts a
// thread; a Map or Parallel state's closing event follows the last event
// of one of its children and returns to the parent's thread.
func (m *Machine) replay(history iter.Seq2[Event, error]) (*threadRec, error) {
	top := &threadInfo{rec: &threadRec{}}
	byID := map[int64]*threadInfo{}
	started := map[int64]*runRec{} // MapStateStarted/ParallelStateStarted id -> its run
	for e, err := range history {
		if err != nil {
			return nil, err
		}
		bad := func(format string, a ...any) error {
			return &NotRedrivableError{Reason: fmt.Sprintf("event %d (%s): %s", e.ID, e.Type, fmt.Sprintf(format, a...))}
		}
		var th *threadInfo
		prev := byID[e.PreviousEventID]
		switch {
		case strings.HasPrefix(e.Type, "Execution"):
			th = top
		case prev == nil:
			return nil, bad("previousEventId %d names no earlier event", e.PreviousEventID)
		case e.Type == "MapIterationStarted":
			run := started[e.PreviousEventID]
			d := e.MapIterationStartedEventDetails
			if run == nil || d == nil {
				return nil, bad("does not follow a MapStateStarted")
			}
			nt := &threadRec{}
			if old := run.iters[d.Index]; old != nil && old.thread != nil {
				nt = old.thread.clone()
			}
			it := &iterRec{thread: nt}
			run.iters[d.Index] = it
			th = &threadInfo{rec: nt, parent: prev, iter: it}
		case e.Type == "MapStateSucceeded" || e.Type == "MapStateFailed" || e.Type == "MapStateAborted" ||
			e.Type == "ParallelStateSucceeded" || e.Type == "ParallelStateFailed" || e.Type == "ParallelStateAborted":
			th = prev
			if started[e.PreviousEventID] == nil && prev.parent != nil {
				th = prev.parent
			}
		default:
			th = prev
			if run := started[e.PreviousEventID]; run != nil && run.branches != nil {
				d := e.StateEnteredEventDetails
				if d == nil {
					return nil, bad("a Parallel branch must begin by entering a state")
				}
				b, ok := m.branchOf[d.Name]
				if !ok {
					return nil, bad("state %q is in no Parallel branch of this machine", d.Name)
				}
				nt := &threadRec{}
				if old := run.branches[b]; old != nil {
					nt = old.clone()
				}
				run.branches[b] = nt
				th = &threadInfo{rec: nt, parent: prev}
			}
		}
		byID[e.ID] = th
		last := th.rec.last
		switch {
		case e.StateEnteredEventDetails != nil:
			d := e.StateEnteredEventDetails
			if _, ok := m.states[d.Name]; !ok {
				return nil, bad("state %q is not in this machine", d.Name)
			}
			r := &runRec{name: d.Name, input: d.Input}
			if last != nil && !last.exited && last.name == d.Name {
				// A redrive re-entering the state that did not finish: keep
				// what its iterations and branches had finished.
				r.iters, r.branches, r.inherited = cloneMap(last.iters), cloneMap(last.branches), true
			}
			th.rec.enter(r)
		case e.StateExitedEventDetails != nil:
			if last == nil || last.name != e.StateExitedEventDetails.Name {
				return nil, bad("exits a state that was not entered")
			}
			d := e.StateExitedEventDetails
			last.exited, last.output = true, d.Output
			if len(d.AssignedVariables) > 0 {
				last.assigned = make(map[string]any, len(d.AssignedVariables))
				for k, text := range d.AssignedVariables {
					v, err := decode([]byte(text))
					if err != nil {
						return nil, bad("variable %q: %v", k, err)
					}
					last.assigned[k] = v
				}
			} else if st := m.states[d.Name]; st.assign != nil && len(st.assign.names) > 0 {
				// A history written before variables were recorded.
				return nil, bad("state %q assigns variables but the history does not record them", d.Name)
			}
		case e.Type == "MapStateStarted" || e.Type == "ParallelStateStarted":
			if last == nil || last.exited {
				return nil, bad("outside a state")
			}
			if !last.inherited {
				last.iters, last.branches = nil, nil
			}
			last.inherited = false
			if e.Type == "MapStateStarted" && last.iters == nil {
				last.iters = map[int]*iterRec{}
			}
			if e.Type == "ParallelStateStarted" && last.branches == nil {
				last.branches = map[int]*threadRec{}
			}
			started[e.ID] = last
		case e.Type == "MapIterationSucceeded":
			if th.iter == nil || last == nil || !last.exited {
				return nil, bad("no finished iteration to succeed")
			}
			th.iter.succeeded, th.iter.output = true, last.output
		}
	}
	return top.rec, nil
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// RoomToRedrive reports whether a history whose last event is number
// lastID has room for a redrive: for ExecutionRedriven and one event more.
// AWS redrives a history of fewer than 24,999 events
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html);
// at 24,999, ExecutionRedriven would be the history's last event
// (MaxHistoryEvents), and the states run after it would record nothing.
func RoomToRedrive(lastID int64) bool { return lastID < MaxHistoryEvents-1 }

// Redrive continues a failed, timed-out or aborted execution from its full
// history, as RedriveExecution does: states that finished are not rerun
// (their recorded outputs are reused), the state that did not finish is
// rerun from its recorded input with the variables its thread had assigned
// (recorded in StateExited events' assignedVariables), and inside a Map or Parallel state only the
// iterations and branches that did not succeed are rerun. New events
// continue the history's ids, beginning with ExecutionRedriven. Options
// should name the same execution as the original run.
func (m *Machine) Redrive(ctx context.Context, history []Event, opts Options) (json.RawMessage, error) {
	h := slices.SortedFunc(slices.Values(history), func(a, b Event) int { return cmp.Compare(a.ID, b.ID) })
	return m.RedriveEvents(ctx, func(yield func(Event, error) bool) {
		for _, e := range h {
			if !yield(e, nil) {
				return
			}
		}
	}, opts)
}

// RedriveEvents is Redrive on a history read one event at a time, in the
// order of their ids, and read twice (once to check its end, once to
// replay it): memory holds what a redrive needs of it, the last state of
// each thread, not the history, whose events may hold 256 KiB each up to
// the quota of 25,000. An error the sequence yields ends the redrive with
// it.
func (m *Machine) RedriveEvents(ctx context.Context, history iter.Seq2[Event, error], opts Options) (json.RawMessage, error) {
	var (
		first, last Event
		n           int
		redrives    int
	)
	for e, err := range history {
		if err != nil {
			return nil, err
		}
		if n == 0 {
			first = e
		} else if e.ID <= last.ID {
			return nil, &NotRedrivableError{Reason: fmt.Sprintf("event %d follows event %d: the history is not in the order of its ids", e.ID, last.ID)}
		}
		if e.Type == "ExecutionRedriven" {
			redrives++
		}
		last = e
		n++
	}
	if n == 0 {
		return nil, &NotRedrivableError{Reason: "the history is empty"}
	}
	if first.Type != "ExecutionStarted" || first.ExecutionStartedEventDetails == nil {
		return nil, &NotRedrivableError{Reason: "the history does not begin with ExecutionStarted"}
	}
	switch last.Type {
	case "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted":
	case "ExecutionSucceeded":
		return nil, &NotRedrivableError{Reason: "Execution is SUCCEEDED and cannot be redriven."}
	default:
		return nil, &NotRedrivableError{Reason: "Execution is RUNNING and cannot be redriven."}
	}
	if !RoomToRedrive(last.ID) {
		return nil, &NotRedrivableError{Reason: fmt.Sprintf("The execution's history has %d events; a redrive needs fewer than %d.", last.ID, MaxHistoryEvents-1)}
	}
	rec, err := m.replay(history)
	if err != nil {
		return nil, err
	}
	x, err := m.newExec(opts)
	if err != nil {
		return nil, err
	}
	in, err := decode([]byte(first.ExecutionStartedEventDetails.Input))
	if err != nil {
		return nil, &NotRedrivableError{Reason: "the execution input is not JSON: " + err.Error()}
	}
	x.input, x.inputText, x.startTime = in, first.ExecutionStartedEventDetails.Input, first.Timestamp
	if x.role == "" {
		x.role = first.ExecutionStartedEventDetails.RoleArn
	}
	x.redriveCount = 1 + redrives
	x.nextID = last.ID + 1
	top := &chain{last: last.ID}
	x.emit(top, Event{Type: "ExecutionRedriven", ExecutionRedrivenEventDetails: &ExecutionRedrivenEventDetails{RedriveCount: x.redriveCount}})
	return x.run(ctx, top, in, rec)
}
