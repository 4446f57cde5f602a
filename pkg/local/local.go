package local

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/publish"
	"github.com/efspipe/efspipe/pkg/secret"
	"github.com/efspipe/efspipe/pkg/source"
	"github.com/efspipe/efspipe/pkg/stage"
	"github.com/efspipe/efspipe/stages/checkpoint"
	"github.com/efspipe/efspipe/stages/compress"
	"github.com/efspipe/efspipe/stages/finalize"
	"github.com/efspipe/efspipe/stages/ingest"
	"github.com/efspipe/efspipe/stages/split"
	"github.com/efspipe/efspipe/statemachine"
)

// Config is what a local pipeline needs. Zero values are defaults where
// documented.
type Config struct {
	Mount *jobfs.Mount
	Out   *publish.Target
	// Sources resolves execution inputs' "source". Default: local files.
	Sources source.Opener
	// Settings are defaults for new jobs (flags); the mount's shared config
	// and built-in defaults fill the rest.
	Settings jobspec.Settings
	// SplitWorkers is the split stage's parallelism (split.Stage.Workers).
	SplitWorkers int
	Progress     stage.Progress
	Log          *slog.Logger
	// Secrets resolves password references in split. Default: none
	// resolved (a reference fails the execution as InvalidInput).
	Secrets *secret.Resolver
	// Hook, if set, runs before every stage invocation (fault injection).
	Hook Hook
	// Sleep replaces the engine's Retry waits (tests).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Pipeline is the state machine bound to in-process stages.
type Pipeline struct {
	cfg       Config
	machine   *asl.Machine
	functions *Functions
}

// New builds the stages and parses the embedded definition.
func New(cfg Config) (*Pipeline, error) {
	cfg = cfg.withDefaults()
	machine, err := asl.Parse(statemachine.Local())
	if err != nil {
		return nil, err
	}
	return &Pipeline{cfg: cfg, machine: machine, functions: NewFunctions(Handlers(cfg), cfg.Hook)}, nil
}

func (cfg Config) withDefaults() Config {
	if cfg.Sources == nil {
		cfg.Sources = source.Files{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Handlers builds the five stages and wraps each as its Lambda main does.
func Handlers(cfg Config) map[string]any {
	cfg = cfg.withDefaults()
	log := cfg.Log
	return map[string]any{
		"ingest":     stage.Handler("ingest", log, (&ingest.Stage{Mount: cfg.Mount, Sources: cfg.Sources, Settings: cfg.Settings, Log: log}).Handle),
		"split":      stage.Handler("split", log, (&split.Stage{Mount: cfg.Mount, Workers: cfg.SplitWorkers, Progress: cfg.Progress, Log: log, Secrets: cfg.Secrets}).Handle),
		"compress":   stage.Handler("compress", log, (&compress.Stage{Mount: cfg.Mount, Progress: cfg.Progress, Log: log}).Handle),
		"checkpoint": stage.Handler("checkpoint", log, (&checkpoint.Stage{Mount: cfg.Mount, Log: log}).Handle),
		"finalize":   stage.Handler("finalize", log, (&finalize.Stage{Mount: cfg.Mount, Out: cfg.Out, Log: log}).Handle),
	}
}

// Machine is the parsed definition.
func (p *Pipeline) Machine() *asl.Machine { return p.machine }

// Functions is the in-process function registry (for other engines' use,
// such as the local Step Functions endpoint).
func (p *Pipeline) Functions() *Functions { return p.functions }

// Input is an execution input.
type Input struct {
	Source  string `json:"source"`
	Version string `json:"version,omitempty"`
	// SHA256 is the content hash of a local source, when the starter knows
	// it (the inbox does): the job is then known without reading the file,
	// and ingest can trust the job's verified copy on the mount if the file
	// has moved since.
	SHA256 string `json:"sha256,omitempty"`
	// The reference to a PDF's password (never the password: the input is
	// kept in the execution history).
	secret.Ref
}

// LockExecution is sfnlocal.Config.Lock for this pipeline: it takes the
// lock of the job an execution input names (the job known from an earlier
// run of the execution, else the input's "sha256", else its source,
// resolved as ingest resolves it), waiting for another holder until ctx
// ends. An input whose source cannot be resolved locks nothing: ingest
// then fails the execution saying why. Other errors are reported as a
// stage's error would be.
func (p *Pipeline) LockExecution(ctx context.Context, known string, input json.RawMessage) (string, func(), error) {
	id := known
	if id == "" {
		var in Input
		if json.Unmarshal(input, &in) != nil || in.Source == "" {
			return "", nil, nil
		}
		if id = jobfs.FileJobIDOf(in.SHA256); id == "" || source.IsS3(in.Source) {
			obj, err := p.cfg.Sources.Stat(ctx, in.Source, in.Version)
			if err != nil {
				return "", nil, nil
			}
			id = obj.JobID
		}
	}
	job, err := jobfs.NewJob(id)
	if err != nil {
		return "", nil, nil
	}
	unlock, err := p.cfg.Mount.LockWait(ctx, job)
	if err != nil {
		if ctx.Err() != nil {
			return "", nil, ctx.Err()
		}
		return "", nil, lambdaError(pipeerr.ForLambda(err))
	}
	return job.ID, unlock, nil
}

// Result is a finished execution's outcome.
type Result = finalize.Out

// Run executes the state machine once on in and returns the outcome. A job
// that fails (a bad PDF) is a Result with Status FAILED, not an error; the
// error is for executions that could not finish (an I/O failure after the
// retries, a cancelled context).
func (p *Pipeline) Run(ctx context.Context, in Input, onEvent func(asl.Event)) (Result, error) {
	input, err := json.Marshal(in)
	if err != nil {
		return Result{}, err
	}
	out, err := p.machine.Execute(ctx, input, asl.Options{Invoke: p.functions.Invoke, OnEvent: onEvent, Sleep: p.cfg.Sleep})
	return result(out, err)
}

func result(out json.RawMessage, err error) (Result, error) {
	var ee *asl.ExecutionError
	if errors.As(err, &ee) {
		return Result{Status: jobspec.Failed, Error: ee.Name, Cause: finalize.CauseMessage(ee.Cause)}, nil
	}
	if err != nil {
		return Result{}, err
	}
	var r Result
	if err := json.Unmarshal(out, &r); err != nil {
		return Result{}, err
	}
	return r, nil
}
