package jsonataworker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"syscall"

	"github.com/efspipe/efspipe/pkg/asl"
)

// MaxStack is a worker's goroutine stack limit, in bytes: a runaway
// recursion ends its worker within a fraction of a second, instead of
// growing a stack to Go's default 1 GB first. A JSONata evaluation nested
// 10,000 calls deep uses about 20 MB.
const MaxStack = 256 << 20

type request struct {
	Expr string          `json:"expr"`
	Vars json.RawMessage `json:"vars"`
}

type response struct {
	Value json.RawMessage   `json:"value,omitempty"`
	Error *asl.JSONataError `json:"error,omitempty"`
}

// Serve is a worker: it answers requests read from r on w, one JSON object
// per line each way, until r ends (the pool closed its pipe, or the
// process that started it is gone), and then returns nil.
func Serve(r io.Reader, w io.Writer) error {
	debug.SetMaxStack(MaxStack)
	// The worker, not the process serving executions, is the one the
	// kernel's OOM killer should pick when an expression exhausts memory
	// (proc(5): a process may raise its own oom_score_adj). Best effort.
	os.WriteFile("/proc/self/oom_score_adj", []byte("1000"), 0)
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<16))
	enc := json.NewEncoder(w)
	for {
		var req request
		if err := dec.Decode(&req); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		var resp response
		out, err := asl.EvalJSONata(req.Expr, req.Vars)
		var je *asl.JSONataError
		switch {
		case errors.As(err, &je):
			resp.Error = je
		case err != nil:
			resp.Error = &asl.JSONataError{Cause: err.Error()}
		default:
			resp.Value = out
		}
		// After answering, a worker waits idle in the pool, where
		// nothing allocates and so nothing collects: what a large
		// evaluation used (over 1 GB for $count([1..1e7].$string($)))
		// would stay in the worker's resident memory. It is returned to
		// the system first, so that the pool's caller never finds an
		// idle worker holding it.
		if heapBytes() > idleHeap {
			debug.FreeOSMemory()
		}
		if err := enc.Encode(resp); err != nil {
			return err
		}
	}
}

// idleHeap is how much heap, in bytes, a worker keeps between evaluations
// without returning it to the system.
const idleHeap = 64 << 20

// heapBytes is the memory the worker's heap holds, in bytes: live objects,
// garbage not yet collected and free spans not yet returned.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}, {Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	var n uint64
	for _, v := range s {
		if v.Value.Kind() == metrics.KindUint64 {
			n += v.Value.Uint64()
		}
	}
	return n
}

// Pool runs expressions in up to a fixed number of worker processes at
// once, each evaluating one expression at a time. It is safe for
// concurrent use.
type Pool struct {
	start   func() *exec.Cmd
	slots   chan struct{}
	maxIdle int

	mu     sync.Mutex
	idle   []*worker
	all    map[*worker]struct{}
	closed bool
}

// New returns a pool of at most workers worker processes (at least 1),
// each started by start: a command whose process runs Serve on its
// standard input and output. Of those, at most idle (at least 1) are kept
// once they have answered; the others end.
func New(start func() *exec.Cmd, workers, idle int) *Pool {
	return &Pool{start: start, slots: make(chan struct{}, max(workers, 1)), maxIdle: max(idle, 1), all: map[*worker]struct{}{}}
}

// Eval evaluates expr with vars in a worker: it is an asl.JSONataFunc. It
// returns the value as JSON, an *asl.JSONataError when the expression
// fails, ctx's error when ctx ends first (the worker is killed), and
// another error when the worker ended during the evaluation (its message
// quotes what the worker wrote, such as Go's "stack overflow").
func (p *Pool) Eval(ctx context.Context, expr string, vars json.RawMessage) (json.RawMessage, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.slots }()
	w, err := p.get()
	if err != nil {
		return nil, err
	}
	line, err := json.Marshal(request{Expr: expr, Vars: vars})
	if err != nil {
		p.put(w)
		return nil, err
	}
	type reply struct {
		line []byte
		err  error
	}
	ch := make(chan reply, 1)
	go func() {
		if _, err := w.in.Write(append(line, '\n')); err != nil {
			ch <- reply{err: err}
			return
		}
		b, err := w.out.ReadBytes('\n')
		ch <- reply{b, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, p.ended(w, r.err)
		}
		var resp response
		if err := json.Unmarshal(r.line, &resp); err != nil {
			return nil, p.ended(w, fmt.Errorf("unreadable answer: %v", err))
		}
		p.put(w)
		if resp.Error != nil {
			return nil, resp.Error
		}
		return resp.Value, nil
	case <-ctx.Done():
		p.kill(w)
		<-ch
		return nil, ctx.Err()
	}
}

// Close kills every worker; Eval fails after it.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	all := make([]*worker, 0, len(p.all))
	for w := range p.all {
		all = append(all, w)
	}
	p.mu.Unlock()
	for _, w := range all {
		p.kill(w)
	}
	return nil
}

// worker is one worker process.
type worker struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *headBuffer
	done   chan struct{} // closed when the process has been waited for
	err    error         // cmd.Wait's, once done
}

func (p *Pool) get() (*worker, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("the JSONata worker pool is closed")
	}
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return w, nil
	}
	cmd := p.start()
	// A worker busy in an endless evaluation would not see its input
	// close; it goes with the process that started it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	w := &worker{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<16), stderr: &headBuffer{max: 2048}, done: make(chan struct{})}
	cmd.Stderr = w.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting a JSONata worker: %w", err)
	}
	go func() {
		w.err = cmd.Wait()
		close(w.done)
	}()
	p.all[w] = struct{}{}
	return w, nil
}

func (p *Pool) put(w *worker) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle) >= p.maxIdle {
		go p.kill(w)
		return
	}
	p.idle = append(p.idle, w)
}

// kill ends w's process and forgets it.
func (p *Pool) kill(w *worker) {
	p.mu.Lock()
	delete(p.all, w)
	p.mu.Unlock()
	w.in.Close()
	w.cmd.Process.Kill()
	<-w.done
}

// ended reports a worker that stopped answering: it is killed if it has
// not ended, and the error says how it ended and what it wrote.
func (p *Pool) ended(w *worker, cause error) error {
	p.kill(w)
	why := w.stderr.summary()
	if why == "" {
		why = cause.Error()
	}
	return fmt.Errorf("the JSONata evaluator's process ended (%v): %s", w.err, why)
}

// headBuffer keeps the first max bytes written to it: where Go prints a
// fatal error, before the goroutine dump that follows it.
type headBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (h *headBuffer) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if room := h.max - h.b.Len(); room > 0 {
		h.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// summary is the lines of Go's fatal error report that say what happened
// ("runtime: goroutine stack exceeds 268435456-byte limit", "fatal error:
// stack overflow"), or else the first line written.
func (h *headBuffer) summary() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var keep []string
	lines := strings.Split(h.b.String(), "\n")
	runtime := false
	for _, l := range lines {
		// The first "runtime:" line says what ran out; the ones after
		// it are addresses.
		if strings.HasPrefix(l, "runtime: ") && !runtime || strings.HasPrefix(l, "fatal error: ") {
			keep = append(keep, l)
			runtime = runtime || strings.HasPrefix(l, "runtime: ")
		}
	}
	if len(keep) == 0 && len(lines) > 0 {
		keep = lines[:1]
	}
	return strings.TrimSpace(strings.Join(keep, "; "))
}
