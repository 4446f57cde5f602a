package zpage_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/zlevel"
	"github.com/efspipe/efspipe/pkg/zpage"
)

// Frames restore with our decoder and with the standard zstd CLI given
// the raw dictionary, and encoding is deterministic.
func TestFramesRestoreWithTheCLI(t *testing.T) {
	shared := bytes.Repeat([]byte("a font program shared by every page "), 4096)
	page := append(append([]byte("%PDF-1.7 page one "), shared[1000:60000]...), "trailer"...)
	for _, level := range []zlevel.Level{zlevel.Fastest, zlevel.Default, zlevel.Better} {
		t.Run(string(level), func(t *testing.T) {
			enc, err := zpage.NewEncoder(shared, level)
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			frame, err := enc.Encode(nil, page)
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := enc.Encode(nil, page); !bytes.Equal(frame, again) {
				t.Fatal("encoding is not deterministic")
			}
			if len(frame)*20 > len(page) {
				t.Errorf("%d bytes → %d: the dictionary was not used", len(page), len(frame))
			}
			dec, err := zpage.NewDecoder(shared, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			if got, err := dec.Decode(frame); err != nil || !bytes.Equal(got, page) {
				t.Fatalf("decode: %v", err)
			}
			zstd := pipetest.NeedsTool(t, "zstd")
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "dict"), shared, 0o644)
			os.WriteFile(filepath.Join(dir, "p.zst"), frame, 0o644)
			got, err := exec.Command(zstd, "-d", "-c", "-q", "-D", filepath.Join(dir, "dict"), filepath.Join(dir, "p.zst")).Output()
			if err != nil || !bytes.Equal(got, page) {
				t.Fatalf("zstd -d -D: %v", err)
			}
		})
	}
}

// A frame claiming more than the decoder's bound is refused, not allocated.
func TestDecoderBoundsMemory(t *testing.T) {
	enc, _ := zpage.NewEncoder(nil, zlevel.Default)
	defer enc.Close()
	frame, _ := enc.Encode(nil, make([]byte, 1<<20))
	dec, _ := zpage.NewDecoder(nil, 64<<10)
	defer dec.Close()
	if _, err := dec.Decode(frame); err == nil {
		t.Fatal("a 1 MiB page decoded under a 64 KiB bound")
	}
	if _, err := zpage.NewEncoder(nil, "turbo"); err == nil {
		t.Fatal("unknown level accepted")
	}
}
