package pdfsplit

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// qdf is pdf as qpdf rewrites it with every stream decoded, for looking
// at its text.
func qdf(t testing.TB, pdf []byte) string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("qpdf", "--qdf", "--object-streams=disable", in, "-").Output()
	if err != nil {
		t.Fatalf("qpdf --qdf: %v", err)
	}
	return string(out)
}

// TestRepairCorpus: every case the repair layer exists for splits into
// its pages, each of which qpdf accepts without a warning and whose text
// is the page's own, decrypted; the document says what was repaired.
func TestRepairCorpus(t *testing.T) {
	for _, c := range pdftest.RepairCases() {
		if c.Want != "" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			d, err := Open(bytes.NewReader(c.Data), int64(len(c.Data)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			encrypted := strings.HasPrefix(c.Name, "encrypted-")
			if d.Encrypted() != encrypted {
				t.Errorf("Encrypted() = %v, want %v", d.Encrypted(), encrypted)
			}
			// pdfcpu reads these as they are: nothing to repair.
			readAsIs := map[string]bool{"header-version-2.0-extensions": true, "object-stream-n-too-large": true}
			if len(d.Repairs()) == 0 && !readAsIs[c.Name] {
				t.Error("Repairs() is empty")
			}
			pages := splitAll(t, d)
			if len(pages) != pdftest.RepairPages {
				t.Fatalf("%d pages, want %d", len(pages), pdftest.RepairPages)
			}
			pdftest.NeedQPDF(t)
			for i, p := range pages {
				if n := pdftest.QPDFCheck(t, fmt.Sprintf("page %d", i+1), p); n != 1 {
					t.Errorf("page %d: qpdf counts %d pages", i+1, n)
				}
				text := qdf(t, p)
				want := fmt.Sprintf("(Page %d of %d)", i+1, pdftest.RepairPages)
				// The damaged header hides page 1's content from every
				// reader that checks it: blank, as qpdf and poppler show it.
				if blank := c.Name == "object-header-damaged" && i == 0; blank == strings.Contains(text, want) {
					t.Errorf("page %d: draws %s: %v, want %v", i+1, want, blank, !blank)
				}
				if i == 0 && encrypted && strings.Contains(text, "/Annots") && !strings.Contains(text, pdftest.AnnotationText) {
					t.Errorf("page 1: the annotation's string is not decrypted")
				}
			}
		})
	}
}

// TestRepairedXref: the hostile cases whose cross-reference table the
// repair layer rebuilds split into pages qpdf accepts.
func TestRepairedXref(t *testing.T) {
	for _, c := range pdftest.Corpus() {
		want := map[string]int{"corrupt-xref": 3, "xref-prev-loop": 1}[c.Name]
		if want == 0 {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			pages := splitAll(t, open(t, c.Data, Options{}))
			if len(pages) != want {
				t.Fatalf("%d pages, want %d", len(pages), want)
			}
			for i, p := range pages {
				pdftest.QPDFCheck(t, fmt.Sprintf("page %d", i+1), p)
			}
		})
	}
}

// TestRepairEncryptedPasswords: a password pdfcpu cannot use (or the
// empty one, where the owner password is empty) opens the file in the
// repair layer; a wrong one is an Encrypted error.
func TestRepairEncryptedPasswords(t *testing.T) {
	cases := map[string][]byte{}
	for _, c := range pdftest.Corpus() {
		cases[c.Name] = c.Data
	}
	for _, tc := range []struct {
		name, password string
		want           pipeerr.Kind
		msg            string
	}{
		{"encrypted-r6-empty-owner", "", "", ""},
		{"encrypted-r6-empty-owner", pdftest.UserPassword, "", ""},
		{"encrypted-rc4-user-password", pdftest.UserPassword, "", ""},
		{"encrypted-rc4-user-password", pdftest.OwnerPassword, "", ""},
		{"encrypted-rc4-user-password", "", pipeerr.Encrypted, "encrypted: a user password is required"},
		{"encrypted-rc4-user-password", "nope", pipeerr.Encrypted, "encrypted: the password is wrong"},
		{"encrypted-user-password", "nope", pipeerr.Encrypted, "encrypted: the password is wrong"},
		{"encrypted-direct-dictionary-user-password", pdftest.UserPassword, "", ""},
		{"encrypted-direct-dictionary-user-password", pdftest.OwnerPassword, "", ""},
		{"encrypted-direct-dictionary-user-password", "", pipeerr.Encrypted, "encrypted: a user password is required"},
		{"encrypted-direct-dictionary-user-password", "nope", pipeerr.Encrypted, "encrypted: the password is wrong"},
	} {
		t.Run(tc.name+"/"+tc.password, func(t *testing.T) {
			d := openEncrypted(t, cases[tc.name], tc.password, tc.want, tc.msg)
			if d == nil {
				return
			}
			pdftest.NeedQPDF(t)
			for i, p := range splitAll(t, d) {
				if bytes.Contains(p, []byte("/Encrypt")) {
					t.Errorf("page %d is still encrypted", i+1)
				}
				pdftest.QPDFCheck(t, fmt.Sprintf("page %d", i+1), p)
				if want := fmt.Sprintf("(Page %d of %d)", i+1, pdftest.RepairPages); !strings.Contains(qdf(t, p), want) {
					t.Errorf("page %d does not draw %s", i+1, want)
				}
			}
		})
	}
}

// TestUndecrypted: pdfcpu's own table rebuild leaves an encrypted file's
// streams as stored, which Open must notice; a file it reads normally is
// decrypted.
func TestUndecrypted(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"encrypted-prev-broken", true},
		// Read from the start of the file, not from its header: the
		// offsets miss and pdfcpu's rebuilt table holds ciphertext.
		{"encrypted-linearized-junk-before-header", true},
		{"encrypted-linearized", false},
		{"encrypted-owner-only", false},
		{"encrypted-user-password", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var data []byte
			for _, c := range pdftest.Corpus() {
				if c.Name == tc.name {
					data = c.Data
				}
			}
			r := bytes.NewReader(data)
			pw := ""
			if tc.name == "encrypted-user-password" {
				pw = pdftest.UserPassword
			}
			ctx, err := read(r, pw, Limits{}.withDefaults())
			if err != nil {
				t.Fatal(err)
			}
			err = checkStreams(ctx, r)
			if got := err != nil && strings.Contains(err.Error(), "read as stored"); got != tc.want {
				t.Errorf("streams read as stored: %v, want %v (%v)", got, tc.want, err)
			}
		})
	}
}

// TestEncryptedLinearizedJunk: an encrypted, linearized file with bytes
// before its header once had every page's content published still
// encrypted (issue 12's worst case). Every page of it must pass qpdf
// --check, draw its own text in the clear and render as the source page.
func TestEncryptedLinearizedJunk(t *testing.T) {
	var data []byte
	for _, c := range pdftest.Corpus() {
		if c.Name == "encrypted-linearized-junk-before-header" {
			data = c.Data
		}
	}
	d := open(t, data, Options{})
	if !d.Encrypted() {
		t.Error("Encrypted() is false")
	}
	pages := splitAll(t, d)
	if len(pages) != pdftest.RepairPages {
		t.Fatalf("%d pages, want %d", len(pages), pdftest.RepairPages)
	}
	for i, p := range pages {
		name := fmt.Sprintf("page %d", i+1)
		if bytes.Contains(p, []byte("/Encrypt")) {
			t.Errorf("%s refers to an encryption dictionary", name)
		}
		if want := fmt.Sprintf("(Page %d of %d)", i+1, pdftest.RepairPages); !bytes.Contains(p, []byte(want)) {
			t.Errorf("%s does not hold %s in the clear", name, want)
		}
		pdftest.QPDFCheck(t, name, p)
		pdftest.SameRendering(t, name, data, i+1, p)
	}
}

// TestRepairDeterministic: the rebuilt file is a function of the input,
// and so are the pages split from it.
func TestRepairDeterministic(t *testing.T) {
	for _, c := range pdftest.RepairCases() {
		if c.Want != "" {
			continue
		}
		a, err := repair(c.Data, "", "1.7", Limits{}.withDefaults())
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		b, _ := repair(bytes.Clone(c.Data), "", "1.7", Limits{}.withDefaults())
		if !bytes.Equal(a.data, b.data) || strings.Join(a.notes, "|") != strings.Join(b.notes, "|") {
			t.Errorf("%s: two repairs differ", c.Name)
		}
		da, db := open(t, c.Data, Options{}), open(t, c.Data, Options{})
		pa, pb := splitAll(t, da), splitAll(t, db)
		for i := range pa {
			if !bytes.Equal(pa[i], pb[i]) {
				t.Errorf("%s: page %d differs between two Opens", c.Name, i+1)
			}
		}
	}
}

// TestRepairValidDocument: a sound document rebuilds to a file of about
// its size that splits into the same pages' text.
func TestRepairValidDocument(t *testing.T) {
	src := pdftest.Doc(200, pdftest.DocOptions{FontBytes: 64 << 10, Image: true})
	fixed, err := repair(src, "", "1.7", Limits{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if len(fixed.data) > len(src)+len(src)/10 {
		t.Errorf("rebuilt %d bytes from %d", len(fixed.data), len(src))
	}
	d := open(t, fixed.data, Options{})
	if d.Pages() != 200 {
		t.Fatalf("%d pages, want 200", d.Pages())
	}
	orig := open(t, src, Options{})
	for _, n := range []int{1, 100, 200} {
		a, _ := orig.Page(n)
		b, _ := d.Page(n)
		// Objects keep their numbers and stream data its bytes, so the
		// page is the same one; only the numbers the writer adds for the
		// page's catalog differ (the rebuilt file has no xref stream).
		if !bytes.Contains(b, []byte(fmt.Sprintf("(Page %d of 200)", n))) || len(a) != len(b) {
			t.Errorf("page %d: %d bytes from the source, %d from the rebuilt file", n, len(a), len(b))
		}
	}
}

// TestRepairLimits: the repair layer keeps the limits: decoding object
// streams stops at MaxDecodedBytes, and a file with more objects than
// MaxObjects is not rebuilt.
func TestRepairLimits(t *testing.T) {
	var zipped bytes.Buffer
	zw := zlib.NewWriter(&zipped)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	b := &rebuilder{l: Limits{}.withDefaults(), budget: 1000}
	os := &robj{val: types.Dict{"Filter": types.Name("FlateDecode")}, stream: true, data: zipped.Bytes()}
	if _, err := b.decode(os); err == nil {
		t.Error("decoded 1 MiB with a budget of 1000 bytes")
	}
	b.budget = 2 << 20
	if out, err := b.decode(os); err != nil || len(out) != 1<<20 || b.budget != 1<<20 {
		t.Errorf("decoded %d bytes (%v), budget left %d", len(out), err, b.budget)
	}

	doc := pdftest.Doc(3, pdftest.DocOptions{FontBytes: 1024})
	if _, err := repair(doc, "", "1.7", Limits{MaxObjects: 5}.withDefaults()); err == nil {
		t.Error("rebuilt a file of 11 objects with MaxObjects 5")
	}
}

func TestView(t *testing.T) {
	src := []byte("junk\n%PDF-1.8\nbody")
	h := head{at: 5}
	h.headerVersion(src[5+len("%PDF-"):])
	if h.version != "1.7" || !h.patch {
		t.Fatalf("version %q patch %v", h.version, h.patch)
	}
	for _, tc := range []struct {
		base int64
		want string
	}{
		{5, "%PDF-1.7\nbody"},
		{0, "junk\n%PDF-1.7\nbody"},
	} {
		v := h.view(bytes.NewReader(src), int64(len(src)), tc.base)
		// Byte by byte: the patch must apply across reads.
		var got []byte
		one := make([]byte, 1)
		for {
			n, err := v.Read(one)
			got = append(got, one[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if string(got) != tc.want {
			t.Errorf("base %d: read %q, want %q", tc.base, got, tc.want)
		}
		if end, _ := v.Seek(0, io.SeekEnd); end != int64(len(tc.want)) {
			t.Errorf("base %d: size %d", tc.base, end)
		}
		if _, err := v.Seek(-1, io.SeekStart); err == nil {
			t.Error("seek before the start succeeded")
		}
	}
	for _, tc := range []struct{ header, version string }{
		{"1.4", "1.4"}, {"2.0", "2.0"}, {"1.9", "1.7"}, {"2.1", "2.0"}, {"3.0", "2.0"}, {"x.y", ""},
	} {
		var h head
		h.headerVersion([]byte(tc.header + "\n"))
		if h.version != tc.version {
			t.Errorf("header %s: version %q, want %q", tc.header, h.version, tc.version)
		}
	}
}

// TestReadable: pdfcpu's messages lose their Go internals, and keep the
// rest; the original stays reachable.
func TestReadable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"xref table: strconv.Atoi: parsing \"x0\": invalid syntax", "xref table"},
		{"xref table: bytes.Reader.Seek: negative position", "xref table"},
		{"decompressXRefTableEntry: problem dereferencing object stream 14: IndexedObject(1): object not available", "problem dereferencing object stream 14: object not available"},
		{"xref table: missing trailer Size", "xref table: missing trailer Size"},
		{"encryption setup: please provide the correct password", "encryption setup: please provide the correct password"},
		{"bytes.Reader.Seek: negative position", "its structure is invalid"},
	} {
		orig := errors.New(tc.in)
		err := readable(orig)
		if err.Error() != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, err, tc.want)
		}
		if !errors.Is(err, orig) {
			t.Errorf("%q: the original is not wrapped", tc.in)
		}
	}
}

// TestRefusedMessages: what stays refused says so in one line a user
// reads, without Go internals, and keeps its kind.
func TestRefusedMessages(t *testing.T) {
	for _, c := range pdftest.Corpus() {
		if c.Want == "" {
			continue
		}
		err := splitEverything(c.Data, Options{})
		if pipeerr.KindOf(err) != c.Want {
			t.Errorf("%s: kind %q, want %q", c.Name, pipeerr.KindOf(err), c.Want)
			continue
		}
		msg := err.Error()
		for _, internal := range []string{"strconv.", "bytes.Reader", "goroutine", "runtime error", "\n"} {
			if strings.Contains(msg, internal) {
				t.Errorf("%s: message %q contains %q", c.Name, msg, internal)
			}
		}
	}
}

// TestSniff: a file without "%PDF-" in its first 1024 bytes is a PDF if
// it has one later or objects and a trailer; otherwise it is not.
func TestSniff(t *testing.T) {
	doc := pdftest.Doc(1, pdftest.DocOptions{FontBytes: 1024})
	body := doc[bytes.Index(doc, []byte("1 0 obj")):]
	for _, tc := range []struct {
		name string
		data []byte
		at   int64
		want pipeerr.Kind
	}{
		{"header", doc, 0, ""},
		{"late-header", append(bytes.Repeat([]byte(" "), 2000), doc...), 2000, ""},
		{"no-header", body, -1, ""},
		{"text", bytes.Repeat([]byte("plain text, no objects\n"), 100), -1, pipeerr.NotPDF},
		{"objects-only", bytes.Repeat([]byte("1 0 obj 5 endobj\n"), 100), -1, pipeerr.NotPDF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := sniff(bytes.NewReader(tc.data), int64(len(tc.data)), 1<<30)
			if got := pipeerr.KindOf(err); got != tc.want {
				t.Fatalf("kind %q, want %q: %v", got, tc.want, err)
			}
			if err == nil && h.at != tc.at {
				t.Errorf("header at %d, want %d", h.at, tc.at)
			}
		})
	}
}

// TestSniffLargeNotPDF: a large upload of another kind, without "%PDF-"
// in its first 1,024 bytes, is refused without being held in memory.
func TestSniffLargeNotPDF(t *testing.T) {
	data := make([]byte, 16<<20)
	for i := range data {
		data[i] = byte(i*7919>>3) | 0x80 // no ASCII: neither a header nor "obj"
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Open(bytes.NewReader(data), int64(len(data)), Options{})
	runtime.ReadMemStats(&after)
	if pipeerr.KindOf(err) != pipeerr.NotPDF {
		t.Fatalf("kind %q, want NotPDF: %v", pipeerr.KindOf(err), err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("refusing a %d-byte non-PDF allocated %d bytes", len(data), grew)
	}
}

// FuzzRepair: no input makes the repair layer panic or loop; whatever it
// rebuilds, pdfcpu parses without a panic escaping.
func FuzzRepair(f *testing.F) {
	for _, c := range pdftest.Corpus() {
		if len(c.Data) < 1<<20 {
			f.Add(c.Data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := Limits{MaxBytes: 4 << 20, MaxPages: 200, MaxDecodedBytes: 16 << 20, MaxObjects: 100_000}.withDefaults()
		fixed, err := repair(data, "", "", l)
		if err != nil {
			return
		}
		if _, err := Open(bytes.NewReader(fixed.data), int64(len(fixed.data)), Options{Limits: l}); err != nil {
			var pe *pipeerr.Error
			if !errors.As(err, &pe) || pe.Kind == pipeerr.Internal {
				t.Fatalf("unclassified or internal error: %v", err)
			}
		}
	})
}

// BenchmarkRepair measures rebuilding a sound 200-page document (bytes
// are the input's).
func BenchmarkRepair(b *testing.B) {
	src := pdftest.Doc(200, pdftest.DocOptions{FontBytes: 64 << 10, Image: true})
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := repair(src, "", "1.7", Limits{}.withDefaults()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenRepaired measures Open of the document BenchmarkOpen opens
// with the first entries of its cross-reference table garbled: pdfcpu's
// refusal, the rebuild and the parse of the rebuilt file.
func BenchmarkOpenRepaired(b *testing.B) {
	data := bytes.Clone(pdftest.Doc(200, pdftest.DocOptions{FontBytes: 64 << 10, Image: true}))
	x := bytes.LastIndex(data, []byte("\nxref\n")) + len("\nxref\n")
	x += bytes.IndexByte(data[x:], '\n') + 1 + 20 // after the free entry 0
	copy(data[x:], "zz9zz9zz9z")
	if d := open(b, data, Options{}); len(d.Repairs()) == 0 || d.Pages() != 200 {
		b.Fatalf("%d pages, repairs %q", d.Pages(), d.Repairs())
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		open(b, data, Options{})
	}
}

// BenchmarkCheckStreams measures what Open adds to a parse that succeeds:
// the look at the file around every stream of BenchmarkOpen's document.
func BenchmarkCheckStreams(b *testing.B) {
	data := pdftest.Doc(200, pdftest.DocOptions{FontBytes: 64 << 10, Image: true})
	r := bytes.NewReader(data)
	ctx, err := read(r, "", Limits{}.withDefaults())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := checkStreams(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSoundFilesNotRepaired: a file pdfcpu reads as it is goes through no
// repair (the repair layer runs only after a refusal, and the stream check
// finds nothing to refuse in a sound file).
func TestSoundFilesNotRepaired(t *testing.T) {
	inputs := map[string][]byte{
		"doc":     pdftest.Doc(5, pdftest.DocOptions{FontBytes: 4096, Image: true, HomeLink: true}),
		"pages-3": readTestdata(t, "pages-3.pdf"),
		"sample":  readTestdata(t, "sample.pdf"),
	}
	for _, c := range pdftest.Corpus() {
		if c.Name == "encrypted-owner-only" || c.Name == "encrypted-linearized" {
			inputs[c.Name] = c.Data
		}
	}
	for name, data := range inputs {
		d := open(t, data, Options{})
		if r := d.Repairs(); r != nil {
			t.Errorf("%s: repaired: %q", name, r)
		}
	}
}

// TestDirectEncryptionFound: a direct encryption dictionary, which pdfcpu
// ignores, is found in a trailer, in a cross-reference stream pdfcpu
// loaded, and in one it did not (a stream without an entry of its own,
// read where startxref points).
func TestDirectEncryptionFound(t *testing.T) {
	cases := map[string][]byte{}
	for _, c := range pdftest.Corpus() {
		cases[c.Name] = c.Data
	}
	for _, tc := range []struct {
		name        string
		dropXRef    bool
		wantDirect  bool
		wantXRefHit bool
	}{
		{"encrypted-direct-dictionary", false, true, false},
		{"encrypted-direct-dictionary-xref-stream", false, true, true},
		{"encrypted-direct-dictionary-xref-stream", true, true, false},
		{"header-version-2.0-extensions", false, false, false},
	} {
		t.Run(fmt.Sprintf("%s/drop=%v", tc.name, tc.dropXRef), func(t *testing.T) {
			data := cases[tc.name]
			r := bytes.NewReader(data)
			ctx, err := read(r, "", Limits{}.withDefaults())
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantDirect && ctx.Encrypt != nil {
				t.Fatal("pdfcpu read the direct encryption dictionary: this check is no longer needed")
			}
			found := false
			for nr, e := range ctx.Table {
				if _, ok := e.Object.(types.XRefStreamDict); ok {
					found = true
					if tc.dropXRef {
						delete(ctx.Table, nr)
					}
				}
			}
			if found != tc.wantXRefHit && !tc.dropXRef {
				t.Fatalf("cross-reference stream in the table: %v, want %v", found, tc.wantXRefHit)
			}
			err = checkDirectEncryption(ctx, r)
			if got := errors.Is(err, errDirectEncryption); got != tc.wantDirect {
				t.Fatalf("direct encryption found: %v, want %v (%v)", got, tc.wantDirect, err)
			}
			if tc.wantDirect && pipeerr.KindOf(err) != pipeerr.Encrypted {
				t.Errorf("kind %q, want %q", pipeerr.KindOf(err), pipeerr.Encrypted)
			}
		})
	}
}

// TestOpenSecurityRefusesUnknownCryptFilter: a crypt filter that is not a
// dictionary, or a /StmF or /StrF naming one /CF does not define, is an
// error, not Identity: read as Identity, every stream or string would be
// published as the ciphertext it is.
func TestOpenSecurityRefusesUnknownCryptFilter(t *testing.T) {
	std := types.Dict{"CFM": types.Name("AESV2"), "Length": types.Integer(16)}
	for _, tc := range []struct {
		name string
		v    int
		cf   types.Dict
		stmF string
		want string
	}{
		{"filter-not-a-dictionary", 4, types.Dict{"StdCF": *types.NewIndirectRef(8, 0)}, "StdCF", "is not a dictionary"},
		{"aesv3-filter-not-a-dictionary", 5, types.Dict{"StdCF": types.Name("AESV3")}, "StdCF", "is not a dictionary"},
		{"stmf-undefined", 4, types.Dict{"StdCF": std}, "Other", "/StmF names the crypt filter Other"},
		{"stmf-undefined-no-cf", 5, nil, "StdCF", "/StmF names the crypt filter StdCF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := types.Dict{
				"Filter": types.Name("Standard"), "V": types.Integer(tc.v), "R": types.Integer(tc.v),
				"O": types.StringLiteral(strings.Repeat("o", 48)), "U": types.StringLiteral(strings.Repeat("u", 48)),
				"P": types.Integer(-4), "StmF": types.Name(tc.stmF), "StrF": types.Name("Identity"),
			}
			if tc.cf != nil {
				enc["CF"] = tc.cf
			}
			_, err := openSecurity(enc, []byte("0123456789abcdef"), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
}
