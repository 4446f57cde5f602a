package main

import (
	"bytes"
	"fmt"
	"testing"
)

// ppm builds a binary PPM with header text hdr and pixel bytes px.
func ppm(hdr string, px []byte) []byte { return append([]byte(hdr), px...) }

// gradient is w×h RGB pixels; flip changes one byte of pixel (x, y).
func gradient(w, h int, flip ...int) []byte {
	px := make([]byte, w*h*3)
	for i := range px {
		px[i] = byte(i * 7)
	}
	if len(flip) == 2 {
		px[(flip[1]*w+flip[0])*3+1] ^= 1
	}
	return px
}

// digest writes b to a ppmWriter in chunks of size chunk (0: at once).
func digest(b []byte, chunk int) (image, error) {
	var w ppmWriter
	if chunk == 0 {
		chunk = len(b) + 1
	}
	for len(b) > 0 {
		n := min(chunk, len(b))
		if k, err := w.Write(b[:n]); k != n || err != nil {
			return image{}, fmt.Errorf("Write = %d, %v", k, err)
		}
		b = b[n:]
	}
	return w.Image()
}

func TestPPMCompare(t *testing.T) {
	base := ppm("P6\n4 3\n255\n", gradient(4, 3))
	tests := []struct {
		name string
		b    []byte
		same bool
	}{
		{"identical", ppm("P6\n4 3\n255\n", gradient(4, 3)), true},
		{"same pixels, other header spacing and a comment", ppm("P6 # pdftoppm\n4  3\t255\r", gradient(4, 3)), true},
		{"one pixel differs", ppm("P6\n4 3\n255\n", gradient(4, 3, 3, 2)), false},
		{"first pixel differs", ppm("P6\n4 3\n255\n", gradient(4, 3, 0, 0)), false},
		{"same bytes, transposed size", ppm("P6\n3 4\n255\n", gradient(4, 3)), false},
		{"other maxval", ppm("P6\n4 3\n254\n", gradient(4, 3)), false},
		{"gray with as many bytes", ppm("P5\n12 3\n255\n", gradient(4, 3)), false},
	}
	want, err := digest(base, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunk := range []int{0, 1, 5} {
				got, err := digest(tt.b, chunk)
				if err != nil {
					t.Fatalf("chunks of %d: %v", chunk, err)
				}
				if (got == want) != tt.same {
					t.Errorf("chunks of %d: same = %v, want %v (%+v vs %+v)", chunk, got == want, tt.same, got, want)
				}
			}
		})
	}
}

func TestPPMMalformed(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"not a PPM", []byte("%PDF-1.7\n")},
		{"ASCII PPM", ppm("P3\n1 1\n255\n", []byte("0 0 0"))},
		{"header cut", []byte("P6\n4 3")},
		{"pixels cut", ppm("P6\n4 3\n255\n", gradient(4, 3)[:30])},
		{"pixels over", ppm("P6\n4 3\n255\n", append(gradient(4, 3), 0))},
		{"zero width", ppm("P6\n0 3\n255\n", nil)},
		{"garbage in the size", ppm("P6\n4x 3\n255\n", gradient(4, 3))},
		{"no space after maxval", ppm("P6\n4 3\n255", gradient(4, 3))},
		{"endless comment", append([]byte("P6\n#"), bytes.Repeat([]byte("x"), 2*maxHeader)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunk := range []int{0, 1} {
				if img, err := digest(tt.b, chunk); err == nil {
					t.Errorf("chunks of %d: %+v, want an error", chunk, img)
				}
			}
		})
	}
}

func TestPPMBlank(t *testing.T) {
	white := bytes.Repeat([]byte{0xff}, 4*3*3)
	dot := bytes.Clone(white)
	dot[len(dot)-1] = 0xfe
	tests := []struct {
		name  string
		b     []byte
		blank bool
	}{
		{"white", ppm("P6\n4 3\n255\n", white), true},
		{"one sample off white", ppm("P6\n4 3\n255\n", dot), false},
		{"a gradient", ppm("P6\n4 3\n255\n", gradient(4, 3)), false},
		{"0xFF below full scale", ppm("P6\n2 3\n1023\n", white), false},
	}
	for _, tt := range tests {
		for _, chunk := range []int{0, 1} {
			img, err := digest(tt.b, chunk)
			if err != nil || img.Blank != tt.blank {
				t.Errorf("%s, chunks of %d: blank %v (err %v), want %v", tt.name, chunk, img.Blank, err, tt.blank)
			}
		}
	}
}
