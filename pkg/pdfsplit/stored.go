package pdfsplit

import (
	"bytes"
	"io"
	"slices"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// pdfcpu reads the data of every stream into memory when it parses, so a
// parse held a second copy of nearly the whole file (images are most of
// an image-heavy document, and are only ever copied, never decoded). The
// data of a stream that the file holds as is, at a plain offset, is let
// go after the parse and read from the file again when a page is written
// or a content stream decoded: only the page being written is held.

// minStored is the smallest stream whose data is let go: below it the
// bookkeeping costs about as much as the bytes.
const minStored = 1 << 10

// offsets maps the offset of a stream's data in the file pdfcpu read to
// the length of that data, for every stream whose data was let go.
type offsets map[int64]int

// letGo drops, from the streams of ctx that r holds as they are (the
// stream data read back from r at its offset is the same bytes), their
// data, and returns where to read it again; r is the reader pdfcpu read
// (ctx.Read.RS), which appendData reads again. A stream whose data pdfcpu
// changed (decrypted, or cut at "endstream" by a /Length repair) is kept:
// only what reads back byte for byte is let go, so a page is written with
// the same bytes either way. An encrypted file keeps everything (its data
// is decrypted). It reads each candidate stream once, 64 KiB at a time.
func letGo(ctx *model.Context) offsets {
	r := ctx.Read.RS
	if r == nil || ctx.Encrypt != nil || ctx.EncKey != nil {
		return nil
	}
	s := offsets{}
	buf := make([]byte, 64<<10)
	for _, e := range ctx.Table {
		if e == nil || e.Free || e.Compressed {
			continue
		}
		sd, ok := e.Object.(types.StreamDict)
		if !ok || sd.StreamOffset <= 0 || len(sd.Raw) < minStored || sd.Content != nil {
			continue
		}
		if n, seen := s[sd.StreamOffset]; seen && n != len(sd.Raw) {
			continue // two objects at one offset: keep the second as parsed
		}
		if !sameAt(r, sd.StreamOffset, sd.Raw, buf) {
			continue
		}
		s[sd.StreamOffset] = len(sd.Raw)
		sd.Raw = nil
		e.Object = sd
	}
	return s
}

// sameAt reports whether r holds want at offset at.
func sameAt(r io.ReadSeeker, at int64, want, buf []byte) bool {
	for len(want) > 0 {
		chunk := buf[:min(len(buf), len(want))]
		if readAt(r, at, chunk) != len(chunk) || !bytes.Equal(chunk, want[:len(chunk)]) {
			return false
		}
		at += int64(len(chunk))
		want = want[len(chunk):]
	}
	return true
}

// dataLen is the length of sd's data, whether held or let go.
func (d *Document) dataLen(sd types.StreamDict) int {
	if n, ok := d.isStored(sd); ok {
		return n
	}
	return len(sd.Raw)
}

// isStored reports whether sd's data was let go, and its length.
func (d *Document) isStored(sd types.StreamDict) (int, bool) {
	if sd.Raw != nil || sd.StreamOffset <= 0 {
		return 0, false
	}
	n, ok := d.stored[sd.StreamOffset]
	return n, ok
}

// appendData appends sd's data to dst, reading it from the file when it
// was let go: exactly the bytes letGo compared, never past them.
func (d *Document) appendData(dst []byte, sd types.StreamDict) ([]byte, error) {
	n, ok := d.isStored(sd)
	if !ok {
		return append(dst, sd.Raw...), nil
	}
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	if d.ctx.Read.RS == nil || readAt(d.ctx.Read.RS, sd.StreamOffset, dst[start:]) != n {
		return dst[:start], pipeerr.New(pipeerr.IO, "reading the PDF: stream data at offset %d cannot be read again", sd.StreamOffset)
	}
	return dst, nil
}
