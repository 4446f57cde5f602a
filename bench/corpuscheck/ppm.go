package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"strconv"
)

// image is one rendered page: its PPM header fields and a SHA-256 of the
// pixel bytes after the header. Two images are the same rendering exactly
// when they are equal (==): same type, size, depth and pixel bytes. A
// digest instead of the pixels keeps memory flat whatever the page box (a
// 200-inch page at 36 dpi is 155 MB of pixels).
type image struct {
	Magic         string
	Width, Height int
	Maxval        int
	Pixels        [sha256.Size]byte
	// Blank: every sample is 0xFF, a white page at maxval 255 (or 65535).
	Blank bool
}

// maxHeader bounds the PPM header: pdftoppm's is about 15 bytes.
const maxHeader = 1024

// ppmWriter takes pdftoppm's stdout as it comes and digests the pixels.
// It never returns an error from Write, so a malformed stream is drained
// rather than leaving pdftoppm blocked on a full pipe; Image reports it.
type ppmWriter struct {
	head []byte // bytes received before the header was complete
	img  image
	done bool  // header parsed
	want int64 // pixel bytes the header announces
	got  int64
	h    hash.Hash
	err  error
	ink  bool // a sample other than 0xFF was written
}

func (w *ppmWriter) Write(p []byte) (int, error) {
	n := len(p)
	if w.err != nil {
		return n, nil
	}
	if !w.done {
		w.head = append(w.head, p...)
		img, size, ok, err := parsePPMHeader(w.head)
		switch {
		case err != nil:
			w.err = err
			return n, nil
		case !ok && len(w.head) > maxHeader:
			w.err = fmt.Errorf("PPM header longer than %d bytes", maxHeader)
			return n, nil
		case !ok:
			return n, nil
		}
		w.done, w.img = true, img
		w.want = int64(img.Width) * int64(img.Height) * int64(channels(img.Magic)) * int64(sampleBytes(img.Maxval))
		w.h = sha256.New()
		p = w.head[size:]
		w.head = nil
	}
	w.got += int64(len(p))
	w.h.Write(p)
	for i := 0; !w.ink && i < len(p); i++ {
		w.ink = p[i] != 0xff
	}
	return n, nil
}

// Image returns the rendered page once the whole stream was written.
func (w *ppmWriter) Image() (image, error) {
	switch {
	case w.err != nil:
		return image{}, w.err
	case !w.done && len(w.head) == 0:
		return image{}, errors.New("no image: empty output")
	case !w.done:
		return image{}, fmt.Errorf("no image: %d bytes without a complete PPM header", len(w.head))
	case w.got != w.want:
		return image{}, fmt.Errorf("PPM %s %dx%d has %d pixel bytes, its header announces %d", w.img.Magic, w.img.Width, w.img.Height, w.got, w.want)
	}
	img := w.img
	copy(img.Pixels[:], w.h.Sum(nil))
	img.Blank = !w.ink && (img.Maxval == 255 || img.Maxval == 65535)
	return img, nil
}

func channels(magic string) int {
	if magic == "P6" {
		return 3
	}
	return 1
}

func sampleBytes(maxval int) int {
	if maxval < 256 {
		return 1
	}
	return 2
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// parsePPMHeader reads a binary PPM (P6) or PGM (P5) header from the start
// of b: magic, width, height, maxval separated by whitespace or comments,
// then exactly one whitespace byte. ok is false when b ends before the
// header does; size is the header's length.
func parsePPMHeader(b []byte) (img image, size int, ok bool, err error) {
	if len(b) < 3 {
		if (len(b) > 0 && b[0] != 'P') || (len(b) > 1 && b[1] != '5' && b[1] != '6') {
			return img, 0, false, fmt.Errorf("not a binary PPM or PGM: starts with %q", b)
		}
		return img, 0, false, nil
	}
	if b[0] != 'P' || (b[1] != '5' && b[1] != '6') || (!isSpace(b[2]) && b[2] != '#') {
		return img, 0, false, fmt.Errorf("not a binary PPM or PGM: starts with %q", b[:3])
	}
	img.Magic = string(b[:2])
	i := 2
	var vals [3]int
	for k := range vals {
		for i < len(b) && (isSpace(b[i]) || b[i] == '#') {
			if b[i] != '#' {
				i++
				continue
			}
			for i < len(b) && b[i] != '\n' && b[i] != '\r' {
				i++
			}
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == len(b) {
			return img, 0, false, nil // the number, or what precedes it, may go on
		}
		if i == start || i-start > 9 {
			return img, 0, false, fmt.Errorf("PPM header: bad number at byte %d", start)
		}
		vals[k], _ = strconv.Atoi(string(b[start:i]))
	}
	if !isSpace(b[i]) {
		return img, 0, false, fmt.Errorf("PPM header: %q after maxval", b[i])
	}
	img.Width, img.Height, img.Maxval = vals[0], vals[1], vals[2]
	if img.Width < 1 || img.Height < 1 || img.Maxval < 1 || img.Maxval > 65535 {
		return img, 0, false, fmt.Errorf("PPM header: %dx%d maxval %d", img.Width, img.Height, img.Maxval)
	}
	return img, i + 1, true, nil
}
