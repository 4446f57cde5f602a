package zpage

import (
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
// use and meant to be built once per job and reused: building it indexes the
// dictionary.
type Encoder struct {
	enc *zstd.Encoder
}

// NewEncoder builds an encoder for dict (may be empty) at level.
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
	}
	if len(dict) > 0 {
		// ID 0 marks a raw content dictionary: the CLI accepts any file as
		// one with -D, and checks no ID.
		opts = append(opts, zstd.WithEncoderDictRaw(0, dict))
	}
	enc, err := zstd.NewWriter(nil, opts...)
	if err != nil {
		return nil, pipeerr.Wrap(pipeerr.Internal, err, "zstd encoder")
	}
	return &Encoder{enc: enc}, nil
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

// Encode appends the frame of page to dst.
func (e *Encoder) Encode(dst, page []byte) []byte { return e.enc.EncodeAll(page, dst) }

// Close releases the encoder.
func (e *Encoder) Close() error { return e.enc.Close() }

// Decoder restores pages. It bounds memory: a frame that declares more than
// maxPage bytes is refused rather than allocated.
type Decoder struct {
	dec *zstd.Decoder
}

// NewDecoder builds a decoder for dict; maxPage bounds one restored page.
func NewDecoder(dict []byte, maxPage uint64) (*Decoder, error) {
	opts := []zstd.DOption{
		zstd.WithDecoderMaxMemory(maxPage),
		zstd.WithDecoderMaxWindow(uint64(windowFor(len(dict))) * 2),
		zstd.WithDecoderConcurrency(0),
	}
	if len(dict) > 0 {
		opts = append(opts, zstd.WithDecoderDictRaw(0, dict))
	}
	dec, err := zstd.NewReader(nil, opts...)
	if err != nil {
		return nil, pipeerr.Wrap(pipeerr.Internal, err, "zstd decoder")
	}
	return &Decoder{dec: dec}, nil
}

// Decode restores one frame.
func (d *Decoder) Decode(frame []byte) ([]byte, error) { return d.DecodeTo(nil, frame) }

// DecodeTo restores one frame, appending it to dst.
func (d *Decoder) DecodeTo(dst, frame []byte) ([]byte, error) {
	b, err := d.dec.DecodeAll(frame, dst)
	if err != nil {
		return nil, pipeerr.Wrap(pipeerr.Damaged, err, "restore page")
	}
	return b, nil
}

// Close releases the decoder.
func (d *Decoder) Close() { d.dec.Close() }
