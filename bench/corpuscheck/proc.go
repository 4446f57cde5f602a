package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// proc is how one external process ended.
type proc struct {
	exit     int    // exit code; -1 when it did not exit on its own
	signal   string // the signal that ended it, unless it timed out
	timedOut bool   // killed at the timeout
	wall     time.Duration
	stdout   []byte // the first captureBytes, when no writer was given
	stderr   []byte // the first captureBytes
}

// captureBytes bounds what is kept of a tool's stdout and stderr: a
// runaway tool must not fill memory, and a cause is read in its first line.
const captureBytes = 64 << 10

// capped keeps the first n bytes written to it and drops the rest.
type capped struct {
	buf []byte
	n   int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.n - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// errStart is a tool that could not be started at all: the run cannot go
// on, it is not a property of the file.
var errStart = errors.New("cannot start")

// run runs name with args, killing it after timeout. stdout, when not nil,
// receives the tool's stdout instead of capturing it. The error is only
// for a tool that could not be started or a cancelled ctx (the whole run
// is being interrupted): every other ending is described by proc.
func run(ctx context.Context, timeout time.Duration, stdout io.Writer, name string, args ...string) (proc, error) {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(tctx, name, args...)
	out, errb := &capped{n: captureBytes}, &capped{n: captureBytes}
	cmd.Stdout = out
	if stdout != nil {
		cmd.Stdout = stdout
	}
	cmd.Stderr = errb
	// A killed tool's own children could keep its pipes open: stop
	// waiting for them.
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	p := proc{exit: -1, wall: time.Since(start), stdout: out.buf, stderr: errb.buf}
	if ctx.Err() != nil {
		return p, ctx.Err()
	}
	if cmd.ProcessState == nil {
		return p, errors.Join(errStart, err)
	}
	p.exit = cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		p.signal = ws.Signal().String()
	}
	if p.exit == -1 && tctx.Err() != nil {
		p.timedOut, p.signal = true, ""
	}
	return p, nil
}

// firstLine is the first non-blank line of b, trimmed, at most 300 bytes.
func firstLine(b []byte) string {
	for line := range strings.Lines(string(b)) {
		if s := strings.TrimSpace(line); s != "" {
			return clip(s, 300)
		}
	}
	return ""
}

// lastLine is the last non-blank line of b.
func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, " \t\r\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return bytes.TrimSpace(b[i+1:])
	}
	return bytes.TrimSpace(b)
}

// clip cuts s to at most n bytes, on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// panicPattern matches what Go prints for a panic and its stack: the
// "panic:" line, a runtime error, a goroutine header, a frame's file:line
// with its PC offset.
var panicPattern = regexp.MustCompile(`(?m)(^|\W)panic: |runtime error: |^goroutine \d+ \[|\.go:\d+ \+0x[0-9a-f]+`)

// panicText returns the line of s holding panic or stack text, or "".
func panicText(s string) string {
	loc := panicPattern.FindStringIndex(s)
	if loc == nil {
		return ""
	}
	start := strings.LastIndexByte(s[:loc[0]], '\n') + 1
	end := len(s)
	if i := strings.IndexByte(s[loc[1]:], '\n'); i >= 0 {
		end = loc[1] + i
	}
	return clip(strings.TrimSpace(s[start:end]), 300)
}
