package pdfcheck

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
)

// inflater inflates the start of Flate streams with one zlib reader, reset
// for each stream, so a check allocates no decompressor.
//
// The reader is the standard library's, not klauspost/compress's: the
// latter keeps its Huffman lookup table across Reset for speed and does not
// clear the entries an incomplete code leaves unset, so on damaged data the
// answer (an error, which error, or none) depended on the streams decoded
// before (found by FuzzPage, testdata/fuzz/FuzzPage/03b277915109eaf1). A
// check must give one answer for the same bytes; the standard library
// clears the table whole when it is rebuilt.
type inflater struct {
	zr  io.ReadCloser
	src bytes.Reader
	out []byte
}

// emptyZlib is a complete zlib stream of nothing: zlib.NewReader needs a
// valid header to create the reader that every later stream resets.
var emptyZlib = []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}

var errPresetDict = errors.New("zlib: the header asks for a preset dictionary, which PDF has no way to supply")

// probeSlack is how many input bytes beyond ProbeBytes the probe first
// gives the decoder: a dynamic Huffman header is at most about 300 bytes, and
// real encoders spend at most a byte or two per output byte at the start of
// a stream. The decoder only hands out output when its 32 KiB window fills
// or the input ends, so the input it is given, not the output asked for,
// bounds the work.
const probeSlack = 512

// wholeCap bounds the output decoded from a stream the probe holds whole
// (shorter than its input window): a small stream is decoded to its end, so
// a cut or a bad checksum anywhere in it shows, but a small bomb costs at
// most this much.
const wholeCap = 64 << 10

// inflate decodes the start of the zlib stream data and fails when it is not
// zlib: a bad header, a preset dictionary, a corrupt block among the first
// limit decoded bytes (or anywhere in a stream the probe holds whole). A
// stream that ends early or with a wrong checksum is fine, and so is an
// empty one: readers show what decodes, and treat zero bytes of data as an
// empty stream. It decodes a prefix of the input, doubling it
// only while the prefix is too short to yield limit bytes, so the cost is
// about limit+probeSlack bytes for any real stream and never more than the
// stream's length.
func (f *inflater) inflate(data []byte, limit int) error {
	if len(data) == 0 {
		return nil
	}
	if len(data) >= 2 && data[1]&0x20 != 0 {
		return errPresetDict
	}
	if f.zr == nil {
		zr, err := zlib.NewReader(bytes.NewReader(emptyZlib))
		if err != nil {
			return err
		}
		f.zr = zr
	}
	if n := max(limit, 4<<10); cap(f.out) < n {
		f.out = make([]byte, n)
	}
	k := min(len(data), limit+probeSlack)
	for {
		err := f.decode(data[:k], limit, k == len(data))
		switch {
		case err == io.ErrUnexpectedEOF && k < len(data):
			k = min(len(data), 2*k)
			continue
		case err == io.ErrUnexpectedEOF, err == zlib.ErrChecksum:
			// Cut short, or a wrong Adler-32: readers show what decodes,
			// many writers (Acrobat among them) leave streams so, and the
			// page writer copies stream data as the source has it. Data
			// left encrypted, or not zlib at all, fails on its header or
			// its first block instead.
			return nil
		}
		return err
	}
}

// decode inflates in until limit bytes come out (whole: until the end of
// the stream, or wholeCap bytes). It returns nil on success.
func (f *inflater) decode(in []byte, limit int, whole bool) error {
	f.src.Reset(in)
	if err := f.zr.(zlib.Resetter).Reset(&f.src, nil); err != nil {
		return err
	}
	out := f.out[:cap(f.out)]
	for n := 0; ; {
		m, err := f.zr.Read(out)
		n += m
		switch {
		case err == io.EOF:
			return nil
		case n >= limit && !whole && (err == nil || err == io.ErrUnexpectedEOF):
			return nil
		case err != nil:
			return err
		case whole && n >= wholeCap:
			return nil
		}
	}
}

// release drops the reference to the caller's bytes.
func (f *inflater) release() {
	f.src.Reset(nil)
	if cap(f.out) > 1<<20 {
		f.out = nil
	}
}
