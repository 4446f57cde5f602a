package zpage

import (
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/zlevel"
)

func encoderLevel(l zlevel.Level) (zstd.EncoderLevel, error) {
	if err := l.Check(); err != nil {
		return 0, err
	}
	switch l {
	case zlevel.Fastest:
		return zstd.SpeedFastest, nil
	case zlevel.Better:
		return zstd.SpeedBetterCompression, nil
	case zlevel.Best:
		return zstd.SpeedBestCompression, nil
	}
	return zstd.SpeedDefault, nil
}

// Encoder compresses pages with one dictionary. It is safe for concurrent
// use and meant to be built once per job and reused: each zstd encoder
// indexes the dictionary on first use and keeps its window and match tables
// (about 5 MiB at the default level), so one is kept per concurrent caller
// (see pool) and a lone caller reuses the same one.
type Encoder struct {
	encs *pool[*zstd.Encoder]
}

// NewEncoder builds an encoder for dict (may be empty) at level. It returns
// an Internal error for a dictionary over zlevel.MaxDictionary bytes or an
// unknown level.
func NewEncoder(dict []byte, level zlevel.Level) (*Encoder, error) {
	if len(dict) > zlevel.MaxDictionary {
		return nil, pipeerr.New(pipeerr.Internal, "dictionary of %d bytes exceeds the zstd CLI's %d", len(dict), zlevel.MaxDictionary)
	}
	lvl, err := encoderLevel(level)
	if err != nil {
		return nil, err
	}
	opts := []zstd.EOption{
		zstd.WithEncoderLevel(lvl),
		// An empty input still yields a valid frame, so every page is a file.
		zstd.WithZeroFrames(true),
		zstd.WithEncoderCRC(true),
		// Window large enough to reach across the whole dictionary.
		zstd.WithWindowSize(windowFor(len(dict))),
		// One block encoder each, since the pool gives every concurrent
		// caller its own: with the default (GOMAXPROCS), EncodeAll takes
		// them in turn, so a single caller on two cores grew two (14 MiB
		// live instead of 7 with a 100 KiB dictionary).
		zstd.WithEncoderConcurrency(1),
		// Buffers grown as needed instead of sized for the window: 5 MiB
		// instead of 7 for that encoder. It changes allocation only, not
		// the matches found, so the frames are the same bytes.
		zstd.WithLowerEncoderMem(true),
	}
	if len(dict) > 0 {
		// ID 0 marks a raw content dictionary: the CLI accepts any file as
		// one with -D, and checks no ID.
		opts = append(opts, zstd.WithEncoderDictRaw(0, dict))
	}
	encs, err := newPool(func() (*zstd.Encoder, error) {
		enc, err := zstd.NewWriter(nil, opts...)
		if err != nil {
			return nil, pipeerr.Wrap(pipeerr.Internal, err, "zstd encoder")
		}
		return enc, nil
	})
	if err != nil {
		return nil, err
	}
	return &Encoder{encs: encs}, nil
}

func windowFor(n int) int {
	w := zstd.MinWindowSize
	for w < n+lookahead && w < zstd.MaxWindowSize {
		w <<= 1
	}
	return w
}

// lookahead is how much of a page the window holds beside the dictionary.
// Each encoder keeps a window of history, so the window is most of its
// memory (it was at least 8 MiB: 16 MiB on two cores, more than qpdf needs
// for a whole small document). The dictionary is already sized to how far
// back its level looks (zlevel.Level.Reach), and the smaller window cost
// next to nothing: the Octave manual published 5,614,247 bytes instead of
// 5,614,368.
const lookahead = 1 << 20

// Encode appends the frame of page to dst. Its only error is an Internal
// one from building a further zstd encoder, with the options NewEncoder's
// first one was built with.
func (e *Encoder) Encode(dst, page []byte) ([]byte, error) {
	enc, err := e.encs.get()
	if err != nil {
		return dst, err
	}
	defer e.encs.put(enc)
	return enc.EncodeAll(page, dst), nil
}

// Close releases the encoder; it must not be used afterwards.
func (e *Encoder) Close() error {
	var first error
	e.encs.close(func(enc *zstd.Encoder) {
		if err := enc.Close(); err != nil && first == nil {
			first = err
		}
	})
	return first
}

// Decoder restores pages. It bounds memory: a frame that declares more than
// maxPage bytes is refused rather than allocated. Like Encoder it is safe for
// concurrent use and keeps one zstd decoder per concurrent caller.
type Decoder struct {
	decs *pool[*zstd.Decoder]
}

// NewDecoder builds a decoder for dict; maxPage bounds one restored page, in
// bytes. It returns an Internal error when zstd refuses the dictionary.
func NewDecoder(dict []byte, maxPage uint64) (*Decoder, error) {
	opts := []zstd.DOption{
		zstd.WithDecoderMaxMemory(maxPage),
		zstd.WithDecoderMaxWindow(uint64(windowFor(len(dict))) * 2),
		zstd.WithDecoderConcurrency(1),
	}
	if len(dict) > 0 {
		opts = append(opts, zstd.WithDecoderDictRaw(0, dict))
	}
	decs, err := newPool(func() (*zstd.Decoder, error) {
		dec, err := zstd.NewReader(nil, opts...)
		if err != nil {
			return nil, pipeerr.Wrap(pipeerr.Internal, err, "zstd decoder")
		}
		return dec, nil
	})
	if err != nil {
		return nil, err
	}
	return &Decoder{decs: decs}, nil
}

// Decode restores one frame. It returns a Damaged error for a frame that is
// not zstd, fails its checksum or declares more than the bound.
func (d *Decoder) Decode(frame []byte) ([]byte, error) { return d.DecodeTo(nil, frame) }

// DecodeTo restores one frame, appending it to dst; errors as Decode's.
func (d *Decoder) DecodeTo(dst, frame []byte) ([]byte, error) {
	dec, err := d.decs.get()
	if err != nil {
		return nil, err
	}
	defer d.decs.put(dec)
	b, err := dec.DecodeAll(frame, dst)
	if err != nil {
		return nil, pipeerr.Wrap(pipeerr.Damaged, err, "restore page")
	}
	return b, nil
}

// Close releases the decoder; it must not be used afterwards.
func (d *Decoder) Close() { d.decs.close((*zstd.Decoder).Close) }

// pool holds one zstd coder per concurrent caller, up to one per core:
// get hands out the one returned last, builds one when all are in use, and
// past GOMAXPROCS waits for one to be returned (more would not run at once,
// and each holds megabytes). klauspost's coders keep a queue of their own,
// but it hands its block coders out in turn, so a single caller touched (and
// grew the buffers of) every one of them.
type pool[T any] struct {
	build func() (T, error)
	max   int

	mu       sync.Mutex
	returned sync.Cond
	idle     []T
	all      []T
}

// newPool returns a pool holding one coder built now, so that options zstd
// refuses fail here rather than on the first page; every later one is built
// with the same options.
func newPool[T any](build func() (T, error)) (*pool[T], error) {
	c, err := build()
	if err != nil {
		return nil, err
	}
	p := &pool[T]{build: build, max: runtime.GOMAXPROCS(0), idle: []T{c}, all: []T{c}}
	p.returned.L = &p.mu
	return p, nil
}

func (p *pool[T]) get() (T, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.idle) == 0 && len(p.all) >= p.max {
		p.returned.Wait()
	}
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return c, nil
	}
	c, err := p.build()
	if err == nil {
		p.all = append(p.all, c)
	}
	return c, err
}

func (p *pool[T]) put(c T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idle = append(p.idle, c)
	p.returned.Signal()
}

func (p *pool[T]) close(release func(T)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.all {
		release(c)
	}
	p.idle, p.all = nil, nil
}
