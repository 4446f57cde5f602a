package asl

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
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
// top level, a Map iteration, a Parallel branch): the states it entered,
// in order.
type threadRec struct {
	runs []*runRec
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
	if t == nil || len(t.runs) == 0 {
		return nil
	}
	if last := t.runs[len(t.runs)-1]; !last.exited {
		return last
	}
	return nil
}

// finished reports the output of a thread that ran sc to a terminal state.
func (t *threadRec) finished(sc *scope) (string, bool) {
	if t == nil || len(t.runs) == 0 {
		return "", false
	}
	last := t.runs[len(t.runs)-1]
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
func (m *Machine) replay(history []Event) (*threadRec, error) {
	top := &threadInfo{rec: &threadRec{}}
	byID := map[int64]*threadInfo{}
	started := map[int64]*runRec{} // MapStateStarted/ParallelStateStarted id -> its run
	for _, e := range history {
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
				nt.runs = slices.Clone(old.thread.runs)
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
					nt.runs = slices.Clone(old.runs)
				}
				run.branches[b] = nt
				th = &threadInfo{rec: nt, parent: prev}
			}
		}
		byID[e.ID] = th
		runs := th.rec.runs
		var last *runRec
		if len(runs) > 0 {
			last = runs[len(runs)-1]
		}
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
			th.rec.runs = append(th.rec.runs, r)
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
	if len(history) == 0 {
		return nil, &NotRedrivableError{Reason: "the history is empty"}
	}
	h := slices.SortedFunc(slices.Values(history), func(a, b Event) int { return cmp.Compare(a.ID, b.ID) })
	first, last := h[0], h[len(h)-1]
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
	rec, err := m.replay(h)
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
	x.redriveCount = 1
	for _, e := range h {
		if e.Type == "ExecutionRedriven" {
			x.redriveCount++
		}
	}
	x.nextID = last.ID + 1
	top := &chain{last: last.ID}
	x.emit(top, Event{Type: "ExecutionRedriven", ExecutionRedrivenEventDetails: &ExecutionRedrivenEventDetails{RedriveCount: x.redriveCount}})
	return x.run(ctx, top, in, rec)
}
