package pdftest

import (
	"bytes"
	"compress/zlib"
	"io"
	"testing"
)

func TestZlibZeros(t *testing.T) {
	for _, n := range []int{1, 258, 259, 1000, 1 << 20} {
		zr, err := zlib.NewReader(bytes.NewReader(zlibZeros(n)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if len(got) != n || bytes.ContainsFunc(got, func(r rune) bool { return r != 0 }) {
			t.Errorf("n=%d: inflated to %d bytes", n, len(got))
		}
	}
	if testing.Short() {
		return
	}
	// The bomb itself: count the bytes without holding them.
	zr, err := zlib.NewReader(bytes.NewReader(zlibZeros(BombDecodedBytes)))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil || n != BombDecodedBytes {
		t.Errorf("bomb inflates to %d bytes (%v), want %d", n, err, BombDecodedBytes)
	}
}
