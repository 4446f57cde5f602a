package pdfsplit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

func open(t testing.TB, data []byte, opts Options) *Document {
	t.Helper()
	d, err := Open(bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// dictionary is d's shared-object table's dictionary of at most max bytes.
func dictionary(t testing.TB, d *Document, max int) []byte {
	t.Helper()
	o, err := d.Objects()
	if err != nil {
		t.Fatal(err)
	}
	return o.Dictionary(max)
}

func splitAll(t testing.TB, d *Document) [][]byte {
	t.Helper()
	out := make([][]byte, d.Pages())
	for i := range out {
		b, err := d.Page(i + 1)
		if err != nil {
			t.Fatalf("page %d: %v", i+1, err)
		}
		out[i] = b
	}
	return out
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var inputs = []struct {
	name  string
	pages int
	data  func(t testing.TB) []byte
}{
	{"doc1", 1, func(testing.TB) []byte { return pdftest.Doc(1, pdftest.DocOptions{}) }},
	{"doc3", 3, func(testing.TB) []byte { return pdftest.Doc(3, pdftest.DocOptions{Image: true}) }},
	{"doc200", 200, func(testing.TB) []byte { return pdftest.Doc(200, pdftest.DocOptions{FontBytes: 64 << 10, Image: true}) }},
	{"sample", 12, func(t testing.TB) []byte { return readTestdata(t, "sample.pdf") }},
}

// TestSplitValid: every page is a one-page PDF that qpdf accepts and that
// reopens as one page.
func TestSplitValid(t *testing.T) {
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			if testing.Short() && in.pages > 100 {
				t.Skip("qpdf --check of every page: run without -short (make test)")
			}
			d := open(t, in.data(t), Options{})
			if d.Pages() != in.pages {
				t.Fatalf("Pages() = %d, want %d", d.Pages(), in.pages)
			}
			pages := splitAll(t, d)
			for i, p := range pages {
				if n := open(t, p, Options{}).Pages(); n != 1 {
					t.Errorf("page %d reopens with %d pages", i+1, n)
				}
			}
			pdftest.NeedQPDF(t)
			var wg sync.WaitGroup
			sem := make(chan struct{}, runtime.NumCPU())
			for i, p := range pages {
				wg.Go(func() {
					sem <- struct{}{}
					defer func() { <-sem }()
					if n := pdftest.QPDFCheck(t, fmt.Sprintf("page %d", i+1), p); n != 1 {
						t.Errorf("page %d: qpdf counts %d pages", i+1, n)
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestDeterministic: two Documents of one input give identical bytes for
// every page, whatever the order of calls, and identical dictionaries.
func TestDeterministic(t *testing.T) {
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			data := in.data(t)
			a, b := open(t, data, Options{}), open(t, data, Options{})
			dictB := dictionary(t, b, 1<<20) // before any Page call on b
			pa := splitAll(t, a)
			for i := b.Pages(); i >= 1; i-- {
				pb, err := b.Page(i)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(pa[i-1], pb) {
					t.Errorf("page %d differs between two Opens", i)
				}
			}
			if !bytes.Equal(dictionary(t, a, 1<<20), dictB) {
				t.Error("the dictionary differs between two Opens")
			}
			for _, p := range pa {
				if bytes.Contains(p, []byte("/Producer")) || bytes.Contains(p, []byte("/ModDate")) || bytes.Contains(p, []byte("/CreationDate")) {
					t.Fatal("a page carries a Producer or date")
				}
			}
		})
	}
}

// TestSharedResourcesZstd: the dictionary makes per-page zstd effective, and
// each page restores alone.
func TestSharedResourcesZstd(t *testing.T) {
	src := pdftest.Doc(200, pdftest.DocOptions{FontBytes: 64 << 10, Image: true})
	d := open(t, src, Options{})
	pages := splitAll(t, d)
	dict := dictionary(t, d, 1<<20)
	if len(dict) == 0 {
		t.Fatal("empty dictionary")
	}
	if small := dictionary(t, d, 1000); len(small) != 1000 {
		t.Errorf("a 1000-byte dictionary is %d bytes", len(small))
	}
	plain, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	withDict, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderDictRaw(0, dict))
	if err != nil {
		t.Fatal(err)
	}
	defer withDict.Close()
	dec, err := zstd.NewReader(nil, zstd.WithDecoderDictRaw(0, dict), zstd.WithDecoderMaxMemory(64<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var total, totalPlain, totalDict int
	var frames [][]byte
	for i, p := range pages {
		total += len(p)
		totalPlain += len(plain.EncodeAll(p, nil))
		f := withDict.EncodeAll(p, nil)
		totalDict += len(f)
		frames = append(frames, f)
		back, err := dec.DecodeAll(f, nil)
		if err != nil || !bytes.Equal(back, p) {
			t.Fatalf("page %d does not round-trip: %v", i+1, err)
		}
	}
	ratio := float64(totalDict+len(dict)) / float64(len(src))
	t.Logf("Doc(200): source %d B, pages %d B, zstd pages %d B, zstd+dict pages %d B + dict %d B = %.3f of source",
		len(src), total, totalPlain, totalDict, len(dict), ratio)
	// Without the dictionary the pages compress to about their own size,
	// ~57× the source; with it the set must cost less than the source.
	if ratio > 1 || totalDict+len(dict) > totalPlain/10 {
		t.Errorf("dictionary ratio %.3f of source (%d B vs %d B without it)", ratio, totalDict+len(dict), totalPlain)
	}

	// The standard CLI restores a page with the raw dictionary file.
	if _, err := exec.LookPath("zstd"); err != nil {
		t.Skip("zstd CLI not installed: skipping the CLI round trip")
	}
	dir := t.TempDir()
	dictPath, framePath := filepath.Join(dir, "dict"), filepath.Join(dir, "page.zst")
	os.WriteFile(dictPath, dict, 0o600)
	os.WriteFile(framePath, frames[41], 0o600)
	out, err := exec.Command("zstd", "-q", "-d", "-c", "-D", dictPath, framePath).Output()
	if err != nil || !bytes.Equal(out, pages[41]) {
		t.Errorf("zstd -d -D dict: %v (%d bytes, want %d)", err, len(out), len(pages[41]))
	}
}

// vmHWM is the process's peak resident set, from /proc (0 elsewhere).
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(rest)
		}
	}
	return "n/a"
}

// TestCorpus: every hostile input ends in success or its expected kind.
func TestCorpus(t *testing.T) {
	for _, c := range pdftest.Corpus() {
		t.Run(c.Name, func(t *testing.T) {
			pdftest.SkipLargeIfShort(t, c)
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err := splitEverything(c.Data, Options{})
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if got := pipeerr.KindOf(err); got != c.Want {
				t.Fatalf("kind %q, want %q: %v", got, c.Want, err)
			}
			var pe *pipeerr.Error
			if err != nil && !errors.As(err, &pe) {
				t.Errorf("error is not classified: %v", err)
			}
			bomb := strings.HasPrefix(c.Name, "flate-bomb")
			if err == nil && !bomb { // poppler would inflate the bomb's gigabyte
				renderSome(t, c.Data, pdftest.Reference(c))
			}
			if bomb {
				grew := int64(after.TotalAlloc - before.TotalAlloc)
				t.Logf("flate bomb (%d B decoding to %d B): allocated %d KiB while splitting, heap in use %d MiB, peak RSS (VmHWM) %s",
					len(c.Data), pdftest.BombDecodedBytes, grew>>10, after.HeapInuse>>20, vmHWM())
				if grew > 64<<20 {
					t.Errorf("splitting the bomb allocated %d bytes", grew)
				}
			}
		})
	}
}

// TestMediaBoxNotARectangle: a page whose own /MediaBox is not four
// numbers is drawn in its page tree node's box, as poppler draws the
// source page, not in US Letter (qpdf's page, which keeps the box as it
// is, is drawn in US Letter: it cannot witness this).
func TestMediaBoxNotARectangle(t *testing.T) {
	var c pdftest.Case
	for _, c = range pdftest.Corpus() {
		if c.Name == "mediabox-not-a-rectangle" {
			break
		}
	}
	if c.Name != "mediabox-not-a-rectangle" {
		t.Fatal("no corpus case mediabox-not-a-rectangle")
	}
	d := open(t, c.Data, Options{})
	for n := 1; n <= d.Pages(); n++ {
		p, err := d.Page(n)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pdftest.Render(t, p, 1), pdftest.Render(t, c.Data, n)) {
			t.Errorf("page %d renders differently from the source page", n)
		}
	}
}

// renderSome checks the first and last pages of data as a reader would:
// each passes qpdf --check and renders as the page of ref does.
func renderSome(t *testing.T, data, ref []byte) {
	t.Helper()
	d := open(t, data, Options{})
	for _, n := range slices.Compact([]int{1, d.Pages()}) {
		p, err := d.Page(n)
		if err != nil {
			t.Fatal(err)
		}
		pdftest.QPDFCheck(t, fmt.Sprintf("page %d", n), p)
		pdftest.SameRendering(t, "corpus", ref, n, p)
	}
}

// splitEverything opens data and exercises every exported method.
func splitEverything(data []byte, opts Options) error {
	d, err := Open(bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return err
	}
	for i := 1; i <= d.Pages(); i++ {
		if _, err := d.Page(i); err != nil {
			return err
		}
	}
	o, err := d.Objects()
	if err != nil {
		return err
	}
	o.Dictionary(64 << 10)
	return nil
}

func TestEncrypted(t *testing.T) {
	var user, owner []byte
	for _, c := range pdftest.Corpus() {
		switch c.Name {
		case "encrypted-user-password":
			user = c.Data
		case "encrypted-owner-only":
			owner = c.Data
		}
	}
	for _, tc := range []struct {
		name     string
		data     []byte
		password string
		want     pipeerr.Kind
		msg      string
	}{
		{"user/none", user, "", pipeerr.Encrypted, "encrypted: a user password is required"},
		{"user/wrong", user, "nope", pipeerr.Encrypted, "encrypted: the password is wrong"},
		{"user/user", user, pdftest.UserPassword, "", ""},
		{"user/owner", user, pdftest.OwnerPassword, "", ""},
		{"owner-only/none", owner, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := openEncrypted(t, tc.data, tc.password, tc.want, tc.msg)
			if d == nil {
				return
			}
			for i, p := range splitAll(t, d) {
				if bytes.Contains(p, []byte("/Encrypt")) {
					t.Errorf("page %d is still encrypted", i+1)
				}
				if !bytes.Contains(p, []byte("Page "+fmt.Sprint(i+1)+" of 2")) {
					t.Errorf("page %d: content not decrypted", i+1)
				}
				pdftest.QPDFCheck(t, fmt.Sprintf("page %d", i+1), p)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	doc := pdftest.Doc(3, pdftest.DocOptions{FontBytes: 1024})
	for _, tc := range []struct {
		name   string
		limits Limits
		want   pipeerr.Kind
	}{
		{"pages", Limits{MaxPages: 2}, pipeerr.TooManyPages},
		{"pages-exact", Limits{MaxPages: 3}, ""},
		{"bytes", Limits{MaxBytes: 1000}, pipeerr.TooLarge},
		// pdfcpu's relaxed reader drops an object nested too deep; here
		// that is a page, so the page tree is damaged.
		{"depth", Limits{MaxDepth: 2}, pipeerr.Damaged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := splitEverything(doc, Options{Limits: tc.limits})
			if got := pipeerr.KindOf(err); got != tc.want {
				t.Errorf("kind %q, want %q: %v", got, tc.want, err)
			}
		})
	}
}

func TestPageOutOfRange(t *testing.T) {
	d := open(t, pdftest.Doc(2, pdftest.DocOptions{}), Options{})
	for _, n := range []int{0, 3, -1} {
		if _, err := d.Page(n); pipeerr.KindOf(err) != pipeerr.Internal {
			t.Errorf("Page(%d): %v, want an Internal error", n, err)
		}
	}
}

// FuzzOpen: no input makes Open, Page, Objects or Dictionary panic or return an
// unclassified or Internal error.
func FuzzOpen(f *testing.F) {
	for _, c := range pdftest.Corpus() {
		f.Add(c.Data)
	}
	for _, name := range []string{"pages-3.pdf", "sample.pdf"} {
		f.Add(readTestdata(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		limits := Limits{MaxBytes: 4 << 20, MaxPages: 200, MaxDecodedBytes: 16 << 20}
		err := splitEverything(data, Options{Limits: limits})
		if err == nil {
			return
		}
		var pe *pipeerr.Error
		if !errors.As(err, &pe) {
			t.Fatalf("unclassified error: %v", err)
		}
		if pe.Kind == pipeerr.Internal {
			t.Fatalf("internal error: %v", err)
		}
	})
}

// BenchmarkPage measures one Page call; bytes are the page's output size.
// EFSPIPE_BENCH_PDF names a real PDF to measure too (none is committed).
func BenchmarkPage(b *testing.B) {
	inputs := map[string][]byte{
		"doc200": pdftest.Doc(200, pdftest.DocOptions{FontBytes: 64 << 10, Image: true}),
	}
	if path := os.Getenv("EFSPIPE_BENCH_PDF"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		inputs["real"] = data
	}
	for _, name := range []string{"doc200", "real"} {
		data, ok := inputs[name]
		b.Run(name, func(b *testing.B) {
			if !ok {
				b.Skip("set EFSPIPE_BENCH_PDF to a real PDF to measure it")
			}
			d := open(b, data, Options{})
			first, err := d.Page(1)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(first)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, err := d.Page(n%d.Pages() + 1); err != nil {
					b.Fatal(err)
				}
				n++
			}
		})
	}
}

// BenchmarkRecipe measures what the split stage does per page: the
// page's recipe, its shared objects left out; bytes are the page's size,
// so MB/s compares with BenchmarkPage.
func BenchmarkRecipe(b *testing.B) {
	data := pdftest.Doc(200, pdftest.DocOptions{FontBytes: 64 << 10, Image: true})
	if path := os.Getenv("EFSPIPE_BENCH_PDF"); path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			b.Fatal(err)
		}
	}
	d := open(b, data, Options{})
	_, size, err := d.AppendRecipe(nil, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var buf []byte
	n := 0
	for b.Loop() {
		if buf, _, err = d.AppendRecipe(buf[:0], n%d.Pages()+1); err != nil {
			b.Fatal(err)
		}
		n++
	}
}

// BenchmarkOpen measures parsing, the once-per-document cost.
func BenchmarkOpen(b *testing.B) {
	data := pdftest.Doc(200, pdftest.DocOptions{FontBytes: 64 << 10, Image: true})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		open(b, data, Options{})
	}
}

// BenchmarkOpenHeld measures what a parse of an image-heavy document
// holds once it is open (live heap after a collection, beside the input's
// own bytes): held-B/op, and held/input, how many times the input's size.
func BenchmarkOpenHeld(b *testing.B) {
	for _, size := range []struct {
		name          string
		pages, images int
	}{{"42x164KB", 42, 164000}, {"200x300KB", 200, 300000}} {
		b.Run(size.name, func(b *testing.B) {
			data := pdftest.ImageDoc(size.pages, size.images)
			b.SetBytes(int64(len(data)))
			var ms runtime.MemStats
			held := uint64(0)
			for b.Loop() {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				before := ms.HeapAlloc
				d := open(b, data, Options{})
				runtime.GC()
				runtime.ReadMemStats(&ms)
				held = max(held, ms.HeapAlloc-before)
				runtime.KeepAlive(d)
			}
			b.ReportMetric(float64(held), "held-B/op")
			b.ReportMetric(float64(held)/float64(len(data)), "held/input")
		})
	}
}

// TestRecipes: a recipe assembles to the page; the shared objects are left
// out of it; a second parse adopting the table, or the table read back from
// its encoding, gives the same recipes.
func TestRecipes(t *testing.T) {
	data := pdftest.Doc(20, pdftest.DocOptions{FontBytes: 32 << 10, Image: true})
	a, b := open(t, data, Options{}), open(t, data, Options{})
	table, err := a.Objects()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeObjects(table.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b.UseObjects(back)
	if table.Len() < 3 || table.Size() < 44<<10 {
		t.Fatalf("table of %d objects, %d bytes: the font and image are missing", table.Len(), table.Size())
	}
	for n := 1; n <= a.Pages(); n++ {
		ra, size, err := a.AppendRecipe(nil, n)
		if err != nil {
			t.Fatal(err)
		}
		rb, _, err := b.AppendRecipe(nil, n)
		if err != nil || !bytes.Equal(ra, rb) {
			t.Fatalf("page %d: the adopted table gives another recipe (%v)", n, err)
		}
		page, err := back.Assemble(nil, ra)
		if err != nil || len(page) != size {
			t.Fatalf("page %d: %d bytes, want %d (%v)", n, len(page), size, err)
		}
		if want, _ := a.Page(n); !bytes.Equal(page, want) {
			t.Fatalf("page %d: the assembled recipe is not the page", n)
		}
		if len(ra)*10 > size {
			t.Errorf("page %d: recipe of %d bytes for a %d-byte page", n, len(ra), size)
		}
	}
}

// TestObjectsReferringToPagesStayInPages: an object every page shares but
// that points at a page is written differently in that page (a reference)
// and in the others (null), so it is never taken into the table.
func TestObjectsReferringToPagesStayInPages(t *testing.T) {
	d := open(t, pdftest.Doc(3, pdftest.DocOptions{HomeLink: true}), Options{})
	pages := splitAll(t, d)
	if !bytes.Contains(pages[0], []byte(" 0 R /Fit]")) {
		t.Error("page 1 lost its link to itself")
	}
	for i, p := range pages[1:] {
		if !bytes.Contains(p, []byte("/Dest [null /Fit]")) {
			t.Errorf("page %d: the link to page 1 is not null", i+2)
		}
	}
	pdftest.NeedQPDF(t)
	for i, p := range pages {
		pdftest.QPDFCheck(t, fmt.Sprintf("page %d", i+1), p)
	}
}

// FuzzAssemble: no recipe or table bytes make decoding or assembling panic,
// and whatever assembles has the size its recipe declares.
func FuzzAssemble(f *testing.F) {
	d := open(f, pdftest.Doc(3, pdftest.DocOptions{FontBytes: 1024}), Options{})
	table, err := d.Objects()
	if err != nil {
		f.Fatal(err)
	}
	recipe, _, err := d.AppendRecipe(nil, 2)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(table.Encode(), recipe)
	f.Fuzz(func(t *testing.T, tb, recipe []byte) {
		o, err := DecodeObjects(tb)
		if err != nil {
			return
		}
		page, err := o.Assemble(nil, recipe)
		if err != nil {
			return
		}
		size, _ := binary.Uvarint(recipe)
		if uint64(len(page)) != size {
			t.Fatalf("assembled %d bytes, the recipe declares %d", len(page), size)
		}
	})
}

// TestPanicIsOneLine: a panic inside the parser becomes one line for the
// user (the CLI's message, a Step Functions cause); the stack stays in
// the error for the debug log.
func TestPanicIsOneLine(t *testing.T) {
	err := func() (err error) {
		defer catch(&err, pipeerr.Damaged, "damaged: the PDF parser failed on this file")
		set := func(m map[string]int) { m["x"] = 1 }
		set(nil) // a runtime panic, as pdfcpu's are
		return nil
	}()
	if pipeerr.KindOf(err) != pipeerr.Damaged || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "assignment to entry in nil map") {
		t.Fatalf("message %q", err)
	}
	var pe *PanicError
	if !errors.As(err, &pe) || !bytes.Contains(pe.PanicStack(), []byte("TestPanicIsOneLine")) {
		t.Fatal("the stack is lost")
	}
}

// openEncrypted opens an encrypted source with password and checks the
// error's kind and message prefix; it returns the document when no error
// is wanted, after checking that it reports the encryption.
func openEncrypted(t *testing.T, data []byte, password string, want pipeerr.Kind, msg string) *Document {
	t.Helper()
	d, err := Open(bytes.NewReader(data), int64(len(data)), Options{Password: password})
	if got := pipeerr.KindOf(err); got != want {
		t.Fatalf("kind %q, want %q: %v", got, want, err)
	}
	if err != nil {
		// The whole message: pdfcpu's "please provide the correct
		// password" after it said the same again.
		if err.Error() != msg {
			t.Errorf("message %q, want %q", err, msg)
		}
		return nil
	}
	if !d.Encrypted() {
		t.Error("Encrypted() is false for an encrypted source")
	}
	return d
}
