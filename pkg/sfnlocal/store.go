package sfnlocal

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/pkg/jobfs"
)

// The layout under the mount root. Names are hashed: a state machine or
// execution name may be "..", and no user text becomes a path.
const (
	machinesDir   = "sfn/machines"
	executionsDir = "sfn/executions"
)

func key(arn string) string {
	h := sha256.Sum256([]byte(arn))
	return hex.EncodeToString(h[:16])
}

// machineRecord is a state machine as kept on the mount.
type machineRecord struct {
	Arn        string    `json:"stateMachineArn"`
	Name       string    `json:"name"`
	Definition string    `json:"definition"`
	RoleArn    string    `json:"roleArn"`
	Type       string    `json:"type"`
	Created    time.Time `json:"creationDate"`
	Updated    time.Time `json:"updateDate,omitzero"`
	RevisionID string    `json:"revisionId"`
	// Tags are the machine's tags (CreateStateMachine, TagResource).
	Tags map[string]string `json:"tags,omitempty"`
	// Versions are the published versions, oldest first; LastVersion is
	// the number of the last one ever published, so a deleted version's
	// number is never reused, as in AWS.
	Versions    []versionRecord `json:"versions,omitempty"`
	LastVersion int             `json:"lastVersion,omitempty"`
	Aliases     []aliasRecord   `json:"aliases,omitempty"`
}

// versionRecord is a published version: an immutable copy of the revision
// it was published from.
type versionRecord struct {
	Number      int       `json:"version"`
	Definition  string    `json:"definition"`
	RoleArn     string    `json:"roleArn"`
	RevisionID  string    `json:"revisionId"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"creationDate"`
}

// aliasRecord is an alias: one or two versions of the machine and the
// percentage of executions each receives.
type aliasRecord struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Routing     []route   `json:"routingConfiguration"`
	Created     time.Time `json:"creationDate"`
	Updated     time.Time `json:"updateDate,omitzero"`
}

type route struct {
	VersionArn string `json:"stateMachineVersionArn"`
	Weight     int    `json:"weight"`
}

type machine struct {
	rec     machineRecord
	m       *asl.Machine
	builtin bool
}

// executionRecord is what StartExecution fixed: the name, the input and the
// definition the execution runs (and redrives) with, whatever updates the
// machine gets later, as in AWS.
type executionRecord struct {
	Arn        string    `json:"executionArn"`
	MachineArn string    `json:"stateMachineArn"`
	Name       string    `json:"name"`
	Input      string    `json:"input"`
	Start      time.Time `json:"startDate"`
	Definition string    `json:"definition"`
	RoleArn    string    `json:"roleArn"`
	// VersionArn and AliasArn name the version the execution runs and
	// the alias that chose it, when it was started through one.
	VersionArn string `json:"stateMachineVersionArn,omitempty"`
	AliasArn   string `json:"stateMachineAliasArn,omitempty"`
	// RevisionID and MachineUpdated describe the machine as it was when
	// the execution started (DescribeStateMachineForExecution).
	RevisionID     string    `json:"revisionId,omitempty"`
	MachineUpdated time.Time `json:"machineUpdateDate,omitzero"`
	// Job is the job the execution locked (Config.Lock), once known: a
	// redrive locks it again without resolving the input, and gc leaves
	// the job alone while the execution runs.
	Job string `json:"job,omitempty"`
}

type execution struct {
	rec executionRecord // Job is guarded by mu; the rest never changes
	m   *asl.Machine

	mu      sync.Mutex
	h       history
	runs    []asl.MapRun // Map Runs of DISTRIBUTED Maps, in start order; kept in memory only
	running bool
	base    int // the history's length when the current run began
	cancel  func()
	done    chan struct{}
	stopErr *asl.ErrorDetails // StopExecution's error and cause
	failErr *asl.ErrorDetails // why serve failed the run (failUnwritten)
	// tokens are the client tokens of the last redrives (s.mu), kept in
	// memory only: an SDK retrying a RedriveExecution it saw no answer to
	// does so within the 15 minutes they are valid for.
	tokens []redriveToken

	flushMu sync.Mutex // orders history writes

	// ephemeral is set for a synchronous Express execution, which is
	// never written to the mount (AWS keeps no history of one either).
	ephemeral bool
}

func (x *execution) dir() string { return path.Join(executionsDir, key(x.rec.Arn)) }

func (s *Server) saveMachine(m *machine) error {
	b, err := json.MarshalIndent(m.rec, "", "  ")
	if err != nil {
		return err
	}
	if err := s.cfg.Mount.MkdirAll(machinesDir); err != nil {
		return err
	}
	return s.cfg.Mount.WriteFile(path.Join(machinesDir, key(m.rec.Arn)+".json"), b)
}

func (s *Server) removeMachine(m *machine) error {
	return s.cfg.Mount.RemoveAll(path.Join(machinesDir, key(m.rec.Arn)+".json"))
}

func (s *Server) saveExecution(x *execution) error {
	x.mu.Lock()
	rec := x.rec
	x.mu.Unlock()
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := s.cfg.Mount.MkdirAll(x.dir()); err != nil {
		return err
	}
	return s.cfg.Mount.WriteFile(path.Join(x.dir(), "execution.json"), b)
}

// load reads the mount. An execution whose history does not end in a
// terminal event was running when its server died: it is closed as FAILED
// (States.Runtime, "interrupted by a restart") and so becomes redrivable.
// Resuming it automatically was the alternative; failing it instead leaves
// the decision to the user, as AWS does for anything it cannot finish, and
// a redrive then reruns only the states that did not finish.
func (s *Server) load() error {
	m := s.cfg.Mount
	ents, err := m.ReadDir(machinesDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), ".json") {
			continue // a write a crash left half-done
		}
		b, err := m.ReadFile(path.Join(machinesDir, e.Name()))
		if err != nil {
			return err
		}
		var rec machineRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("sfnlocal: %s: %w", e.Name(), err)
		}
		am, err := asl.Parse([]byte(rec.Definition))
		if err != nil {
			s.cfg.Log.Warn("sfnlocal: state machine no longer parses; skipped", "name", rec.Name, "err", err)
			continue
		}
		s.machines[rec.Arn] = &machine{rec: rec, m: am, builtin: rec.Name == PipelineName}
	}
	if err := s.ensurePipeline(); err != nil {
		return err
	}

	ents, err = m.ReadDir(executionsDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := path.Join(executionsDir, e.Name())
		b, err := m.ReadFile(path.Join(dir, "execution.json"))
		if err != nil {
			s.cfg.Log.Warn("sfnlocal: unreadable execution; skipped", "dir", dir, "err", err)
			continue
		}
		x := &execution{}
		if err := json.Unmarshal(b, &x.rec); err != nil {
			return fmt.Errorf("sfnlocal: %s: %w", dir, err)
		}
		if x.m, err = asl.Parse([]byte(x.rec.Definition)); err != nil {
			s.cfg.Log.Warn("sfnlocal: execution's definition no longer parses; skipped", "arn", x.rec.Arn, "err", err)
			continue
		}
		if err := s.loadHistory(x, dir); err != nil {
			return err
		}
		if !terminal(x.h.last) {
			s.interrupt(x)
			if err := s.flush(x); err != nil {
				return err
			}
			x.idle()
		}
		s.execs[x.rec.Arn] = x
	}
	return nil
}

// interrupt closes the history of an execution nothing runs any more.
func (s *Server) interrupt(x *execution) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.h.len() == 0 {
		s.add(x, asl.Event{Timestamp: x.rec.Start, Type: "ExecutionStarted", ID: 1,
			ExecutionStartedEventDetails: &asl.ExecutionStartedEventDetails{Input: x.rec.Input, InputDetails: &asl.DataDetails{}, RoleArn: x.rec.RoleArn}})
	}
	last := x.h.last
	s.add(x, asl.Event{Timestamp: s.now(), Type: "ExecutionFailed", ID: last.ID + 1, PreviousEventID: last.ID,
		ExecutionFailedEventDetails: &asl.ErrorDetails{Error: asl.ErrRuntime, Cause: InterruptedCause}})
}

// add records e in x's history (x.mu held). An event that does not
// encode is lost with a warning; none does in practice (asl.Event's
// fields are strings, numbers and string maps).
func (s *Server) add(x *execution, e asl.Event) {
	n := len(x.h.pending)
	if err := x.h.add(e); err != nil {
		s.cfg.Log.Warn("sfnlocal: event not recorded", "arn", x.rec.Arn, "type", e.Type, "err", err)
	}
	s.pending.Add(int64(len(x.h.pending) - n))
}

// ensurePipeline registers the built-in machine, refreshing its definition
// when the embedded one changed.
func (s *Server) ensurePipeline() error {
	arn := s.MachineArn(PipelineName)
	am, err := asl.Parse(s.cfg.Pipeline)
	if err != nil {
		return fmt.Errorf("sfnlocal: the pipeline definition: %w", err)
	}
	def := string(s.cfg.Pipeline)
	mc := s.machines[arn]
	switch {
	case mc == nil:
		mc = &machine{rec: machineRecord{Arn: arn, Name: PipelineName, Definition: def, RoleArn: s.roleArn(),
			Type: "STANDARD", Created: s.now(), RevisionID: revision(def, s.roleArn())}}
	case mc.rec.Definition != def:
		mc.rec.Definition, mc.rec.Updated, mc.rec.RevisionID = def, s.now(), revision(def, mc.rec.RoleArn)
	default:
		mc.m, mc.builtin = am, true
		return nil
	}
	mc.m, mc.builtin = am, true
	s.machines[arn] = mc
	return s.saveMachine(mc)
}

func (s *Server) roleArn() string {
	return fmt.Sprintf("arn:aws:iam::%s:role/efspipe-local", s.cfg.Account)
}

func revision(def, role string) string {
	h := sha256.Sum256([]byte(def + "\x00" + role))
	return hex.EncodeToString(h[:16])
}

func terminal(e asl.Event) bool {
	switch e.Type {
	case "ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut":
		return true
	}
	return false
}

// RunningJobs lists the jobs of the executions on the mount that have not
// ended: running in a server, or left running by one that died (until the
// next server closes them). gc leaves these jobs alone even when no lock
// is held on them at the moment: an execution between two states, or one
// whose server will redrive it, still needs its intermediates.
func RunningJobs(m *jobfs.Mount) (map[string]bool, error) {
	jobs := map[string]bool{}
	ents, err := m.ReadDir(executionsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return jobs, nil
	} else if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := path.Join(executionsDir, e.Name())
		var rec executionRecord
		if b, err := m.ReadFile(path.Join(dir, "execution.json")); err != nil || json.Unmarshal(b, &rec) != nil || rec.Job == "" {
			continue
		}
		last, ok, err := lastEvent(m, dir)
		if err != nil {
			return nil, err
		}
		if !ok || !terminal(last) {
			jobs[rec.Job] = true
		}
	}
	return jobs, nil
}
