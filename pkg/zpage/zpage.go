package zpage

import (
	"fmt"

	"github.com/klauspost/compress/zstd"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Level names a compression level as the settings spell it.
type Level string

const (
	Fastest Level = "fastest"
	Default Level = "default"
	Better  Level = "better"
	Best    Level = "best"
)

// MaxDictionary is the largest dictionary the zstd CLI loads (it refuses
// dictionary files over 32 MiB), so the published output stays restorable
// with the standard tool.
const MaxDictionary = 32 << 20

// Reach is how far back into a dictionary each level finds matches
// (measured on klauspost/compress v1.20: fastest < 512 KiB, default
// ~1 MiB, better ~4 MiB, best the whole window). A dictionary longer than
// its level's reach wastes published bytes.
func (l Level) Reach() int {
	switch l {
	case Fastest:
		return 512 << 10
	case Default:
		return 1 << 20
	case Better:
		return 4 << 20
	}
	return MaxDictionary
}

func (l Level) encoderLevel() (zstd.EncoderLevel, error) {
	switch l {
	case Fastest:
		return zstd.SpeedFastest, nil
	case Default, "":
		return zstd.SpeedDefault, nil
	case Better:
		return zstd.SpeedBetterCompression, nil
	case Best:
		return zstd.SpeedBestCompression, nil
	}
	return 0, pipeerr.New(pipeerr.BadRequest, "unknown compression level %q (fastest, default, better, best)", l)
}

// Encoder compresses pages with one dictionary. It is safe for concurrent
// use and meant to be built once per job and reused: building it indexes the
// dictionary.
type Encoder struct {
	enc *zstd.Encoder
}

// NewEncoder builds an encoder for dict (may be empty) at level.
func NewEncoder(dict []byte, level Level) (*Encoder, error) {
	if len(dict) > MaxDictionary {
		return nil, pipeerr.New(pipeerr.Internal, "dictionary of %d bytes exceeds the zstd CLI's %d", len(dict), MaxDictionary)
	}
	lvl, err := level.encoderLevel()
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
// memory (it was a fixed 8 MiB: 16 MiB on two cores, more than qpdf needs
// for a whole small document); no level finds matches more than a few MiB
// back (see Reach), so a larger window buys no bytes.
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

// String describes an encoder setting for logs.
func (l Level) String() string { return fmt.Sprintf("zstd-%s", string(l)) }
