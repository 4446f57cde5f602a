package sfnlocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/statemachine"
)

// PipelineName is the name of the built-in machine: the embedded pipeline.
const PipelineName = "efspipe"

// Config configures a Server. Zero values are defaults where documented.
type Config struct {
	// Mount keeps machines, executions and histories under sfn/. Required.
	Mount *jobfs.Mount
	// Invoke runs Task states: efspipe's stage functions by Lambda name or
	// ARN (local.Pipeline.Functions().Invoke). Required.
	Invoke asl.TaskFunc
	// Pipeline is the built-in machine's definition. Default:
	// statemachine.Local().
	Pipeline []byte
	// Region and Account make the ARNs. Default: us-east-1, 000000000000
	// (the dummy account of local AWS emulators).
	Region, Account string
	// Sleep replaces the engine's waits (tests). Default: real timers.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now stamps events and dates. Default: time.Now.
	Now func() time.Time
	// Lock, if set, is called when an execution (or a redrive) begins, with
	// the job an earlier run of it locked ("" for none) and its input. It
	// takes the lock of the job the input names, waiting while another
	// holder has it, until ctx ends (StopExecution, Close): so two
	// executions of one job never overlap, and the second finds the first's
	// work done. It returns that job ("" when the input names none it can
	// resolve: the stages then report what is wrong with it) and the
	// release, called when the run ends. An error is reported as the failure
	// of the first Task the execution runs, which tries again then.
	// Default: no lock (an engine that runs one execution at a time).
	Lock func(ctx context.Context, job string, input json.RawMessage) (string, func(), error)
	// CheckInput, if set, is called on the input of every StartExecution
	// (of any machine: an edited copy of the pipeline too) before anything
	// is stored; an error refuses
	// the call as InvalidExecutionInput with the error's text. The pipeline
	// uses it to refuse a plain "password", which the execution record
	// would otherwise keep. Default: no check.
	CheckInput func(input json.RawMessage) error
	// Objects holds the S3 objects that DISTRIBUTED Maps read with an
	// ItemReader and write with a ResultWriter (DirObjects: a directory).
	// Default: none, and a machine with either is refused at create time.
	Objects asl.Objects
	// JSONata evaluates the JSONata expressions of every execution and
	// TestState call (jsonataworker.Pool.Eval: worker processes, so that a
	// definition's runaway expression fails its execution instead of
	// ending the server). At most JSONataPerExecution evaluations of one
	// execution (with its Map iterations, Parallel branches and child
	// executions) or call go through it at once. Default: in this process.
	JSONata asl.JSONataFunc
	// FlushInterval bounds how stale a running execution's history on the
	// mount may be. Default: 1s.
	FlushInterval time.Duration
	Log           *slog.Logger
}

// Server is the endpoint. It is an http.Handler; Close stops it.
type Server struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	machines map[string]*machine      // by ARN
	execs    map[string]*execution    // by ARN
	mapRuns  map[string]*execution    // the parent execution of each Map Run, by the Map Run's ARN
	starting map[string]chan struct{} // closed when the StartExecution writing the record of an execution (by ARN) is done
	closed   bool
	wg       sync.WaitGroup
	// pending is the bytes of events recorded by every execution and not
	// yet on the mount (maxPendingTotal).
	pending atomic.Int64
	unlock  func() // of serverLock
}

// serverLock keeps sfn/ to one server at a time: a second one, loading
// the first's running executions, would close them as interrupted by a
// restart and append ExecutionFailed to the histories the first still
// appends to (seen with two `efspipe serve` on one mount).
const serverLock = "sfn/server.lock"

// New loads what an earlier server left on the mount and registers the
// pipeline's machine. A mount another server (of this process or another,
// on this machine or another) uses is refused with an error of kind
// pipeerr.Busy; Close lets the next one in.
func New(cfg Config) (*Server, error) {
	if cfg.Mount == nil || cfg.Invoke == nil {
		return nil, errors.New("sfnlocal: Mount and Invoke are required")
	}
	if cfg.Pipeline == nil {
		cfg.Pipeline = statemachine.Local()
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Account == "" {
		cfg.Account = "000000000000"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, machines: map[string]*machine{}, execs: map[string]*execution{}, mapRuns: map[string]*execution{}, starting: map[string]chan struct{}{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	unlock, err := cfg.Mount.LockFile(serverLock)
	switch {
	case err == nil:
	case errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission):
		// A mount this process cannot write to (a read-only snapshot, a
		// directory of another user): it serves what is there, as it
		// did before the lock, and can change nothing another server
		// writes (load fails where it would close a running execution).
		cfg.Log.Warn("sfnlocal: serving a mount it cannot write to, without the server lock", "err", err)
		unlock = func() {}
	case pipeerr.KindOf(err) == pipeerr.Busy:
		return nil, pipeerr.Wrap(pipeerr.Busy, err, "sfnlocal: another server uses %s on this mount", path.Dir(serverLock))
	default:
		return nil, err
	}
	s.unlock = unlock
	if err := s.load(); err != nil {
		unlock()
		return nil, err
	}
	return s, nil
}

// Close stops every running execution and waits for it. Each is recorded as
// interrupted (FAILED, States.Runtime), as a crash would leave it after a
// restart, so it can be redriven by the next server.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unlock != nil {
		s.unlock()
		s.unlock = nil
	}
	return nil
}

// MachineArn is the ARN of the machine called name.
func (s *Server) MachineArn(name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", s.cfg.Region, s.cfg.Account, name)
}

func (s *Server) executionArn(machine, name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", s.cfg.Region, s.cfg.Account, machine, name)
}

func (s *Server) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// apiError is an error in the AWS JSON 1.0 shape.
type apiError struct {
	Type    string
	Message string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

// ErrorType returns the API error name of err ("ExecutionAlreadyExists",
// ...), or "" for any other error.
func ErrorType(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Type
	}
	return ""
}

func errorf(typ, format string, args ...any) *apiError {
	return &apiError{Type: typ, Message: fmt.Sprintf(format, args...)}
}

type action func(s *Server, ctx context.Context, body []byte) (any, error)

var actions = map[string]action{
	"ListStateMachines":    call((*Server).listStateMachines),
	"DescribeStateMachine": call((*Server).describeStateMachine),
	"CreateStateMachine":   call((*Server).createStateMachine),
	"UpdateStateMachine":   call((*Server).updateStateMachine),
	"DeleteStateMachine":   call((*Server).deleteStateMachine),
	"StartExecution":       call((*Server).startExecution),
	"DescribeExecution":    call((*Server).describeExecution),
	"ListExecutions":       call((*Server).listExecutions),
	"GetExecutionHistory":  call((*Server).getExecutionHistory),
	"StopExecution":        call((*Server).stopExecution),
	"RedriveExecution":     call((*Server).redriveExecution),

	"ValidateStateMachineDefinition":   call((*Server).validateStateMachineDefinition),
	"DescribeStateMachineForExecution": call((*Server).describeStateMachineForExecution),
	"StartSyncExecution":               call((*Server).startSyncExecution),
	"ListMapRuns":                      call((*Server).listMapRuns),
	"DescribeMapRun":                   call((*Server).describeMapRun),
	"TestState":                        call((*Server).testState),

	"TagResource":         call((*Server).tagResource),
	"UntagResource":       call((*Server).untagResource),
	"ListTagsForResource": call((*Server).listTagsForResource),

	"PublishStateMachineVersion": call((*Server).publishStateMachineVersion),
	"ListStateMachineVersions":   call((*Server).listStateMachineVersions),
	"DeleteStateMachineVersion":  call((*Server).deleteStateMachineVersion),
	"CreateStateMachineAlias":    call((*Server).createStateMachineAlias),
	"DescribeStateMachineAlias":  call((*Server).describeStateMachineAlias),
	"ListStateMachineAliases":    call((*Server).listStateMachineAliases),
	"UpdateStateMachineAlias":    call((*Server).updateStateMachineAlias),
	"DeleteStateMachineAlias":    call((*Server).deleteStateMachineAlias),
}

func call[In, Out any](f func(*Server, context.Context, In) (Out, error)) action {
	return func(s *Server, ctx context.Context, body []byte) (any, error) {
		var in In
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := json.Unmarshal(body, &in); err != nil {
				return nil, errorf("SerializationException", "%v", err)
			}
		}
		return f(s, ctx, in)
	}
}

// maxBody is above the API's largest request (a 1 MiB definition, a 256 KiB
// input) with room for the JSON around it.
const maxBody = 4 << 20

// ServeHTTP answers one API call. The SigV4 signature is not checked: the
// endpoint is local and any credentials will do.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", fmt.Sprintf("%d", time.Now().UnixNano()))
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, errorf("UnknownOperationException", "Step Functions takes POST requests"))
		return
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, "AWSStepFunctions.")
	act := actions[name]
	if !ok || act == nil {
		writeError(w, http.StatusBadRequest, errorf("UnknownOperationException", "unknown operation %q", target))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, errorf("SerializationException", "%v", err))
		return
	}
	if len(body) > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, errorf("ValidationException", "request body over %d bytes", maxBody))
		return
	}
	out, err := act(s, r.Context(), body)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			s.cfg.Log.Error("sfnlocal", "action", name, "err", err)
			writeError(w, http.StatusInternalServerError, errorf("InternalFailure", "%v", err))
			return
		}
		status := http.StatusBadRequest
		if ae.Type == "ServiceUnavailable" {
			// A temporary failure (a server shutting down), which the
			// SDKs retry on its status, not its name: 503, as AWS sends
			// it (CommonErrors.html). With 400 they gave up at once.
			status = http.StatusServiceUnavailable
		}
		writeError(w, status, ae)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeError(w, http.StatusInternalServerError, errorf("InternalFailure", "%v", err))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, e *apiError) {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Type, e.Message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.WriteHeader(status)
	w.Write(b)
}

// epoch is a timestamp as the API sends it: seconds since the epoch with
// milliseconds.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	return fmt.Appendf(nil, "%d.%03d", ms/1000, ms%1000), nil
}

func ptr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// JSONataPerExecution is how many of one execution's JSONata evaluations
// Config.JSONata runs at once: one per core (at least 2). An expression
// that never ends holds its evaluation until its execution is stopped; a
// pool of workers shared by every execution would otherwise be held whole
// by one execution's Map of such expressions, and every other execution
// would wait on it.
func JSONataPerExecution() int { return max(runtime.GOMAXPROCS(0), 2) }

// jsonata is Config.JSONata for one execution or call: at most
// JSONataPerExecution of its evaluations at once.
func (s *Server) jsonata() asl.JSONataFunc {
	eval := s.cfg.JSONata
	if eval == nil {
		return nil
	}
	slots := make(chan struct{}, JSONataPerExecution())
	return func(ctx context.Context, expr string, vars json.RawMessage) (json.RawMessage, error) {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-slots }()
		return eval(ctx, expr, vars)
	}
}
