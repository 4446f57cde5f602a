package sfnlocal

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/efspipe/efspipe/pkg/source"
)

// ProcessedDir is where Inbox moves a file whose execution succeeded, and
// FailedDir where it moves one whose execution failed, with a one-line
// <name>.error beside it.
const (
	ProcessedDir = "processed"
	FailedDir    = "failed"
)

// Inbox starts an execution for every file that appears in a directory,
// as the S3 trigger does for an upload: named by the job ID of the file's
// content, with input {"source": path, "sha256": content hash}. Dropping
// the same bytes again starts nothing (the name is taken). Files are never
// deleted: once the execution has ended the file moves to processed/ or,
// if it failed, to failed/ beside a <name>.error saying why.
//
// A file is taken only when complete: names writers use while writing
// (dot-files, *.part, *.tmp, ...) are ignored, so a writer that writes
// under such a name and renames the file into place is never read early;
// any other file is taken once its size and modification time have not
// changed for Settle.
//
// An execution a previous server left unfinished (killed, restarted) is
// redriven when the inbox starts, and a file whose execution failed for a
// reason a rerun can fix is redriven when it is dropped again.
type Inbox struct {
	Dir    string
	Server *Server
	// MachineArn is the machine to start. Default: the pipeline.
	MachineArn string
	// Settle is how long a file's size and modification time must stay the
	// same before it is taken. Default: 5s.
	Settle time.Duration
	// Poll is the interval between directory scans. Default: Settle/10,
	// at most 500ms.
	Poll time.Duration
	Log  *slog.Logger
}

// DefaultSettle is Inbox.Settle's default: longer than the pauses of
// ordinary writers (a copy over a slow link, an editor's save), short
// enough that a dropped file starts soon. A writer that may pause longer
// should write under a temporary name and rename.
const DefaultSettle = 5 * time.Second

type fileState struct {
	size int64
	mod  time.Time
}

// seen is a file's state and since when it has had it.
type seen struct {
	state fileState
	since time.Time
}

// Run watches the directory until ctx ends, then waits for nothing: the
// executions go on in the server (Close stops them).
func (in *Inbox) Run(ctx context.Context) error {
	if in.Settle <= 0 {
		in.Settle = DefaultSettle
	}
	if in.Poll <= 0 {
		in.Poll = min(in.Settle/10, 500*time.Millisecond)
	}
	if in.Log == nil {
		in.Log = slog.New(slog.DiscardHandler)
	}
	if in.MachineArn == "" {
		in.MachineArn = in.Server.MachineArn(PipelineName)
	}
	dir, err := filepath.Abs(in.Dir)
	if err != nil {
		return err
	}
	for _, sub := range []string{ProcessedDir, FailedDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	in.resume(dir)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		files = map[string]seen{}
		busy  = map[string]bool{}
	)
	defer wg.Wait()
	t := time.NewTicker(in.Poll)
	defer t.Stop()
	for {
		ents, err := os.ReadDir(dir)
		if err != nil {
			in.Log.Warn("inbox: cannot list", "dir", dir, "err", err)
		}
		now := time.Now()
		present := map[string]bool{}
		for _, e := range ents {
			name := e.Name()
			if !e.Type().IsRegular() || ignored(name) {
				continue
			}
			present[name] = true
			fi, err := e.Info()
			if err != nil {
				continue
			}
			cur := fileState{fi.Size(), fi.ModTime()}
			mu.Lock()
			prev, ok := files[name]
			if !ok || prev.state != cur {
				prev = seen{cur, now}
				files[name] = prev
			}
			start := now.Sub(prev.since) >= in.Settle && !busy[name]
			if start {
				busy[name] = true
			}
			mu.Unlock()
			if !start {
				continue
			}
			wg.Go(func() {
				in.handle(ctx, dir, name, cur)
				mu.Lock()
				delete(busy, name)
				delete(files, name)
				mu.Unlock()
			})
		}
		mu.Lock()
		for name := range files {
			if !present[name] && !busy[name] {
				delete(files, name)
			}
		}
		mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// ignored are names writers use while a file is incomplete; such a file
// starts when it is renamed to its final name.
func ignored(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~") || strings.HasSuffix(name, "~") {
		return true
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", ".error":
		return true
	}
	return false
}

// inboxInput is the input of an inbox execution.
type inboxInput struct {
	Source string `json:"source"`
	SHA256 string `json:"sha256,omitempty"`
}

// resume redrives the executions of this inbox that the previous server
// left unfinished; the scan then waits for them and moves their files.
func (in *Inbox) resume(dir string) {
	for _, x := range in.Server.Executions(in.MachineArn) {
		var inp inboxInput
		if !x.Interrupted() || json.Unmarshal([]byte(x.Input), &inp) != nil || filepath.Dir(inp.Source) != dir {
			continue
		}
		if err := in.Server.Redrive(x.Arn); err != nil {
			in.Log.Warn("inbox: interrupted execution not redriven", "execution", x.Arn, "err", err)
			continue
		}
		in.Log.Info("inbox: redriving an execution a restart interrupted", "execution", x.Arn, "file", inp.Source)
	}
}

func (in *Inbox) handle(ctx context.Context, dir, name string, settled fileState) {
	p := filepath.Join(dir, name)
	obj, err := source.Files{Confined: true, Roots: []string{dir}}.Stat(ctx, p, "")
	if err != nil {
		if ctx.Err() == nil {
			in.Log.Warn("inbox: cannot read", "file", p, "err", err)
			in.fail(dir, name, "InvalidInput.BadRequest", err.Error())
		}
		return
	}
	input, _ := json.Marshal(inboxInput{Source: p, SHA256: obj.SHA256})
	arn, err := in.Server.Start(in.MachineArn, obj.JobID, string(input))
	switch ErrorType(err) {
	case "":
		in.Log.Info("inbox: started", "file", p, "execution", arn)
	case "ExecutionAlreadyExists":
		// The same bytes were dropped before: that job is this file's job.
		// If it failed for a reason a rerun can fix, run it again.
		arn = in.Server.ExecutionArn(in.MachineArn, obj.JobID)
		if x, err := in.Server.Describe(arn); err == nil && redrivable(x) {
			if err := in.Server.Redrive(arn); err != nil && ErrorType(err) != "ExecutionNotRedrivable" {
				in.Log.Warn("inbox: not redriven", "file", p, "execution", arn, "err", err)
				return
			}
			in.Log.Info("inbox: redriving the job's failed execution", "file", p, "execution", arn)
		} else {
			in.Log.Info("inbox: already a job", "file", p, "execution", arn)
		}
	default:
		in.Log.Warn("inbox: not started", "file", p, "err", err)
		return
	}
	if _, err := in.Server.Wait(ctx, arn); err != nil {
		return // stopping: the file stays for the next server
	}
	x, err := in.Server.Describe(arn)
	if err != nil || x.Interrupted() {
		return // the server is stopping: the next one redrives it
	}
	if fi, err := os.Stat(p); err != nil || (fileState{fi.Size(), fi.ModTime()}) != settled {
		// Overwritten meanwhile: other bytes, another job, next scan.
		in.Log.Info("inbox: changed while its job ran; left for the next scan", "file", p)
		return
	}
	if x.Status == "SUCCEEDED" {
		dst, err := moveAside(dir, ProcessedDir, name)
		if err != nil {
			in.Log.Warn("inbox: cannot move aside", "file", p, "err", err)
			return
		}
		in.Log.Info("inbox: done", "file", dst, "status", x.Status)
		return
	}
	in.fail(dir, name, x.Error, cmp.Or(x.Cause, x.Status))
}

// fail moves name to failed/ with a one-line <name>.error beside it.
func (in *Inbox) fail(dir, name, errName, cause string) {
	dst, err := moveAside(dir, FailedDir, name)
	if err != nil {
		in.Log.Warn("inbox: cannot move aside", "file", filepath.Join(dir, name), "err", err)
		return
	}
	line := strings.Join(strings.Fields(causeMessage(cause)), " ")
	if errName != "" {
		line = errName + ": " + line
	}
	if err := os.WriteFile(dst+".error", []byte(line+"\n"), 0o644); err != nil {
		in.Log.Warn("inbox: cannot write the error", "file", dst, "err", err)
	}
	in.Log.Info("inbox: failed", "file", dst, "error", line)
}

// redrivable reports whether a finished execution is worth running again:
// it failed, but not on its input.
func redrivable(x Execution) bool {
	switch x.Status {
	case "FAILED", "TIMED_OUT", "ABORTED":
		return !strings.HasPrefix(x.Error, "InvalidInput.")
	}
	return false
}

// causeMessage is the readable message of a Lambda error cause (the JSON
// error payload Step Functions delivers), or the cause itself.
func causeMessage(cause string) string {
	var p struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if strings.HasPrefix(strings.TrimSpace(cause), "{") && json.Unmarshal([]byte(cause), &p) == nil && p.ErrorMessage != "" {
		return p.ErrorMessage
	}
	return cause
}

// moveAside moves name to sub/, never over another file.
func moveAside(dir, sub, name string) (string, error) {
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for i := 0; i < 1000; i++ {
		target := name
		if i > 0 {
			target = fmt.Sprintf("%s.%d%s", base, i, ext)
		}
		dst := filepath.Join(dir, sub, target)
		if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if _, err := os.Lstat(dst + ".error"); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		return dst, os.Rename(filepath.Join(dir, name), dst)
	}
	return "", fmt.Errorf("inbox: no free name for %s in %s", name, sub)
}
