package main

import (
	"io"
	"os"
	"sync"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows pages split and compressed as two bars on a terminal, and
// nothing when stderr is a file or a pipe (logs and CI stay clean).
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	on     bool
	bars   map[string]*progressbar.ProgressBar
	closed bool
}

func newProgress(w io.Writer, quiet bool) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, on: !quiet && ok && term.IsTerminal(int(f.Fd())), bars: map[string]*progressbar.ProgressBar{}}
}

var labels = map[string]string{"split": "pages split     ", "compressed": "pages compressed"}

func (p *progress) Total(kind string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.on || p.closed {
		return
	}
	if b, ok := p.bars[kind]; ok {
		b.ChangeMax(n)
		return
	}
	p.bars[kind] = progressbar.NewOptions(n,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(labels[kind]),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionOnCompletion(func() { io.WriteString(p.w, "\n") }),
	)
}

func (p *progress) Add(kind string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := p.bars[kind]; ok && !p.closed {
		b.Add(n)
	}
}

// Close finishes the bars so later output starts on a clean line.
func (p *progress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, b := range p.bars {
		b.Exit()
	}
}
