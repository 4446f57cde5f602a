package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jsonataworker"
	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/publish"
	"github.com/efspipe/efspipe/pkg/secret"
	"github.com/efspipe/efspipe/pkg/sfnlocal"
	"github.com/efspipe/efspipe/pkg/source"
)

// cmdServe runs the local Step Functions endpoint until ctx ends (SIGINT,
// SIGTERM). Executions still running then are recorded as interrupted and
// can be redriven by the next serve.
func cmdServe(ctx context.Context, args []string, _, stderr io.Writer) error {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	var c common
	c.register(fl)
	addr := fl.String("addr", envOr("EFSPIPE_ADDR", "127.0.0.1:8083"), "listen on `HOST:PORT` (loopback unless you say otherwise: requests are not authenticated)")
	inbox := fl.String("inbox", "", "start an execution for every file dropped in `DIR` (moved to DIR/processed when it succeeded, DIR/failed with NAME.error when not)")
	settle := spanFlag(fl, "inbox-settle", sfnlocal.DefaultSettle, "take an inbox file once its size and modification time have not changed for this long (a writer that pauses longer should write NAME.part and rename)")
	objects := fl.String("objects", "", "keep the S3 objects of distributed Maps' ItemReader and ResultWriter in `DIR`: s3://BUCKET/KEY is DIR/BUCKET/KEY (default: objects/ on the mount)")
	var allow []string
	fl.Func("allow-source", "read local sources named in execution inputs only under `DIR` (repeatable; default: the inbox only)", func(dir string) error {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
			return fmt.Errorf("--allow-source %s: not a directory", dir)
		}
		allow = append(allow, abs)
		return nil
	})
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return usageError{"serve takes no arguments"}
	}
	log, err := c.logger(stderr, slog.LevelWarn)
	if err != nil {
		return err
	}
	if *inbox != "" {
		abs, err := filepath.Abs(*inbox)
		if err != nil {
			return err
		}
		allow = append(allow, abs)
	}
	m, err := c.openMount()
	if err != nil {
		return err
	}
	defer m.Close()
	out, err := publish.Open(ctx, c.out, nil)
	if err != nil {
		return err
	}
	defer out.Close()
	if err := out.Check(ctx); err != nil {
		return err
	}
	// Requests are not authenticated, and the server reads with its own
	// privileges: only files under the roots the operator named.
	p, err := local.New(local.Config{Mount: m, Out: out, Log: log, Sources: source.Files{Confined: true, Roots: allow}, Secrets: localSecrets(true, allow)})
	if err != nil {
		return err
	}
	objs, err := openObjects(m, *objects)
	if err != nil {
		return err
	}
	defer objs.Close()
	// A definition's JSONata runs in worker processes: an expression that
	// recurses without bound would otherwise end serve with every
	// execution in it (jsonataworker). One execution evaluates in at most
	// sfnlocal.JSONataPerExecution of them at once, so that expressions
	// that never end hold only their own execution's share of the pool
	// (four shares: each busy worker may hold as much memory as its
	// expression takes); as many stay idle.
	perExec := sfnlocal.JSONataPerExecution()
	jsonata := jsonataworker.New(jsonataWorker, 4*perExec, perExec)
	defer jsonata.Close()
	srv, err := sfnlocal.New(sfnlocal.Config{Mount: m, Invoke: p.Functions().Invoke, Lock: p.LockExecution, CheckInput: secret.CheckInput,
		Objects: sfnlocal.DirObjects{Dir: objs}, JSONata: jsonata.Eval, Log: log})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
		fmt.Fprintf(stderr, "efspipe serve: warning: %s is reachable from other machines, and requests are not authenticated\n", ln.Addr())
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stderr, "efspipe serve: Step Functions endpoint on %s\n  aws stepfunctions list-state-machines --endpoint-url %s\n  state machine: %s\n",
		url, url, srv.MachineArn(sfnlocal.PipelineName))
	if len(allow) == 0 {
		fmt.Fprintf(stderr, "  local sources: none allowed (--allow-source DIR, or --inbox DIR)\n")
	} else {
		fmt.Fprintf(stderr, "  local sources: under %s only\n", strings.Join(allow, ", "))
	}
	fmt.Fprintf(stderr, "  objects: s3://BUCKET/KEY is %s\n", filepath.Join(objs.Dir(), "BUCKET", "KEY"))
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	var wg sync.WaitGroup
	ictx, stopInbox := context.WithCancel(ctx)
	defer stopInbox()
	if *inbox != "" {
		fmt.Fprintf(stderr, "  inbox: %s\n", *inbox)
		wg.Go(func() {
			ib := &sfnlocal.Inbox{Dir: *inbox, Server: srv, Settle: *settle, Log: log}
			if err := ib.Run(ictx); err != nil {
				log.Error("inbox stopped", "err", err)
			}
		})
	}
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	stopInbox()
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(shut)
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, srv.Close())
}

// openObjects opens the objects folder as a jobfs.Mount, through whose
// os.Root every object goes: dir, which must exist, or by default objects/
// on the mount, created if missing.
func openObjects(m *jobfs.Mount, dir string) (*jobfs.Mount, error) {
	if dir == "" {
		return jobfs.Open(filepath.Join(m.Dir(), "objects"))
	}
	// A folder named on the command line must exist: a typo is not a new
	// empty store.
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("--objects %s: not a directory", dir)
	}
	return jobfs.Open(dir)
}

// jsonataWorkerEnv, set in its environment, makes this program a JSONata
// worker of serve (jsonataworker.Serve) instead of the CLI.
const jsonataWorkerEnv = "EFSPIPE_JSONATA_WORKER"

// jsonataWorker is the command of one of serve's JSONata workers: this
// same executable.
func jsonataWorker() *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), jsonataWorkerEnv+"=1")
	return cmd
}

// runJSONataWorker serves JSONata evaluations on standard input and output
// and returns the exit code.
func runJSONataWorker() int {
	if err := jsonataworker.Serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "efspipe JSONata worker:", err)
		return 1
	}
	return 0
}
