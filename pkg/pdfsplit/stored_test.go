package pdfsplit

import (
	"bytes"
	"errors"
	"regexp"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// holdAll gives d back every stream's data letGo let go, as a new parse
// by pdfcpu of the same reader holds it (not read by appendData): the
// pages d then writes are those of the document as pdfcpu read it.
func holdAll(t *testing.T, d *Document) {
	t.Helper()
	ref, err := read(d.ctx.Read.RS, "", d.limits)
	if err != nil {
		t.Fatal(err)
	}
	for nr, e := range d.ctx.Table {
		if e == nil {
			continue
		}
		sd, ok := e.Object.(types.StreamDict)
		if !ok {
			continue
		}
		if _, ok := d.isStored(sd); ok {
			sd.Raw = ref.Table[nr].Object.(types.StreamDict).Raw
			e.Object = sd
		}
	}
	d.stored = nil
}

// heldBytes is the stream data d's parse holds.
func heldBytes(d *Document) int {
	n := 0
	for _, e := range d.ctx.Table {
		if e == nil {
			continue
		}
		if sd, ok := e.Object.(types.StreamDict); ok {
			n += len(sd.Raw)
		}
	}
	return n
}

// TestStoredStreams: the stream data let go after the parse is read back
// when a page is written, and every page (and the shared-object table) is
// the same bytes as when the parse holds it all: on a plain file, one
// with junk before its header (read through a view), one pdfcpu cannot
// read (rebuilt by the repair layer into a new buffer), and an encrypted
// one (whose data,
// decrypted, is all held).
func TestStoredStreams(t *testing.T) {
	img := pdftest.ImageDoc(5, 20<<10)
	// A cross-reference table pdfcpu refuses: the repair layer rebuilds it.
	broken := regexp.MustCompile(`xref\n0 \d+\n`).ReplaceAll(bytes.Clone(img), []byte("xref\n0 99999999\n"))
	var encrypted []byte
	for _, c := range pdftest.Corpus() {
		if c.Name == "encrypted-owner-only" {
			encrypted = c.Data
		}
	}
	for _, tc := range []struct {
		name      string
		data      []byte
		repaired  bool
		holdsData bool
	}{
		{"plain", img, false, false},
		{"junk-before-header", append([]byte("junk junk junk\n"), img...), false, false},
		{"repaired", broken, true, false},
		{"doc-with-font", pdftest.Doc(4, pdftest.DocOptions{FontBytes: 8 << 10, Image: true}), false, false},
		{"encrypted", encrypted, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lazy, held := open(t, tc.data, Options{}), open(t, tc.data, Options{})
			if got := len(lazy.Repairs()) > 0 && !bytes.HasPrefix(tc.data, []byte("junk")); got != tc.repaired {
				t.Fatalf("repaired = %v (%q), want %v", got, lazy.Repairs(), tc.repaired)
			}
			if tc.holdsData != (len(lazy.stored) == 0) {
				t.Fatalf("%d streams let go, want them all held: %v", len(lazy.stored), tc.holdsData)
			}
			if !tc.holdsData && heldBytes(lazy) >= 4*minStored {
				t.Errorf("the parse still holds %d bytes of stream data", heldBytes(lazy))
			}
			holdAll(t, held)
			if heldBytes(held) <= heldBytes(lazy) && !tc.holdsData {
				t.Fatalf("holdAll held nothing more")
			}
			a, b := splitAll(t, lazy), splitAll(t, held)
			for i := range a {
				if !bytes.Equal(a[i], b[i]) {
					t.Errorf("page %d differs when the stream data is read back", i+1)
				}
			}
			ta, _ := lazy.Objects()
			tb, _ := held.Objects()
			if !bytes.Equal(ta.Encode(), tb.Encode()) {
				t.Error("the shared-object tables differ")
			}
		})
	}
}

// failingReader fails every read after fail is set.
type failingReader struct {
	*bytes.Reader
	fail bool
}

func (r *failingReader) ReadAt(p []byte, off int64) (int, error) {
	if r.fail {
		return 0, errors.New("gone")
	}
	return r.Reader.ReadAt(p, off)
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.fail {
		return 0, errors.New("gone")
	}
	return r.Reader.Read(p)
}

// TestStoredStreamUnreadable: a stream's data that cannot be read again
// fails the page with kind IO; it is never written short or empty.
func TestStoredStreamUnreadable(t *testing.T) {
	data := pdftest.ImageDoc(2, 8<<10)
	r := &failingReader{Reader: bytes.NewReader(data)}
	d, err := Open(r, int64(len(data)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.stored) == 0 {
		t.Fatal("no stream was let go")
	}
	r.fail = true
	_, err = d.Page(1)
	if pipeerr.KindOf(err) != pipeerr.IO {
		t.Fatalf("Page: %v, want an error of kind IO", err)
	}
}
