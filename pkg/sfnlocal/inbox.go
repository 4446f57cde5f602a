package sfnlocal

import (
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

// ProcessedDir is where Inbox moves a file once its execution has ended.
const ProcessedDir = "processed"

// Inbox starts an execution for every file that appears in a directory,
// as the S3 trigger does for an upload: named by the job ID of the file's
// content, with input {"source": path}. Dropping the same bytes again
// starts nothing (the name is taken). Files are never deleted: once the
// execution has ended, whatever its status, the file moves to processed/.
type Inbox struct {
	Dir    string
	Server *Server
	// MachineArn is the machine to start. Default: the pipeline.
	MachineArn string
	// Poll is the interval between directory scans; a file starts once its
	// size and modification time are the same in two scans. Default: 500ms.
	Poll time.Duration
	Log  *slog.Logger
}

type fileState struct {
	size int64
	mod  time.Time
}

// Run watches the directory until ctx ends, then waits for nothing: the
// executions go on in the server (Close stops them).
func (in *Inbox) Run(ctx context.Context) error {
	if in.Poll <= 0 {
		in.Poll = 500 * time.Millisecond
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
	if err := os.MkdirAll(filepath.Join(dir, ProcessedDir), 0o755); err != nil {
		return err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]fileState{}
		busy = map[string]bool{}
	)
	defer wg.Wait()
	t := time.NewTicker(in.Poll)
	defer t.Stop()
	for {
		ents, err := os.ReadDir(dir)
		if err != nil {
			in.Log.Warn("inbox: cannot list", "dir", dir, "err", err)
		}
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
			prev, ok := seen[name]
			seen[name] = cur
			start := ok && prev == cur && !busy[name]
			if start {
				busy[name] = true
			}
			mu.Unlock()
			if !start {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				in.handle(ctx, dir, name, cur)
				mu.Lock()
				delete(busy, name)
				delete(seen, name)
				mu.Unlock()
			}()
		}
		mu.Lock()
		for name := range seen {
			if !present[name] && !busy[name] {
				delete(seen, name)
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
	case ".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp":
		return true
	}
	return false
}

func (in *Inbox) handle(ctx context.Context, dir, name string, settled fileState) {
	p := filepath.Join(dir, name)
	obj, err := source.Files{}.Stat(ctx, p, "")
	if err != nil {
		in.Log.Warn("inbox: cannot read", "file", p, "err", err)
		return
	}
	input, _ := json.Marshal(map[string]string{"source": p})
	arn, err := in.Server.Start(in.MachineArn, obj.JobID, string(input))
	switch ErrorType(err) {
	case "":
		in.Log.Info("inbox: started", "file", p, "execution", arn)
	case "ExecutionAlreadyExists":
		// The same bytes were dropped before: that job is this file's job.
		arn = in.Server.ExecutionArn(in.MachineArn, obj.JobID)
		in.Log.Info("inbox: already a job", "file", p, "execution", arn)
	default:
		in.Log.Warn("inbox: not started", "file", p, "err", err)
		return
	}
	status, err := in.Server.Wait(ctx, arn)
	if err != nil {
		return // stopping: the file stays for the next server
	}
	if fi, err := os.Stat(p); err != nil || (fileState{fi.Size(), fi.ModTime()}) != settled {
		// Overwritten meanwhile: other bytes, another job, next scan.
		in.Log.Info("inbox: changed while its job ran; left for the next scan", "file", p)
		return
	}
	dst, err := moveAside(dir, name)
	if err != nil {
		in.Log.Warn("inbox: cannot move aside", "file", p, "err", err)
		return
	}
	in.Log.Info("inbox: done", "file", dst, "status", status)
}

// moveAside moves name to processed/, never over another file.
func moveAside(dir, name string) (string, error) {
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for i := 0; i < 1000; i++ {
		target := name
		if i > 0 {
			target = fmt.Sprintf("%s.%d%s", base, i, ext)
		}
		dst := filepath.Join(dir, ProcessedDir, target)
		if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		return dst, os.Rename(filepath.Join(dir, name), dst)
	}
	return "", fmt.Errorf("inbox: no free name for %s in %s", name, ProcessedDir)
}
