package sfnlocal

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/pkg/jobfs"
)

// ---- state machines

type machineListItem struct {
	Arn     string `json:"stateMachineArn"`
	Name    string `json:"name"`
	Type    string `json:"type"`
	Created epoch  `json:"creationDate"`
}

type listMachinesIn struct {
	MaxResults int    `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

func (s *Server) listStateMachines(_ context.Context, in listMachinesIn) (any, error) {
	s.mu.Lock()
	var all []machineListItem
	for _, m := range s.machines {
		all = append(all, machineListItem{m.rec.Arn, m.rec.Name, m.rec.Type, epoch(m.rec.Created)})
	}
	s.mu.Unlock()
	// Oldest first, as AWS lists them.
	page, next, err := pageAfter(all, in.MaxResults, in.NextToken, tokenQuery(), false,
		func(m machineListItem) listKey { return listKey{time.Time(m.Created), m.Name} })
	if err != nil {
		return nil, err
	}
	return struct {
		StateMachines []machineListItem `json:"stateMachines"`
		NextToken     string            `json:"nextToken,omitempty"`
	}{page, next}, nil
}

type machineArnIn struct {
	Arn string `json:"stateMachineArn"`
}

func (s *Server) machine(arn string) (*machine, error) {
	if !strings.HasPrefix(arn, "arn:") || len(strings.Split(arn, ":")) != 7 || strings.Split(arn, ":")[5] != "stateMachine" {
		return nil, errorf("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", arn)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.machines[arn]
	if m == nil {
		return nil, errorf("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	return m, nil
}

// describeStateMachine: https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeStateMachine.html
// A version ARN describes the version; an alias ARN is refused, as in AWS.
func (s *Server) describeStateMachine(_ context.Context, in machineArnIn) (any, error) {
	q, err := s.resolve(in.Arn)
	if err != nil {
		return nil, err
	}
	if q.alias != nil {
		return nil, errorf("ValidationException", "describe an alias with DescribeStateMachineAlias, not DescribeStateMachine")
	}
	rec := q.m.rec
	out := describeMachineOut{Arn: rec.Arn, Name: rec.Name, Status: "ACTIVE", Definition: rec.Definition, RoleArn: rec.RoleArn,
		Type: rec.Type, Created: epoch(rec.Created), RevisionID: rec.RevisionID,
		Logging: map[string]any{"level": "OFF", "includeExecutionData": false}, Tracing: map[string]any{"enabled": false}}
	if v := q.version; v != nil {
		out.Arn, out.Definition, out.RoleArn, out.Created, out.RevisionID, out.Description =
			in.Arn, v.Definition, v.RoleArn, epoch(v.Created), v.RevisionID, v.Description
	}
	return out, nil
}

type describeMachineOut struct {
	Arn         string `json:"stateMachineArn"`
	Name        string `json:"name"`
	Status      string `json:"status"`
	Definition  string `json:"definition"`
	RoleArn     string `json:"roleArn"`
	Type        string `json:"type"`
	Created     epoch  `json:"creationDate"`
	RevisionID  string `json:"revisionId"`
	Description string `json:"description,omitempty"`
	Logging     any    `json:"loggingConfiguration"`
	Tracing     any    `json:"tracingConfiguration"`
}

type createMachineIn struct {
	Name               string `json:"name"`
	Definition         string `json:"definition"`
	RoleArn            string `json:"roleArn"`
	Type               string `json:"type"`
	Tags               []tag  `json:"tags"`
	Publish            bool   `json:"publish"`
	VersionDescription string `json:"versionDescription"`
}

// createStateMachine: https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html
func (s *Server) createStateMachine(_ context.Context, in createMachineIn) (any, error) {
	if err := checkName(in.Name); err != nil {
		return nil, err
	}
	if in.Type == "" {
		in.Type = "STANDARD"
	}
	if in.Type != "STANDARD" && in.Type != "EXPRESS" {
		return nil, errorf("ValidationException", "1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]", in.Type)
	}
	if in.VersionDescription != "" && !in.Publish {
		return nil, errorf("ValidationException", "versionDescription requires publish to be true")
	}
	if err := checkDescription(in.VersionDescription); err != nil {
		return nil, err
	}
	tags, err := checkTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	am, err := parseDefinition(in.Definition, s.cfg.Objects != nil)
	if err != nil {
		return nil, err
	}
	arn := s.MachineArn(in.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.machines[arn]; old != nil {
		// AWS: the same request again is idempotent (tags aside: they are
		// not updated).
		if old.rec.Definition == in.Definition && old.rec.RoleArn == in.RoleArn && old.rec.Type == in.Type && !old.builtin {
			out := createOut{Arn: arn, Created: epoch(old.rec.Created)}
			if n := len(old.rec.Versions); in.Publish && n > 0 && old.rec.Versions[n-1].RevisionID == old.rec.RevisionID {
				out.VersionArn = s.versionArn(arn, old.rec.Versions[n-1].Number)
			} else if in.Publish {
				return nil, errorf("StateMachineAlreadyExists", "State Machine Already Exists: '%s' (without a version of its current revision)", arn)
			}
			return out, nil
		}
		return nil, errorf("StateMachineAlreadyExists", "State Machine Already Exists: '%s'", arn)
	}
	m := &machine{m: am, rec: machineRecord{Arn: arn, Name: in.Name, Definition: in.Definition, RoleArn: in.RoleArn,
		Type: in.Type, Created: s.now(), RevisionID: revision(in.Definition, in.RoleArn), Tags: tags}}
	out := createOut{Arn: arn, Created: epoch(m.rec.Created)}
	if in.Publish {
		v, err := s.publish(&m.rec, in.VersionDescription)
		if err != nil {
			return nil, err
		}
		out.VersionArn = s.versionArn(arn, v.Number)
	}
	if err := s.saveMachine(m); err != nil {
		return nil, err
	}
	s.machines[arn] = m
	return out, nil
}

type createOut struct {
	Arn        string `json:"stateMachineArn"`
	Created    epoch  `json:"creationDate"`
	VersionArn string `json:"stateMachineVersionArn,omitempty"`
}

type updateMachineIn struct {
	Arn                string  `json:"stateMachineArn"`
	Definition         *string `json:"definition"`
	RoleArn            *string `json:"roleArn"`
	Publish            bool    `json:"publish"`
	VersionDescription string  `json:"versionDescription"`
}

// updateStateMachine: https://docs.aws.amazon.com/step-functions/latest/apireference/API_UpdateStateMachine.html
func (s *Server) updateStateMachine(_ context.Context, in updateMachineIn) (any, error) {
	q, err := s.resolve(in.Arn)
	if err != nil {
		return nil, err
	}
	if q.version != nil || q.alias != nil {
		return nil, errorf("ValidationException", "a version or alias cannot be updated; update %s", q.m.rec.Arn)
	}
	if q.m.builtin {
		return nil, errorf("ValidationException", "%s is the embedded pipeline definition; create a state machine of your own to run an edited copy", PipelineName)
	}
	if in.Definition == nil && in.RoleArn == nil && !in.Publish {
		return nil, errorf("MissingRequiredParameter", "either the definition or the roleArn must be specified")
	}
	if in.VersionDescription != "" && !in.Publish {
		return nil, errorf("ValidationException", "versionDescription requires publish to be true")
	}
	if err := checkDescription(in.VersionDescription); err != nil {
		return nil, err
	}
	var am *asl.Machine
	if in.Definition != nil {
		if am, err = parseDefinition(*in.Definition, s.cfg.Objects != nil); err != nil {
			return nil, err
		}
	}
	var versionArn string
	rec, err := s.modify(in.Arn, am, func(rec *machineRecord) error {
		if in.Definition != nil {
			rec.Definition = *in.Definition
		}
		if in.RoleArn != nil {
			rec.RoleArn = *in.RoleArn
		}
		if in.Definition != nil || in.RoleArn != nil {
			rec.Updated, rec.RevisionID = s.now(), revision(rec.Definition, rec.RoleArn)
		}
		if in.Publish {
			v, err := s.publish(rec, in.VersionDescription)
			if err != nil {
				return err
			}
			versionArn = s.versionArn(rec.Arn, v.Number)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return struct {
		Updated    epoch  `json:"updateDate"`
		RevisionID string `json:"revisionId"`
		VersionArn string `json:"stateMachineVersionArn,omitempty"`
	}{epoch(cmp.Or(rec.Updated, rec.Created)), rec.RevisionID, versionArn}, nil
}

func (s *Server) deleteStateMachine(_ context.Context, in machineArnIn) (any, error) {
	m, err := s.machine(in.Arn)
	if err != nil {
		return nil, err
	}
	if m.builtin {
		return nil, errorf("ValidationException", "%s is the embedded pipeline definition and cannot be deleted", PipelineName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// As in AWS, running executions go on to completion, and executions
	// stay describable.
	if err := s.removeMachine(m); err != nil {
		return nil, err
	}
	delete(s.machines, in.Arn)
	return struct{}{}, nil
}

// ---- executions

type startIn struct {
	Arn   string  `json:"stateMachineArn"`
	Name  string  `json:"name"`
	Input *string `json:"input"`
}

type startOut struct {
	Arn   string `json:"executionArn"`
	Start epoch  `json:"startDate"`
}

func (s *Server) startExecution(_ context.Context, in startIn) (any, error) {
	input := "{}"
	if in.Input != nil {
		input = *in.Input
	}
	x, err := s.start(in.Arn, in.Name, input)
	if err != nil {
		return nil, err
	}
	return startOut{x.rec.Arn, epoch(x.rec.Start)}, nil
}

// maxPayload is Step Functions' limit on an input or output.
const maxPayload = 256 << 10

// Start starts an execution of the machine arn, as StartExecution does: an
// empty name is a random UUID; the same name with the same input while that
// execution runs is that execution; any other reuse of a name is
// ExecutionAlreadyExists (an error whose Type method says so). It returns
// the execution's ARN.
func (s *Server) Start(arn, name, input string) (string, error) {
	x, err := s.start(arn, name, input)
	if err != nil {
		return "", err
	}
	return x.rec.Arn, nil
}

// Wait waits for the execution arn to end and returns its status.
func (s *Server) Wait(ctx context.Context, arn string) (string, error) {
	x, err := s.execution(arn)
	if err != nil {
		return "", err
	}
	x.mu.Lock()
	done := x.done
	x.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return x.summary().status, nil
}

// ExecutionArn is the ARN of the execution name of the machine arn.
func (s *Server) ExecutionArn(machineArn, name string) string {
	return s.executionArn(machineArn[strings.LastIndex(machineArn, ":")+1:], name)
}

func (s *Server) start(arn, name, input string) (*execution, error) {
	r, err := s.runnable(arn)
	if err != nil {
		return nil, err
	}
	m := r.m
	if m.rec.Type == "EXPRESS" {
		return nil, errorf("StateMachineTypeNotSupported", "the local endpoint runs EXPRESS state machines through StartSyncExecution only")
	}
	am := m.m
	if r.versionArn != "" {
		if am, err = asl.Parse([]byte(r.definition)); err != nil {
			return nil, fmt.Errorf("sfnlocal: version %s no longer parses: %w", r.versionArn, err)
		}
	}
	if name == "" {
		name = newUUID()
	}
	compact, err := s.checkStart(name, input)
	if err != nil {
		return nil, err
	}
	xarn := s.executionArn(m.rec.Name, name)
	s.mu.Lock()
	for {
		if s.closed {
			s.mu.Unlock()
			return nil, errorf("ServiceUnavailable", "the server is shutting down")
		}
		if x := s.execs[xarn]; x != nil {
			s.mu.Unlock()
			x.mu.Lock()
			running := x.running
			x.mu.Unlock()
			var old bytes.Buffer
			_ = json.Compact(&old, []byte(x.rec.Input))
			if running && old.String() == compact.String() && x.rec.MachineArn == m.rec.Arn {
				return x, nil
			}
			return nil, errorf("ExecutionAlreadyExists", "Execution Already Exists: '%s'", xarn)
		}
		saving := s.starting[xarn]
		if saving == nil {
			break
		}
		// Another StartExecution of the name is writing its record: its
		// outcome decides this one's.
		s.mu.Unlock()
		<-saving
		s.mu.Lock()
	}
	saved := make(chan struct{})
	s.starting[xarn] = saved
	s.mu.Unlock()
	x := &execution{m: am, rec: executionRecord{Arn: xarn, MachineArn: m.rec.Arn, Name: name, Input: input,
		Start: s.now(), Definition: r.definition, RoleArn: cmp.Or(r.roleArn, s.roleArn()),
		VersionArn: r.versionArn, AliasArn: r.aliasArn, RevisionID: r.revisionID, MachineUpdated: r.updated}}
	// The record is written without s.mu: on EFS its mkdir, create,
	// write, fsync, rename and directory fsync are a round trip each, and
	// every other call waited for them (a DescribeExecution took 390 ms,
	// median, during a burst of starts on a mount of EFS's latencies,
	// 2 ms without; and forever on a mount that hangs).
	err = s.saveExecution(x)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.starting, xarn)
	close(saved)
	if err == nil && s.closed {
		// Close has begun and waits for the executions launched: this
		// one is not run, and its record goes (or, left, is an
		// execution interrupted before its first event).
		_ = s.cfg.Mount.RemoveAll(x.dir())
		err = errorf("ServiceUnavailable", "the server is shutting down")
	}
	if err != nil {
		return nil, err
	}
	s.execs[xarn] = x
	s.launch(x, time.Time{})
	return x, nil
}

// checkStart checks an execution's name and input, and returns the input
// compacted.
func (s *Server) checkStart(name, input string) (*bytes.Buffer, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	return s.checkInput(input)
}

// checkInput is checkStart's check of the input.
func (s *Server) checkInput(input string) (*bytes.Buffer, error) {
	if len(input) > maxPayload {
		return nil, errorf("InvalidExecutionInput", "the input is %d bytes, over the %d-byte limit", len(input), maxPayload)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(input)); err != nil {
		return nil, errorf("InvalidExecutionInput", "Invalid State Machine Execution Input: '%v'", err)
	}
	if s.cfg.CheckInput != nil {
		if err := s.cfg.CheckInput(json.RawMessage(input)); err != nil {
			return nil, errorf("InvalidExecutionInput", "%s", err.Error())
		}
	}
	return &compact, nil
}

// launch runs x in a goroutine: from its start, or, when redrive is set,
// as the redrive RedriveExecution answered with that redriveDate. Called
// with s.mu held.
func (s *Server) launch(x *execution, redrive time.Time) {
	ctx, cancel := context.WithCancel(s.ctx)
	x.mu.Lock()
	done := make(chan struct{})
	base := x.h.len()
	x.running, x.base, x.cancel, x.done, x.stopErr, x.failErr = true, base, cancel, done, nil, nil
	x.mu.Unlock()
	// Until ExecutionStarted (or ExecutionRedriven) is recorded, the
	// clock is the startDate StartExecution returned (or the redriveDate
	// RedriveExecution did): the event and $$.Execution.StartTime carry
	// it, as in AWS, and DescribeExecution's redriveDate is the one the
	// redrive's caller saw.
	at := cmp.Or(redrive, x.rec.Start)
	var started atomic.Bool
	now := func() time.Time {
		if !started.Load() {
			return at
		}
		return s.cfg.Now()
	}
	lock := &execLock{s: s, x: x}
	opts := asl.Options{
		Invoke: lock.invoke,
		Sleep:  s.cfg.Sleep,
		Now:    now,
		OnEvent: func(e asl.Event) {
			s.record(x, e)
			started.Store(true)
		},
		OnMapRun:        func(r asl.MapRun) { s.recordMapRun(x, r) },
		Objects:         s.cfg.Objects,
		JSONata:         s.jsonata(),
		StateMachineArn: x.rec.MachineArn,
		ExecutionName:   x.rec.Name,
		RoleArn:         x.rec.RoleArn,
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		// Taken before anything runs, so the execution never overlaps
		// another of its job; an error is retried by the first Task.
		_ = lock.acquire(ctx)
		stopFlush := make(chan struct{})
		go func() {
			t := time.NewTicker(s.cfg.FlushInterval)
			defer t.Stop()
			for {
				select {
				case <-stopFlush:
					return
				case <-t.C:
					s.write(x, false)
					x.idle()
				}
			}
		}()
		var err error
		if !redrive.IsZero() {
			// Read from the mount as the replay goes: the history of this
			// run's start (base), which nothing changes while it runs.
			_, err = x.m.RedriveEvents(ctx, s.eventSeq(x, base), opts)
		} else {
			_, err = x.m.Execute(ctx, json.RawMessage(x.rec.Input), opts)
		}
		close(stopFlush)
		// The engine has returned: nothing records in x any more.
		x.mu.Lock()
		redriven, ended := x.h.len() > base, terminal(x.h.last)
		x.mu.Unlock()
		var nr *asl.NotRedrivableError
		if errors.As(err, &nr) {
			s.cfg.Log.Warn("sfnlocal: redrive refused", "arn", x.rec.Arn, "reason", nr.Reason)
		} else if !redrive.IsZero() && !redriven && err != nil {
			// RedriveExecution has answered: the history it replays, read
			// from the mount after that, failed to read or to decode.
			// Nothing was recorded, and the execution is as it was.
			s.cfg.Log.Warn("sfnlocal: redrive failed before it started", "arn", x.rec.Arn, "err", err)
		}
		if !ended {
			// Only a failure before the engine started (an input it could
			// not decode) ends here without a terminal event.
			s.interrupt(x)
		}
		// Before running is cleared: until then the end is reported only
		// once it is on the mount (summary), so an execution a client saw
		// end does not come back after a crash as interrupted.
		if err := s.flush(x); err != nil {
			s.cfg.Log.Warn("sfnlocal: history not written", "arn", x.rec.Arn, "err", err)
		}
		x.idle()
		x.mu.Lock()
		x.running = false
		x.mu.Unlock()
		lock.release()
		// This run's channel: once running is false a redrive may have
		// launched x again with a new one.
		close(done)
	}()
}

// execLock holds the lock of an execution's job (Config.Lock) for one run.
type execLock struct {
	s      *Server
	x      *execution
	mu     sync.Mutex
	held   bool
	unlock func()
}

// acquire takes the lock unless this run holds it already.
func (l *execLock) acquire(ctx context.Context) error {
	if l.s.cfg.Lock == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held {
		return nil
	}
	l.x.mu.Lock()
	known := l.x.rec.Job
	l.x.mu.Unlock()
	job, unlock, err := l.s.cfg.Lock(ctx, known, json.RawMessage(l.x.rec.Input))
	if err != nil {
		return err
	}
	l.held, l.unlock = true, unlock
	if job != "" && job != known {
		l.x.mu.Lock()
		l.x.rec.Job = job
		l.x.mu.Unlock()
		if l.x.ephemeral {
			return nil
		}
		if err := l.s.saveExecution(l.x); err != nil {
			l.s.cfg.Log.Warn("sfnlocal: execution record not written", "arn", l.x.rec.Arn, "err", err)
		}
	}
	return nil
}

// invoke runs a Task once the job is locked.
func (l *execLock) invoke(ctx context.Context, resource string, input json.RawMessage) (json.RawMessage, error) {
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	return l.s.cfg.Invoke(ctx, resource, input)
}

func (l *execLock) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held && l.unlock != nil {
		l.unlock()
	}
	l.held, l.unlock = false, nil
}

// record appends an event. An abort the user asked for carries the
// StopExecution error and cause; one caused by Close is recorded as the
// interruption it is, so the next server can redrive it.
//
// An execution StopExecution stopped while it was running ends ABORTED
// whatever the engine made of its last state: a state that does not
// watch its context (a Pass or Choice evaluating a long JSONata
// expression, a Task whose stage finishes its work in spite of the
// cancel) still completes, and the engine then ends the execution
// SUCCEEDED or FAILED, where Step Functions, once StopExecution has
// answered, reports it ABORTED.
func (s *Server) record(x *execution, e asl.Event) {
	x.mu.Lock()
	s.add(x, s.recorded(x, e))
	full := len(x.h.pending) >= maxPending
	share := len(x.h.pending) >= minShare
	x.mu.Unlock()
	if full || share && s.pending.Load() >= maxPendingTotal {
		s.write(x, full)
	}
}

// write flushes the history of x, which runs, with full set when
// maxPending of it waits. A failed write is retried by the next, unless
// the history is full (failUnwritten) or its file is not what serve
// wrote (jobfs.ErrShort: removed or cut, so no retry can append to it).
func (s *Server) write(x *execution, full bool) {
	err := s.flush(x)
	if err == nil {
		return
	}
	s.cfg.Log.Warn("sfnlocal: history not written", "arn", x.rec.Arn, "err", err)
	if full || errors.Is(err, jobfs.ErrShort) {
		s.failUnwritten(x, err)
	}
}

// failUnwritten fails x, whose history could not be written with
// maxPending of it waiting (running on would hold the rest of the
// history in memory: a full mount grew serve past 1 GB), or whose
// history file was removed or cut. The execution
// ends FAILED with States.Runtime, the cause naming err, at once; its
// events stay served from memory, and a redrive, once the mount takes
// writes again, writes them first.
func (s *Server) failUnwritten(x *execution, err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.stopErr != nil || x.failErr != nil || !x.running {
		return
	}
	x.failErr = &asl.ErrorDetails{Error: asl.ErrRuntime, Cause: "The execution's history could not be written to the mount: " + err.Error()}
	x.cancel()
}

// recorded is e as x's history records it (x.mu held).
func (s *Server) recorded(x *execution, e asl.Event) asl.Event {
	if x.stopErr != nil && (e.Type == "ExecutionSucceeded" || e.Type == "ExecutionFailed" || e.Type == "ExecutionTimedOut") {
		e = asl.Event{ID: e.ID, PreviousEventID: e.PreviousEventID, Timestamp: e.Timestamp, Type: "ExecutionAborted"}
	}
	if x.failErr != nil && x.stopErr == nil && terminal(e) {
		e = asl.Event{ID: e.ID, PreviousEventID: e.PreviousEventID, Timestamp: e.Timestamp, Type: "ExecutionFailed", ExecutionFailedEventDetails: x.failErr}
	}
	if e.Type == "ExecutionAborted" {
		if x.stopErr != nil {
			e.ExecutionAbortedEventDetails = x.stopErr
		} else if s.ctx.Err() != nil {
			e.Type, e.ExecutionAbortedEventDetails = "ExecutionFailed", nil
			e.ExecutionFailedEventDetails = &asl.ErrorDetails{Error: asl.ErrRuntime, Cause: InterruptedCause}
		}
	}
	return e
}

type executionArnIn struct {
	Arn string `json:"executionArn"`
}

func (s *Server) execution(arn string) (*execution, error) {
	parts := strings.Split(arn, ":")
	if !strings.HasPrefix(arn, "arn:") || len(parts) != 8 || parts[5] != "execution" {
		return nil, errorf("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", arn)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.execs[arn]
	if x == nil {
		return nil, errorf("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
	}
	return x, nil
}

// summary is the execution as its history says it is.
type summary struct {
	status              string
	stop, redrive       time.Time
	redriveCount        int
	output, error, caus string
	hasOutput           bool
	lastID              int64
}

// notRedrivable is why an execution of sm cannot be redriven, or "" when
// it can: it ended in failure (FAILED, TIMED_OUT or ABORTED) and its
// history has room for ExecutionRedriven and one event more: fewer than
// 24,999 events (asl.MaxHistoryEvents; API_RedriveExecution.html).
func (sm summary) notRedrivable() string {
	switch sm.status {
	case "FAILED", "TIMED_OUT", "ABORTED":
	default:
		return "Execution is " + sm.status + " and cannot be redriven"
	}
	if !asl.RoomToRedrive(sm.lastID) {
		return fmt.Sprintf("Execution history has %d events, too many to be redriven within the maximum of %d", sm.lastID, asl.MaxHistoryEvents)
	}
	return ""
}

func (x *execution) summary() summary {
	x.mu.Lock()
	defer x.mu.Unlock()
	sm := summary{redriveCount: x.h.redrives, redrive: x.h.redriven}
	last := x.h.last
	sm.lastID = last.ID
	switch {
	case x.running && !(terminal(last) && x.h.len() > x.base && len(x.h.pending) == 0):
		sm.status = "RUNNING"
		return sm
	case last.Type == "ExecutionSucceeded":
		sm.status = "SUCCEEDED"
		sm.output, sm.hasOutput = last.ExecutionSucceededEventDetails.Output, true
	case last.Type == "ExecutionFailed":
		sm.status = "FAILED"
		sm.error, sm.caus = last.ExecutionFailedEventDetails.Error, last.ExecutionFailedEventDetails.Cause
	case last.Type == "ExecutionTimedOut":
		sm.status = "TIMED_OUT"
		sm.error, sm.caus = last.ExecutionTimedOutEventDetails.Error, last.ExecutionTimedOutEventDetails.Cause
	case last.Type == "ExecutionAborted":
		sm.status = "ABORTED"
		if d := last.ExecutionAbortedEventDetails; d != nil {
			sm.error, sm.caus = d.Error, d.Cause
		}
	default:
		sm.status = "RUNNING"
		return sm
	}
	sm.stop = last.Timestamp
	return sm
}

type describeOut struct {
	Arn                 string          `json:"executionArn"`
	MachineArn          string          `json:"stateMachineArn"`
	Name                string          `json:"name"`
	Status              string          `json:"status"`
	Start               epoch           `json:"startDate"`
	Stop                *epoch          `json:"stopDate,omitempty"`
	Input               string          `json:"input"`
	InputDetails        map[string]bool `json:"inputDetails"`
	Output              *string         `json:"output,omitempty"`
	OutputDetails       map[string]bool `json:"outputDetails,omitempty"`
	Error               string          `json:"error,omitempty"`
	Cause               string          `json:"cause,omitempty"`
	RedriveCount        int             `json:"redriveCount"`
	RedriveDate         *epoch          `json:"redriveDate,omitempty"`
	RedriveStatus       string          `json:"redriveStatus"`
	RedriveStatusReason string          `json:"redriveStatusReason,omitempty"`
	VersionArn          string          `json:"stateMachineVersionArn,omitempty"`
	AliasArn            string          `json:"stateMachineAliasArn,omitempty"`
}

func (s *Server) describeExecution(_ context.Context, in executionArnIn) (any, error) {
	x, err := s.execution(in.Arn)
	if err != nil {
		return nil, err
	}
	return s.describe(x), nil
}

func (s *Server) describe(x *execution) describeOut {
	sm := x.summary()
	out := describeOut{Arn: x.rec.Arn, MachineArn: x.rec.MachineArn, Name: x.rec.Name, Status: sm.status,
		Start: epoch(x.rec.Start), Stop: ptr(sm.stop), Input: x.rec.Input, InputDetails: map[string]bool{"included": true},
		Error: sm.error, Cause: sm.caus, RedriveCount: sm.redriveCount, RedriveDate: ptr(sm.redrive),
		VersionArn: x.rec.VersionArn, AliasArn: x.rec.AliasArn}
	if sm.hasOutput {
		out.Output, out.OutputDetails = &sm.output, map[string]bool{"included": true}
	}
	out.RedriveStatus, out.RedriveStatusReason = "REDRIVABLE", sm.notRedrivable()
	if out.RedriveStatusReason != "" {
		out.RedriveStatus = "NOT_REDRIVABLE"
	}
	return out
}

type listExecutionsIn struct {
	Arn           string `json:"stateMachineArn"`
	StatusFilter  string `json:"statusFilter"`
	MaxResults    int    `json:"maxResults"`
	NextToken     string `json:"nextToken"`
	MapRunArn     string `json:"mapRunArn"`
	RedriveFilter string `json:"redriveFilter"`
}

type executionListItem struct {
	Arn          string `json:"executionArn"`
	MachineArn   string `json:"stateMachineArn"`
	Name         string `json:"name"`
	Status       string `json:"status"`
	Start        epoch  `json:"startDate"`
	Stop         *epoch `json:"stopDate,omitempty"`
	RedriveCount int    `json:"redriveCount"`
	RedriveDate  *epoch `json:"redriveDate,omitempty"`
	VersionArn   string `json:"stateMachineVersionArn,omitempty"`
	AliasArn     string `json:"stateMachineAliasArn,omitempty"`
}

// listExecutions: https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html
// redriveFilter keeps the executions redriven at least once (REDRIVEN) or
// never (NOT_REDRIVEN). The child executions of a Map Run (mapRunArn) are
// not kept by this endpoint: such a call is refused, as is one with both
// ARNs, and PENDING_REDRIVE (a Map Run's child status) with a state
// machine's.
func (s *Server) listExecutions(_ context.Context, in listExecutionsIn) (any, error) {
	switch in.RedriveFilter {
	case "", "REDRIVEN", "NOT_REDRIVEN":
	default:
		return nil, errorf("ValidationException", "1 validation error detected: Value '%s' at 'redriveFilter' failed to satisfy constraint: Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]", in.RedriveFilter)
	}
	if in.MapRunArn != "" {
		if in.Arn != "" {
			return nil, errorf("ValidationException", "specify either a mapRunArn or a stateMachineArn, not both")
		}
		return nil, s.mapRunChildren(in.MapRunArn)
	}
	if in.StatusFilter == "PENDING_REDRIVE" {
		return nil, errorf("ValidationException", "the PENDING_REDRIVE statusFilter lists a Map Run's child executions: it needs a mapRunArn, not a stateMachineArn")
	}
	q, err := s.resolve(in.Arn)
	if err != nil {
		return nil, err
	}
	if q.m.rec.Type == "EXPRESS" {
		return nil, errorf("StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")
	}
	// A version or alias ARN lists the executions it started.
	field := func(x *execution) string { return x.rec.MachineArn }
	switch {
	case q.version != nil:
		field = func(x *execution) string { return x.rec.VersionArn }
	case q.alias != nil:
		field = func(x *execution) string { return x.rec.AliasArn }
	}
	switch in.StatusFilter {
	case "", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE":
	default:
		return nil, errorf("ValidationException", "1 validation error detected: Value '%s' at 'statusFilter' failed to satisfy constraint", in.StatusFilter)
	}
	s.mu.Lock()
	var xs []*execution
	for _, x := range s.execs {
		if field(x) == in.Arn {
			xs = append(xs, x)
		}
	}
	s.mu.Unlock()
	var all []executionListItem
	for _, x := range xs {
		sm := x.summary()
		if in.StatusFilter != "" && in.StatusFilter != sm.status {
			continue
		}
		if (in.RedriveFilter == "REDRIVEN" && sm.redriveCount == 0) || (in.RedriveFilter == "NOT_REDRIVEN" && sm.redriveCount > 0) {
			continue
		}
		all = append(all, executionListItem{x.rec.Arn, x.rec.MachineArn, x.rec.Name, sm.status, epoch(x.rec.Start),
			ptr(sm.stop), sm.redriveCount, ptr(sm.redrive), x.rec.VersionArn, x.rec.AliasArn})
	}
	// Newest first, as AWS lists them.
	page, next, err := pageAfter(all, in.MaxResults, in.NextToken, tokenQuery(in.Arn, in.StatusFilter, in.RedriveFilter), true,
		func(x executionListItem) listKey { return listKey{time.Time(x.Start), x.Name} })
	if err != nil {
		return nil, err
	}
	return struct {
		Executions []executionListItem `json:"executions"`
		NextToken  string              `json:"nextToken,omitempty"`
	}{page, next}, nil
}

// keysetToken is the nextToken of a list whose items enter anywhere (new
// executions at the head of the newest-first ListExecutions) or leave it
// (a deleted machine): the last item of the page it ends, by its date and
// name (the list's order), and the request's arguments. The next page
// begins after that item, where an offset into the list made a paging
// client see one execution again for each started meanwhile (70 of 370
// listed twice), or skip a machine for each deleted. Used with other
// arguments it is InvalidToken, as AWS's tokens are ("Keep all other
// arguments unchanged", API_ListExecutions.html).
type keysetToken struct {
	At    int64  `json:"s"` // unix milliseconds
	Name  string `json:"n"`
	Query string `json:"q"` // tokenQuery of the request's arguments
}

// tokenQuery names a list request's arguments other than maxResults and
// nextToken, for a keysetToken to be refused under others.
func tokenQuery(args ...string) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%q", args))
	return hex.EncodeToString(h[:8])
}

// listKey is where an item of a keyset-paged list stands: by its date
// (milliseconds, as the server keeps them), then by its name.
type listKey struct {
	at   time.Time
	name string
}

// compare orders k and o, newest first when newestFirst is set, oldest
// first otherwise; names ascending either way.
func (k listKey) compare(o listKey, newestFirst bool) int {
	c := k.at.Compare(o.at)
	if newestFirst {
		c = -c
	}
	return cmp.Or(c, strings.Compare(k.name, o.name))
}

// pageAfter sorts all by key (newest first or oldest first) and returns
// the page that max and token ask for, and the token of the next page
// ("" after the last). query names the request's other arguments
// (tokenQuery). The one order serves the sort and the token's place, so
// the two cannot disagree.
func pageAfter[T any](all []T, max int, token, query string, newestFirst bool, key func(T) listKey) ([]T, string, error) {
	max, err := pageLimit(max)
	if err != nil {
		return nil, "", err
	}
	slices.SortFunc(all, func(a, b T) int { return key(a).compare(key(b), newestFirst) })
	off := 0
	if token != "" {
		var tok keysetToken
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, "efspipe-x-"))
		if err != nil || !strings.HasPrefix(token, "efspipe-x-") || json.Unmarshal(b, &tok) != nil || tok.Query != query {
			return nil, "", errorf("InvalidToken", "Invalid Token: '%s'", token)
		}
		// The first item after the token's, which may have been deleted.
		after := listKey{time.UnixMilli(tok.At).UTC(), tok.Name}
		off = sort.Search(len(all), func(i int) bool { return key(all[i]).compare(after, newestFirst) > 0 })
	}
	end := min(off+max, len(all))
	page := append(make([]T, 0, end-off), all[off:end]...)
	if end == len(all) {
		return page, "", nil
	}
	last := key(all[end-1])
	b, _ := json.Marshal(keysetToken{last.at.UnixMilli(), last.name, query})
	return page, "efspipe-x-" + base64.RawURLEncoding.EncodeToString(b), nil
}

type historyIn struct {
	Arn                  string `json:"executionArn"`
	MaxResults           int    `json:"maxResults"`
	ReverseOrder         bool   `json:"reverseOrder"`
	NextToken            string `json:"nextToken"`
	IncludeExecutionData *bool  `json:"includeExecutionData"`
}

func (s *Server) getExecutionHistory(_ context.Context, in historyIn) (any, error) {
	x, err := s.execution(in.Arn)
	if err != nil {
		return nil, err
	}
	limit, err := pageLimit(in.MaxResults)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	n := x.h.len()
	a, b, _, err := pageRange(n, limit, in.NextToken)
	if err != nil {
		x.mu.Unlock()
		return nil, err
	}
	if in.ReverseOrder {
		// The token is where the next page ends, counted from the
		// oldest event as forward tokens are: a running execution's
		// history grows only at its newest end, so the events it records
		// between two calls do not shift the pages still to come (counted
		// from the newest, they did, and pages overlapped).
		b = n
		if in.NextToken != "" {
			b = a
		}
		a = max(b-limit, 0)
	}
	// A page holds at most maxPageBytes of events, and at least one, as
	// AWS allows: maxResults "is only an upper limit. The actual number
	// of items returned per call might be fewer than the specified
	// maximum" (API_GetExecutionHistory). Three pages of 1,000 events of
	// 250 KB at once peaked serve at 2.6 GB.
	for b > a+1 && x.h.start(b)-x.h.start(a) > maxPageBytes {
		if in.ReverseOrder {
			a++
		} else {
			b--
		}
	}
	x.mu.Unlock()
	var next string
	switch {
	case in.ReverseOrder && a > 0:
		next = "efspipe-" + strconv.Itoa(a)
	case !in.ReverseOrder && b < n:
		next = "efspipe-" + strconv.Itoa(b)
	}
	page, err := s.events(x, a, b)
	if err != nil {
		return nil, err
	}
	if in.ReverseOrder {
		slices.Reverse(page)
	}
	var events any = page
	if in.IncludeExecutionData != nil && !*in.IncludeExecutionData {
		bare := make([]json.RawMessage, len(page))
		for i, e := range page {
			if bare[i], err = withoutData(e); err != nil {
				return nil, err
			}
		}
		events = bare
	}
	return struct {
		Events    any    `json:"events"`
		NextToken string `json:"nextToken,omitempty"`
	}{events, next}, nil
}

// withoutData is e as GetExecutionHistory answers it with
// includeExecutionData false: without the input and output of its
// details ("execution data (input or output of a history event)",
// API_GetExecutionHistory.html), which may be 256 KiB each. It works on
// the JSON form, so that every kind of details is covered, those asl
// adds later included.
func withoutData(e asl.Event) (json.RawMessage, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, err
	}
	for k, v := range fields {
		if !strings.HasSuffix(k, "EventDetails") {
			continue
		}
		var details map[string]json.RawMessage
		if json.Unmarshal(v, &details) != nil {
			continue
		}
		delete(details, "input")
		delete(details, "output")
		if fields[k], err = json.Marshal(details); err != nil {
			return nil, err
		}
	}
	return json.Marshal(fields)
}

type stopIn struct {
	Arn   string `json:"executionArn"`
	Error string `json:"error"`
	Cause string `json:"cause"`
}

// StopExecution's error and cause are at most this many characters
// (API_StopExecution.html): the history's ExecutionAborted event, and
// DescribeExecution, carry them.
const (
	maxStopError = 256
	maxStopCause = 32768
)

// stopExecution: https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html
func (s *Server) stopExecution(ctx context.Context, in stopIn) (any, error) {
	for _, f := range []struct {
		name, value string
		max         int
	}{{"error", in.Error, maxStopError}, {"cause", in.Cause, maxStopCause}} {
		if n := utf8.RuneCountInString(f.value); n > f.max {
			return nil, errorf("ValidationException", "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", f.name, f.max)
		}
	}
	x, err := s.execution(in.Arn)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	running, done := x.running, x.done
	if running {
		x.stopErr = &asl.ErrorDetails{Error: in.Error, Cause: in.Cause}
		x.cancel()
	}
	x.mu.Unlock()
	if running {
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	sm := x.summary()
	if sm.status == "RUNNING" || sm.stop.IsZero() {
		sm.stop = s.now()
	}
	return struct {
		Stop epoch `json:"stopDate"`
	}{epoch(sm.stop)}, nil
}

// Execution is an execution as Describe and Executions report it.
type Execution struct {
	Arn, Name, Input string
	Status           string // RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
	Error, Cause     string
}

// Interrupted reports whether the execution was cut short by the end of
// the server that ran it (a restart, a crash) and has not run since.
func (e Execution) Interrupted() bool {
	return e.Status == "FAILED" && e.Error == asl.ErrRuntime && e.Cause == InterruptedCause
}

// InterruptedCause is the cause of an execution cut short by the end of
// its server.
const InterruptedCause = "interrupted by a restart"

// Describe describes the execution arn.
func (s *Server) Describe(arn string) (Execution, error) {
	x, err := s.execution(arn)
	if err != nil {
		return Execution{}, err
	}
	return x.info(), nil
}

// Executions lists the executions of the machine arn, in no order.
func (s *Server) Executions(machineArn string) []Execution {
	s.mu.Lock()
	var xs []*execution
	for _, x := range s.execs {
		if x.rec.MachineArn == machineArn {
			xs = append(xs, x)
		}
	}
	s.mu.Unlock()
	out := make([]Execution, 0, len(xs))
	for _, x := range xs {
		out = append(out, x.info())
	}
	return out
}

func (x *execution) info() Execution {
	sm := x.summary()
	return Execution{Arn: x.rec.Arn, Name: x.rec.Name, Input: x.rec.Input, Status: sm.status, Error: sm.error, Cause: sm.caus}
}

// Redrive redrives the execution arn, as RedriveExecution does.
func (s *Server) Redrive(arn string) error {
	_, err := s.redriveExecution(context.Background(), redriveIn{Arn: arn})
	return err
}

type redriveIn struct {
	Arn         string `json:"executionArn"`
	ClientToken string `json:"clientToken"`
}

type redriveOut struct {
	Redrive epoch `json:"redriveDate"`
}

// redriveToken is a client token a redrive was made with, and that
// redrive's redriveDate, which is also the token's first use.
type redriveToken struct {
	token string
	at    time.Time
}

// Of a redrive's client tokens, the last maxRedriveTokens are answered
// idempotently for redriveTokenTTL after their first use
// (API_RedriveExecution.html, clientToken). The SDKs fill one in when
// the caller gives none and send it again when they retry.
const (
	maxRedriveTokens = 10
	redriveTokenTTL  = 15 * time.Minute
)

// redriveExecution: https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html
// A clientToken one of the execution's last redrives was made with is
// that redrive: its redriveDate again, whatever the execution did since,
// where the SDK's retry of a call whose answer was lost would otherwise
// be refused as ExecutionNotRedrivable (the redrive runs).
func (s *Server) redriveExecution(_ context.Context, in redriveIn) (any, error) {
	x, err := s.execution(in.Arn)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errorf("ServiceUnavailable", "the server is shutting down")
	}
	if in.ClientToken != "" {
		for _, t := range x.tokens {
			if t.token == in.ClientToken && s.cfg.Now().Sub(t.at) < redriveTokenTTL {
				return redriveOut{epoch(t.at)}, nil
			}
		}
	}
	if why := x.summary().notRedrivable(); why != "" {
		return nil, errorf("ExecutionNotRedrivable", "%s", why)
	}
	// The replay reads the history in the background: what would fail it
	// there, a history file removed or cut, is refused here, where the
	// caller sees it.
	if err := s.checkHistory(x); err != nil {
		return nil, err
	}
	now := s.now()
	s.launch(x, now)
	if in.ClientToken != "" {
		x.tokens = append(x.tokens, redriveToken{in.ClientToken, now})
		if len(x.tokens) > maxRedriveTokens {
			x.tokens = slices.Delete(x.tokens, 0, len(x.tokens)-maxRedriveTokens)
		}
	}
	return redriveOut{epoch(now)}, nil
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// ---- paging

// paginate cuts a page from all, never nil. The token is the offset of the next page:
// lists only grow at the end (histories) or are re-sorted on each call, as
// AWS's tokens are only valid for the same request.
func paginate[T any](all []T, max int, token string) ([]T, string, error) {
	off, end, next, err := pageRange(len(all), max, token)
	if err != nil {
		return nil, "", err
	}
	// An empty page is [], never null: clients that iterate the list
	// without a nil check (jq '.executions[]', JavaScript) then work.
	return append(make([]T, 0, end-off), all[off:end]...), next, nil
}

// pageLimit is the most items a page holds when maxResults is max: 0
// asks for the default, 100; one out of 0-1,000 is ValidationException.
func pageLimit(max int) (int, error) {
	if max < 0 || max > 1000 {
		return 0, errorf("ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 0 and 1000", max)
	}
	if max == 0 {
		return 100, nil
	}
	return max, nil
}

// pageRange is the page [off, end) of a list of n items that max and
// token ask for, and the token of the next page ("" after the last).
func pageRange(n, max int, token string) (off, end int, next string, err error) {
	max, err = pageLimit(max)
	if err != nil {
		return 0, 0, "", err
	}
	if token != "" {
		i, err := strconv.Atoi(strings.TrimPrefix(token, "efspipe-"))
		if err != nil || i < 0 || i > n || !strings.HasPrefix(token, "efspipe-") {
			return 0, 0, "", errorf("InvalidToken", "Invalid Token: '%s'", token)
		}
		off = i
	}
	end = min(off+max, n)
	if end < n {
		next = "efspipe-" + strconv.Itoa(end)
	}
	return off, end, next, nil
}
