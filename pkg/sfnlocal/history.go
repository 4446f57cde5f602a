package sfnlocal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"path"
	"time"

	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/pkg/jobfs"
)

// An execution's history is kept on the mount as JSON Lines, one event per
// line in the order recorded, and only ever appended to (jobfs.Append): a
// flush writes the events recorded since the last one, so its cost does
// not grow with the history, and a crash can tear only the last line,
// which load cuts.
const historyFile = "history.jsonl"

// legacyHistoryFile is where servers before the append-only history kept
// it: one JSON array, rewritten whole at each flush. load converts it.
const legacyHistoryFile = "history.json"

// maxPending bounds the bytes of events recorded but not yet on the mount
// (bytes): past it the next event is flushed before the execution goes on,
// so an execution recording faster than FlushInterval holds no more than
// this in memory, whatever the size of its states' data.
const maxPending = 4 << 20

// maxPendingTotal bounds the same bytes over all executions (bytes): past
// it, an execution that records flushes its own events before it goes on,
// as past maxPending, so executions recording large states together hold
// this much rather than maxPending each (40 loops of 200 KB states peaked
// serve at 363 MB with only maxPending, 189 MB with it). The price is more, smaller
// writes while over it, each with its fsync; an execution holding less
// than minShare waits for its next flush, so that a state recorded while
// over is not a write of one small event.
const (
	maxPendingTotal = 32 << 20
	minShare        = 1 << 20
)

// maxPageBytes bounds the events of one GetExecutionHistory page (bytes,
// as recorded): their data is read, decoded and encoded again for each
// call, so without it a page of 1,000 events of 256 KiB would be held
// several times over.
const maxPageBytes = 4 << 20

// history is an execution's history as the server holds it: what its
// summary needs (the count, the last event, the redrives) and where each
// event's line ends. The events themselves are read from the mount when
// asked for, except those recorded since the last flush (pending), so a
// history's memory is 8 bytes per event and at most maxPending of data,
// not the events' size: a loop carrying 20 KB of state to the quota of
// 25,000 events peaked serve at 2.7 GB when histories were held whole,
// 60-140 MB since.
type history struct {
	// ends[i] is where event i's line ends, counted in the history's
	// bytes: the file's, then pending's.
	ends     []int64
	written  int64  // bytes of the history on the mount
	pending  []byte // lines not yet on the mount
	last     asl.Event
	redrives int       // ExecutionRedriven events
	redriven time.Time // the last one's timestamp
}

func (h *history) len() int { return len(h.ends) }

// start is where event i's line starts (0 ≤ i ≤ len).
func (h *history) start(i int) int64 {
	if i == 0 {
		return 0
	}
	return h.ends[i-1]
}

// note takes e, whose line ends at end, into what the summary needs.
func (h *history) note(e asl.Event, end int64) {
	h.ends = append(h.ends, end)
	h.last = e
	if e.Type == "ExecutionRedriven" {
		h.redrives++
		h.redriven = e.Timestamp
	}
}

// add records e, to be written by the next flush.
func (h *history) add(e asl.Event) error {
	// Not json.Marshal, which would scan the result again to compact it:
	// MarshalJSON's is compact already (a newline in it would split the
	// line; TestPendingIsBounded reads every event back).
	b, err := e.MarshalJSON()
	if err != nil {
		return err
	}
	h.pending = append(append(h.pending, b...), '\n')
	h.note(e, h.written+int64(len(h.pending)))
	return nil
}

// flush writes the execution's pending events to the mount. Writes are
// ordered by flushMu; events recorded during one stay pending.
func (s *Server) flush(x *execution) error {
	x.flushMu.Lock()
	defer x.flushMu.Unlock()
	x.mu.Lock()
	data, written := x.h.pending, x.h.written
	x.mu.Unlock()
	if len(data) == 0 {
		return nil
	}
	// At written: after a failed Append the file may hold any prefix of
	// data, which Append cuts; and a file removed or cut since is an
	// error, not begun again where the offsets in ends find other events.
	err := s.cfg.Mount.Append(path.Join(x.dir(), historyFile), written, data)
	x.mu.Lock()
	defer x.mu.Unlock()
	if err != nil {
		return err
	}
	x.h.written += int64(len(data))
	s.pending.Add(-int64(len(data)))
	// The buffer is kept for the next events (idle lets it go): readers
	// copy from it under x.mu, and this write is done with data.
	x.h.pending = x.h.pending[:copy(x.h.pending, x.h.pending[len(data):])]
	return nil
}

// idle lets x's buffer of unwritten events go once it is empty: kept, an
// execution that ended, or waits in a Task, would hold the capacity of
// its largest burst (up to twice maxPending) for as long as serve runs.
// Called at a run's end and by its flush of every FlushInterval, not at
// each flush: an execution recording fast would then grow a new buffer
// for every maxPending it writes (a loop of 20 KB states took twice as
// long).
func (x *execution) idle() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.h.pending) == 0 {
		x.h.pending = nil
	}
}

// lines is a reader of the lines of events [a, b) of x's history (0 ≤ a ≤
// b ≤ its length), those on the mount read from it, those recorded since
// the last flush from a copy taken under x.mu (flush reuses its buffer);
// size is their bytes and done closes the file. The file is only appended
// to, so what it held at the snapshot is there still, whatever flushes
// came since.
func (s *Server) lines(x *execution, a, b int) (r io.Reader, size int64, done func(), err error) {
	x.mu.Lock()
	from, to := x.h.start(a), x.h.start(b)
	written := x.h.written
	var pending []byte
	if to > written {
		pending = bytes.Clone(x.h.pending[max(from, written)-written : to-written])
	}
	x.mu.Unlock()
	r, done = bytes.NewReader(pending), func() {}
	if onMount := min(to, written) - from; onMount > 0 {
		f, err := s.cfg.Mount.Open(path.Join(x.dir(), historyFile))
		if err != nil {
			return nil, 0, nil, err
		}
		r, done = io.MultiReader(io.NewSectionReader(f, from, onMount), r), func() { f.Close() }
	}
	return r, to - from, done, nil
}

// decodeEvent decodes line, event n of a history. Event n has id n (asl
// numbers them from 1, a redrive goes on): a line that decodes to another
// was put there by something other than serve (a file replaced, lines
// moved).
func decodeEvent(line []byte, n int) (asl.Event, error) {
	var e asl.Event
	if err := json.Unmarshal(line, &e); err != nil {
		return e, fmt.Errorf("sfnlocal: %s: event %d: %w", historyFile, n, err)
	}
	if e.ID != int64(n) {
		return e, fmt.Errorf("sfnlocal: %s: event %d has id %d: the file was changed by something other than serve", historyFile, n, e.ID)
	}
	return e, nil
}

// events returns events [a, b) of x's history, in order (0 ≤ a ≤ b ≤ its
// length).
func (s *Server) events(x *execution, a, b int) ([]asl.Event, error) {
	r, size, done, err := s.lines(x, a, b)
	if err != nil {
		return nil, err
	}
	defer done()
	buf := make([]byte, size)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("sfnlocal: %s: %w", historyFile, err)
	}
	out := make([]asl.Event, 0, b-a)
	for line := range bytes.Lines(buf) {
		e, err := decodeEvent(line, a+len(out)+1)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if len(out) != b-a {
		return nil, fmt.Errorf("sfnlocal: %s: %d events where %d were expected", historyFile, len(out), b-a)
	}
	return out, nil
}

// eventSeq yields events [0, n) of x's history in order, read a line at a
// time, so that a reader of the whole history, a redrive, holds one event
// at a time: a 20 KB loop redriven at 20,000 events (400 MB of history)
// grew serve from 40 MB to 1.2 GB when it was read whole. Each pass reads
// the file again; events [0, n) never change.
func (s *Server) eventSeq(x *execution, n int) iter.Seq2[asl.Event, error] {
	return func(yield func(asl.Event, error) bool) {
		r, _, done, err := s.lines(x, 0, n)
		if err != nil {
			yield(asl.Event{}, err)
			return
		}
		defer done()
		br := bufio.NewReader(r)
		for i := range n {
			line, err := br.ReadBytes('\n')
			var e asl.Event
			if err == nil {
				e, err = decodeEvent(line, i+1)
			} else {
				err = fmt.Errorf("sfnlocal: %s: event %d: %w", historyFile, i+1, err)
			}
			if err != nil {
				yield(e, err)
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// checkHistory reports whether the history of x on the mount is still
// the file serve wrote, at least as long as what it appended: an error
// names a file removed (missing) or cut since.
func (s *Server) checkHistory(x *execution) error {
	x.mu.Lock()
	written := x.h.written
	x.mu.Unlock()
	if written == 0 {
		return nil
	}
	name := path.Join(x.dir(), historyFile)
	f, err := s.cfg.Mount.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() < written {
		return fmt.Errorf("sfnlocal: %s: %d bytes, where serve wrote %d: cut or replaced by something else", name, fi.Size(), written)
	}
	return nil
}

// loadHistory reads the history of x (in dir) from the mount: where each
// event's line ends and what the summary needs, not the events. Only the
// last event and the ExecutionRedriven ones are decoded, so a server with
// long histories starts in the time it takes to read them (a 482 MB one
// took 18 s when every event was decoded). A last line a crash tore (no
// newline), or one that is not an event, is cut from the file; a line
// damaged before it is found when it is read (events). A history in the
// legacy format is converted.
func (s *Server) loadHistory(x *execution, dir string) error {
	m := s.cfg.Mount
	name := path.Join(dir, historyFile)
	f, err := m.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return s.convertHistory(x, dir)
	} else if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	// A buffer for the file, up to 1 MiB: a server with thousands of
	// short histories allocated 1 MiB for each and took 7-9 s to start
	// 3,000 of them, most of it collecting the garbage.
	r := bufio.NewReaderSize(f, int(min(fi.Size()+1, 1<<20)))
	var end int64
	var torn bool
	var redriven []int // the lines of ExecutionRedriven events
	for {
		// ReadSlice, not ReadBytes: the lines are counted, not kept.
		line, err := r.ReadSlice('\n')
		// The type follows the timestamp (asl.Event.MarshalJSON), before
		// any text of the execution's.
		if bytes.Contains(line[:min(len(line), 96)], []byte(`"type":"ExecutionRedriven"`)) {
			redriven = append(redriven, x.h.len())
		}
		n := int64(len(line))
		for err == bufio.ErrBufferFull {
			line, err = r.ReadSlice('\n')
			n += int64(len(line))
		}
		if err == io.EOF {
			torn = n > 0 // a line with no newline, cut below
			break
		} else if err != nil {
			return fmt.Errorf("sfnlocal: %s: %w", name, err)
		}
		end += n
		x.h.ends = append(x.h.ends, end)
	}
	line := func(i int) ([]byte, error) {
		b := make([]byte, x.h.ends[i]-x.h.start(i))
		if _, err := f.ReadAt(b, x.h.start(i)); err != nil {
			return nil, fmt.Errorf("sfnlocal: %s: %w", name, err)
		}
		return b, nil
	}
	for _, i := range redriven {
		if i >= x.h.len() {
			break
		}
		b, err := line(i)
		if err != nil {
			return err
		}
		var e asl.Event
		if json.Unmarshal(b, &e) == nil {
			x.h.redrives++
			x.h.redriven = e.Timestamp
		}
	}
	for n := x.h.len(); n > 0; n-- {
		b, err := line(n - 1)
		if err != nil {
			return err
		}
		if e, err := decodeEvent(b, n); err == nil {
			x.h.last = e
			break
		}
		x.h.ends = x.h.ends[:n-1]
	}
	x.h.written = x.h.start(x.h.len())
	if torn || x.h.written < end {
		s.cfg.Log.Warn("sfnlocal: a torn event cut from the end of a history", "arn", x.rec.Arn, "events", x.h.len())
		return m.Truncate(name, x.h.written)
	}
	return nil
}

// convertHistory rewrites a history of the legacy format, if x has one, as
// JSON Lines (atomically), then removes the old file. It streams, one event
// at a time: a 505 MB legacy history held whole took 1.9 GB to convert.
func (s *Server) convertHistory(x *execution, dir string) error {
	m := s.cfg.Mount
	old := path.Join(dir, legacyHistoryFile)
	f, err := m.Open(old)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	defer f.Close()
	w, err := m.Create(path.Join(dir, historyFile))
	if err != nil {
		return err
	}
	defer w.Abort()
	bw := bufio.NewWriter(w)
	dec := json.NewDecoder(bufio.NewReader(f))
	var end int64
	err = func() error {
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return fmt.Errorf("not a JSON array of events (%v)", err)
		}
		for dec.More() {
			var e asl.Event
			if err := dec.Decode(&e); err != nil {
				return err
			}
			b, err := e.MarshalJSON()
			if err != nil {
				return err
			}
			bw.Write(b)
			bw.WriteByte('\n')
			end += int64(len(b)) + 1
			x.h.note(e, end)
		}
		_, err := dec.Token() // the closing ]
		return err
	}()
	if err != nil {
		return fmt.Errorf("sfnlocal: %s: %w", old, err)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := w.Commit(); err != nil {
		return err
	}
	x.h.written = end
	return m.RemoveAll(old)
}

// lastEvent is the last event of the history in dir as the mount holds
// it, read from the end of the file (a gc pass reads every execution's);
// ok is false when there is none, or the last line is torn (a server died
// writing it: the execution did not end).
func lastEvent(m *jobfs.Mount, dir string) (e asl.Event, ok bool, err error) {
	f, err := m.Open(path.Join(dir, historyFile))
	if errors.Is(err, fs.ErrNotExist) {
		b, err := m.ReadFile(path.Join(dir, legacyHistoryFile))
		if errors.Is(err, fs.ErrNotExist) {
			return e, false, nil
		} else if err != nil {
			return e, false, err
		}
		var events []asl.Event
		if json.Unmarshal(b, &events) != nil || len(events) == 0 {
			return e, false, nil
		}
		return events[len(events)-1], true, nil
	} else if err != nil {
		return e, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return e, false, err
	}
	// Read backwards a block at a time until the line before the last
	// newline begins: an event is at most a few hundred KiB.
	const block = 64 << 10
	var tail []byte
	for at := fi.Size(); at > 0; {
		n := min(at, block)
		at -= n
		buf := make([]byte, n, int(n)+len(tail))
		if _, err := f.ReadAt(buf, at); err != nil {
			return e, false, err
		}
		tail = append(buf, tail...)
		if len(tail) > 0 && tail[len(tail)-1] != '\n' {
			return e, false, nil
		}
		if i := bytes.LastIndexByte(tail[:len(tail)-1], '\n'); i >= 0 || at == 0 {
			ok = json.Unmarshal(tail[i+1:], &e) == nil
			return e, ok, nil
		}
	}
	return e, false, nil
}
