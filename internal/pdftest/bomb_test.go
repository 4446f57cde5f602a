package pdftest

import (
	"bytes"
	"compress/zlib"
	"io"
	"os/exec"
	"testing"

	"github.com/efspipe/efspipe/internal/testenv"
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
	// The bomb itself, inflated by another implementation: qpdf's
	// zlib-flate (C zlib) streams it through a pipe, and the bytes are
	// counted and compared with zeros, never held. Inflating 1 GiB with
	// compress/zlib takes 30 s under the race detector (1 s without), for
	// a check that has nothing concurrent in it.
	cmd := exec.Command(testenv.NeedsTool(t, "zlib-flate"), "-uncompress")
	cmd.Stdin = bytes.NewReader(zlibZeros(BombDecodedBytes))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n, nonzero := int64(0), false
	buf, zeros := make([]byte, 1<<20), make([]byte, 1<<20)
	for {
		k, err := out.Read(buf)
		n += int64(k)
		nonzero = nonzero || !bytes.Equal(buf[:k], zeros[:k])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil || n != BombDecodedBytes || nonzero {
		t.Errorf("bomb inflates to %d bytes (non-zero: %v, zlib-flate: %v), want %d zeros", n, nonzero, err, BombDecodedBytes)
	}
}
