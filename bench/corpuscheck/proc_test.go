package main

import (
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		script   string
		timeout  time.Duration
		exit     int
		signal   string
		timedOut bool
		stdout   string
		stderr   string
	}{
		{"exit 0", "echo out; echo err >&2", time.Minute, 0, "", false, "out\n", "err\n"},
		{"exit 3", "exit 3", time.Minute, 3, "", false, "", ""},
		{"killed by a signal", "kill -SEGV $$", time.Minute, -1, "segmentation fault", false, "", ""},
		{"timed out", "exec sleep 60", 50 * time.Millisecond, -1, "", true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := run(t.Context(), tt.timeout, nil, "/bin/sh", "-c", tt.script)
			if err != nil {
				t.Fatal(err)
			}
			if p.exit != tt.exit || p.signal != tt.signal || p.timedOut != tt.timedOut || string(p.stdout) != tt.stdout || string(p.stderr) != tt.stderr {
				t.Errorf("got exit %d signal %q timedOut %v stdout %q stderr %q", p.exit, p.signal, p.timedOut, p.stdout, p.stderr)
			}
		})
	}
	if _, err := run(t.Context(), time.Minute, nil, "/nonexistent/tool"); err == nil {
		t.Error("a tool that cannot start is not an error")
	}
}

func TestRunCapsOutput(t *testing.T) {
	p, err := run(t.Context(), time.Minute, nil, "/bin/sh", "-c", "head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2")
	if err != nil || p.exit != 0 {
		t.Fatal(err, p.exit)
	}
	if len(p.stdout) != captureBytes || len(p.stderr) != captureBytes {
		t.Errorf("kept %d and %d bytes, want %d each", len(p.stdout), len(p.stderr), captureBytes)
	}
}

func TestPanicText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"refusal", `efspipe: a.pdf: damaged: the PDF cannot be parsed: xref table: missing trailer Size`, ""},
		{"efspipe's own word", "internal error: splitting page 3 panicked", ""},
		{"a panic in the cause", "damaged: the PDF parser failed on this file: panic: runtime error: invalid memory address or nil pointer dereference",
			"damaged: the PDF parser failed on this file: panic: runtime error: invalid memory address or nil pointer dereference"},
		{"a runtime error alone", "damaged: runtime error: index out of range [3] with length 3", "damaged: runtime error: index out of range [3] with length 3"},
		{"a crash on stderr", "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:12 +0x1d\n", "panic: boom"},
		{"a stack alone", "efspipe: x.pdf: something\n\tgithub.com/pdfcpu/pdfcpu/pkg/pdfcpu/read.go:123 +0x4f\n", "github.com/pdfcpu/pdfcpu/pkg/pdfcpu/read.go:123 +0x4f"},
		{"a goroutine header", "goroutine 7 [chan receive]:\n", "goroutine 7 [chan receive]:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := panicText(tt.in); got != tt.want {
				t.Errorf("panicText = %q, want %q", got, tt.want)
			}
		})
	}
}
