package pdftest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
)

// bitWriter writes a DEFLATE bit stream (RFC 1951): fields least significant
// bit first, Huffman codes most significant bit first.
type bitWriter struct {
	out   []byte
	acc   uint32
	nbits uint
}

func (w *bitWriter) bits(v uint32, n uint) {
	for i := range n {
		w.acc |= (v >> i & 1) << w.nbits
		w.nbits++
		if w.nbits == 8 {
			w.out = append(w.out, byte(w.acc))
			w.acc, w.nbits = 0, 0
		}
	}
}

func (w *bitWriter) code(c uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.bits(c>>uint(i)&1, 1)
	}
}

// zeroBits writes n zero bits quickly.
func (w *bitWriter) zeroBits(n int) {
	for n > 0 && w.nbits != 0 {
		w.bits(0, 1)
		n--
	}
	w.out = append(w.out, make([]byte, n/8)...)
	w.bits(0, uint(n%8))
}

func (w *bitWriter) flush() []byte {
	if w.nbits > 0 {
		w.out = append(w.out, byte(w.acc))
	}
	return w.out
}

// zlibZeros returns a zlib stream that inflates to n zero bytes, built by
// hand: one dynamic-Huffman block whose codes are literal 0 (10), end of
// block (11), length 258 (0) and distance 1 (0), so every 258 output bytes cost
// 2 bits. Compressing n zeros with a real encoder would take seconds per GiB.
func zlibZeros(n int) []byte {
	w := &bitWriter{out: []byte{0x78, 0x01}}
	w.bits(1, 1) // BFINAL
	w.bits(2, 2) // BTYPE dynamic
	w.bits(286-257, 5)
	w.bits(0, 5) // HDIST: one distance code (1 - 1)
	// Code-length code lengths in the RFC's permuted order, up to symbol 1:
	// symbol 0 → 1 bit ("0"), 1 → 2 bits ("10"), 2 → 2 bits ("11").
	order := []int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1}
	clen := map[int]uint32{0: 1, 1: 2, 2: 2}
	w.bits(uint32(len(order)-4), 4)
	for _, s := range order {
		w.bits(clen[s], 3)
	}
	lengthCode := func(l int) {
		switch l {
		case 0:
			w.code(0b0, 1)
		case 1:
			w.code(0b10, 2)
		case 2:
			w.code(0b11, 2)
		}
	}
	// Literal/length code lengths: 0 → 2, 256 → 2, 285 → 1; the rest unused.
	for s := range 286 {
		switch s {
		case 0, 256:
			lengthCode(2)
		case 285:
			lengthCode(1)
		default:
			lengthCode(0)
		}
	}
	lengthCode(1)   // the one distance code, distance 1
	w.code(0b10, 2) // literal 0
	left := n - 1
	w.zeroBits(left / 258 * 2) // (length 258 "0", distance 1 "0") each
	for range left % 258 {
		w.code(0b10, 2)
	}
	w.code(0b11, 2) // end of block
	out := w.flush()
	// Adler-32 of n zeros: a stays 1, b adds 1 per byte.
	return binary.BigEndian.AppendUint32(out, uint32(n%65521)<<16|1)
}

// flateBomb is a one-page file whose content stream is zeros deflated twice:
// a few kilobytes that decode to BombDecodedBytes. With resources, a reader
// of the content for the names it uses meets the bomb too.
func flateBomb(resources bool) []byte {
	var outer bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&outer, zlib.BestCompression)
	zw.Write(zlibZeros(BombDecodedBytes))
	zw.Close()
	extra := ""
	if resources {
		extra = " /Resources <</Font <</F1 <</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>>>>>"
	}
	b := minimal("", extra)
	b.stream(4, " /Filter [/FlateDecode /FlateDecode]", outer.Bytes())
	return b.finish(1, "")
}
