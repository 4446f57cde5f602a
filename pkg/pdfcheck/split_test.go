package pdfcheck

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/pkg/pdfsplit"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/testdata"
)

// splitPages is every page pdfsplit writes of src, as the compress stage
// assembles it.
func splitPages(t testing.TB, src []byte, password string) [][]byte {
	t.Helper()
	pages, err := split(src, password)
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

func split(src []byte, password string) ([][]byte, error) {
	d, err := pdfsplit.Open(bytes.NewReader(src), int64(len(src)), pdfsplit.Options{Password: password})
	if err != nil {
		return nil, err
	}
	pages := make([][]byte, d.Pages())
	for i := range pages {
		if pages[i], err = d.Page(i + 1); err != nil {
			return nil, err
		}
	}
	return pages, nil
}

// sources are the documents whose split pages the tests check: the
// sample, a 200-page generated document, every corpus case that splits
// (with the user password where it needs one), every feature document.
func sources() []struct {
	name, password string
	data           []byte
} {
	type src = struct {
		name, password string
		data           []byte
	}
	out := []src{
		{"sample", "", testdata.Sample},
		{"doc-image-links-200", "", pdftest.Doc(200, pdftest.DocOptions{Image: true, HomeLink: true})},
		{"shared-fonts", "", sharedFonts(5)},
		{"deepest-nesting", "", deepest()},
	}
	for _, c := range pdftest.Corpus() {
		if testing.Short() && c.Large() {
			continue
		}
		switch c.Want {
		case "":
			out = append(out, src{"corpus/" + c.Name, "", c.Data})
		case pipeerr.Encrypted:
			out = append(out, src{"corpus/" + c.Name, pdftest.UserPassword, c.Data})
		}
	}
	for _, f := range pdftest.Features() {
		out = append(out, src{"feature/" + f.Name, "", f.Data})
	}
	return out
}

// TestSplitPages: every page pdfsplit writes passes, and carries no object
// its catalog and /Info do not reach (an indirect /Length is written direct).
func TestSplitPages(t *testing.T) {
	for _, s := range sources() {
		t.Run(s.name, func(t *testing.T) {
			for i, p := range splitPages(t, s.data, s.password) {
				// compress probes Flate data only for encrypted sources
				// (see stages/compress): elsewhere it is copied as stored.
				opts := Options{Unused: true, NoProbe: !bytes.Contains(s.data, []byte("/Encrypt"))}
				if err := Page(p, opts); err != nil {
					t.Errorf("page %d: %v", i+1, err)
				}
			}
		})
	}
}

// sharedFonts is a source document of 2·k pages where fonts 0..k-1 are
// each shared by two pages: every font is pinned (the same number in every
// page that uses it), so each page's xref table has a free entry for the
// k-1 fonts it does not use.
func sharedFonts(k int) []byte {
	f := &file{}
	catalog, pages := f.add(obj{}), f.add(obj{})
	var kids strings.Builder
	for i := range k {
		font := f.add(obj{value: fmt.Sprintf("<</Type /Font /Subtype /Type1 /BaseFont /Helvetica /Name /F%d>>", i)})
		for j := range 2 {
			content := f.add(obj{value: "<<>>", stream: true, data: fmt.Appendf(nil, "BT /F0 24 Tf 72 700 Td (font %d page %d) Tj ET", i, j)})
			page := f.add(obj{value: fmt.Sprintf("<</Type /Page /Parent %d 0 R /Resources <</Font <</F0 %d 0 R>>>> /Contents %d 0 R>>", pages, font, content)})
			fmt.Fprintf(&kids, "%d 0 R ", page)
		}
	}
	f.set(catalog, obj{value: fmt.Sprintf("<</Type /Catalog /Pages %d 0 R>>", pages)})
	f.set(pages, obj{value: fmt.Sprintf("<</Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 612 792]>>", kids.String(), 2*k)})
	f.root = catalog
	return f.bytes()
}

// TestFromPage: the test helper writes every split page back byte for byte,
// so a mutation through it changes only what it says it changes.
func TestFromPage(t *testing.T) {
	for _, s := range sources() {
		for i, p := range splitPages(t, s.data, s.password) {
			if got := fromPage(p).bytes(); !bytes.Equal(got, p) {
				t.Fatalf("%s page %d: the helper writes it differently:\n%s\nwant\n%s", s.name, i+1, got, p)
			}
		}
	}
}

// splitPage is a page pdfsplit wrote, taken apart: the numbers of its page,
// catalog, page tree node, a content stream and a FlateDecode stream (0 when
// there is none), and its free entries.
type splitPage struct {
	name                                  string
	pdf                                   []byte
	page, catalog, pages, content, flated int
	free                                  []int
}

func takeApart(name string, pdf []byte) splitPage {
	sp := splitPage{name: name, pdf: pdf}
	for i, o := range fromPage(pdf).objs {
		n := i + 1
		switch {
		case o.free:
			sp.free = append(sp.free, n)
		case bytes.HasSuffix(o.raw, []byte("/Type /Page>>")):
			sp.page = n
		case bytes.HasSuffix(o.raw, []byte("/Type /Catalog>>")):
			sp.catalog = n
		case bytes.HasSuffix(o.raw, []byte("/Type /Pages>>")):
			sp.pages = n
		case bytes.Contains(o.raw, []byte("/FlateDecode")) && bytes.Contains(o.raw, []byte(">>\nstream\n")) && sp.flated == 0:
			sp.flated = n
		}
	}
	f := fromPage(pdf)
	fmt.Sscanf(string(f.objs[sp.page-1].raw[bytes.Index(f.objs[sp.page-1].raw, []byte("/Contents ")):]), "/Contents %d", &sp.content)
	return sp
}

// TestSplitPageDamage damages pages pdfsplit wrote, one fault at a time,
// and checks that Page names the fault: its reason, the object at fault
// and a byte offset inside the page.
func TestSplitPageDamage(t *testing.T) {
	var pages []splitPage
	for _, s := range []struct {
		name string
		data []byte
		page int
	}{
		{"sample", testdata.Sample, 1},
		{"shared-fonts", sharedFonts(5), 5},
		{"catalog-entries", pdftest.CatalogEntries(), 1},
		{"form-fields", pdftest.FormFields(), 1},
		{"typical", typical().bytes(), 1},
	} {
		pages = append(pages, takeApart(s.name, splitPages(t, s.data, "")[s.page-1]))
	}
	if len(pages[1].free) < 3 || pages[4].flated == 0 {
		t.Fatalf("the pages lack what the damage needs: %d free entries, FlateDecode stream %d", len(pages[1].free), pages[4].flated)
	}
	type damage struct {
		name   string
		reason Reason
		obj    int
		opts   Options
		pdf    []byte
	}
	for _, sp := range pages {
		if err := Page(sp.pdf, Options{}); err != nil {
			t.Fatalf("%s: the undamaged page fails: %v", sp.name, err)
		}
		size := len(fromPage(sp.pdf).objs) + 1
		var ds []damage
		// mut damages the objects and lets the offsets follow.
		mut := func(name string, reason Reason, obj int, fn func(f *file)) {
			f := fromPage(sp.pdf)
			fn(f)
			ds = append(ds, damage{name, reason, obj, Options{}, f.bytes()})
		}
		// raw damages the bytes as they are.
		raw := func(name string, reason Reason, obj int, pdf []byte) {
			ds = append(ds, damage{name, reason, obj, Options{}, pdf})
		}
		parent := fmt.Sprintf("/Parent %d 0 R", sp.pages)
		entry := func(n int) string {
			return string(sp.pdf[xrefStart(sp.pdf)+len(fmt.Sprintf("xref\n0 %d\n", size))+n*entryLen:][:entryLen])
		}

		// References.
		mut("ref-past-size", ReasonReference, sp.page, func(f *file) { f.editRaw(sp.page, parent, fmt.Sprintf("/Parent %d 0 R", size)) })
		mut("ref-above-2^31-1", ReasonReference, sp.page, func(f *file) { f.editRaw(sp.page, parent, "/Parent 2147483648 0 R") })
		mut("ref-generation-1", ReasonReference, sp.page, func(f *file) { f.editRaw(sp.page, parent, fmt.Sprintf("/Parent %d 1 R", sp.pages)) })
		mut("ref-object-0", ReasonReference, sp.page, func(f *file) { f.editRaw(sp.page, parent, "/Parent 0 0 R") })
		// The trailer.
		trailer := func(f *file, entries string) {
			f.trailer = fmt.Sprintf("<</Size %d %s /ID [<00> <00>]>>", size, entries)
		}
		mut("trailer-no-root", ReasonTrailer, 0, func(f *file) { trailer(f, "") })
		mut("trailer-root-past-size", ReasonReference, 0, func(f *file) { trailer(f, fmt.Sprintf("/Root %d 0 R", size+1)) })
		mut("trailer-size", ReasonTrailer, 0, func(f *file) {
			f.trailer = fmt.Sprintf("<</Size %d /Root %d 0 R /ID [<00> <00>]>>", size+1, sp.catalog)
		})
		mut("trailer-encrypt", ReasonEncrypted, 0, func(f *file) {
			trailer(f, fmt.Sprintf("/Root %d 0 R /Encrypt <</Filter /Standard /V 2 /R 3>>", sp.catalog))
		})
		// The page tree.
		mut("catalog-pages-is-the-page", ReasonPageTree, sp.page, func(f *file) {
			f.editRaw(sp.catalog, fmt.Sprintf("/Pages %d 0 R", sp.pages), fmt.Sprintf("/Pages %d 0 R", sp.page))
		})
		mut("catalog-type", ReasonPageTree, sp.catalog, func(f *file) { f.editRaw(sp.catalog, "/Type /Catalog>>", "/Type /Catalkg>>") })
		mut("two-leaves", ReasonPageTree, sp.pages, func(f *file) {
			f.editRaw(sp.pages, fmt.Sprintf("/Count 1 /Kids [%d 0 R]", sp.page), fmt.Sprintf("/Count 2 /Kids [%d 0 R %d 0 R]", sp.page, sp.page))
		})
		mut("count-exceeds-kids", ReasonPageTree, sp.pages, func(f *file) { f.editRaw(sp.pages, "/Count 1 ", "/Count 166 ") })
		mut("leaf-is-an-action", ReasonPageTree, sp.page, func(f *file) {
			f.editRaw(sp.page, "/Type /Page>>", "/S /JavaScript /JS (app.alert\\(1\\)) /Type /Action>>")
		})
		mut("page-parent-is-the-catalog", ReasonPageTree, sp.page, func(f *file) { f.editRaw(sp.page, parent, fmt.Sprintf("/Parent %d 0 R", sp.catalog)) })
		ds = append(ds, damage{"unreachable", ReasonUnreachable, size, Options{Unused: true}, func() []byte {
			f := fromPage(sp.pdf)
			f.add(obj{raw: []byte("<</BaseFont /Helvetica /Subtype /Type1 /Type /Font>>")})
			return f.bytes()
		}()})
		// Streams.
		mut("stream-byte-lost", ReasonStream, sp.content, func(f *file) {
			r := f.objs[sp.content-1].raw
			i := bytes.Index(r, []byte("\nstream\n")) + len("\nstream\n")
			i += (bytes.LastIndex(r, []byte("\nendstream")) - i) / 2
			f.objs[sp.content-1].raw = append(bytes.Clone(r[:i]), r[i+1:]...)
		})
		if sp.flated > 0 {
			mut("flate-garbled", ReasonFlate, sp.flated, func(f *file) {
				r := bytes.Clone(f.objs[sp.flated-1].raw)
				i := bytes.Index(r, []byte("\nstream\n")) + len("\nstream\n")
				copy(r[i:], randomBytes(5, 16))
				f.objs[sp.flated-1].raw = r
			})
		}
		// The layout and the cross-reference table.
		p := sp.pdf
		off := offsetOf(p, sp.page)
		raw("offset-off-by-one", ReasonOffset, sp.page, xrefEntry(p, sp.page, fmt.Sprintf("%010d 00000 n \n", off+1)))
		raw("offset-at-obj", ReasonOffset, sp.page, xrefEntry(p, sp.page, fmt.Sprintf("%010d 00000 n \n", off+len(fmt.Sprintf("%d 0 ", sp.page)))))
		// The writer numbers the catalog and the page tree node last.
		swapped := xrefEntry(p, sp.catalog, entry(sp.pages))
		raw("offsets-swapped", ReasonOverlap, sp.pages, xrefEntry(swapped, sp.pages, entry(sp.catalog)))
		raw("truncated", ReasonEOF, 0, p[:len(p)/2])
		raw("header-version", ReasonHeader, 0, replace(p, "%PDF-1.", "%PDF-3."))
		raw("startxref", ReasonStartxref, 0, replaceLast(p, fmt.Sprintf("startxref\n%d", xrefStart(p)), fmt.Sprintf("startxref\n%d", xrefStart(p)-1)))
		raw("in-use-entry-free", ReasonXref, sp.content, xrefEntry(p, sp.content, "0000000000 00001 f \n"))
		if fr := sp.free; len(fr) >= 3 {
			// A page of the writer's with free entries: its free list.
			raw("ref-to-free", ReasonReference, sp.page, func() []byte {
				f := fromPage(p)
				f.editRaw(sp.page, parent, fmt.Sprintf("/Parent %d 0 R", fr[0]))
				return f.bytes()
			}())
			raw("root-free", ReasonReference, 0, func() []byte {
				f := fromPage(p)
				f.trailer = fmt.Sprintf("<</Size %d /Root %d 0 R /ID [<00> <00>]>>", size, fr[1])
				return f.bytes()
			}())
			raw("free-list-skips", ReasonXref, fr[0], xrefEntry(p, 0, fmt.Sprintf("%010d 65535 f \n", fr[1])))
			raw("free-list-to-in-use", ReasonXref, sp.page, xrefEntry(p, fr[len(fr)-1], fmt.Sprintf("%010d 00001 f \n", sp.page)))
			raw("free-list-cycle", ReasonXref, fr[len(fr)-1], xrefEntry(p, fr[len(fr)-1], fmt.Sprintf("%010d 00001 f \n", fr[0])))
			raw("free-list-open", ReasonXref, fr[len(fr)-1], xrefEntry(p, fr[len(fr)-1], fmt.Sprintf("%010d 00001 f \n", size)))
			raw("free-list-empty-head", ReasonXref, fr[0], xrefEntry(p, 0, "0000000000 65535 f \n"))
			raw("free-generation-0", ReasonXref, fr[1], xrefEntry(p, fr[1], entry(fr[1])[:11]+"00000"+entry(fr[1])[16:]))
			raw("free-entry-in-use", ReasonXref, fr[1], xrefEntry(p, fr[1], fmt.Sprintf("%010d 00000 n \n", off)))
		}
		for _, d := range ds {
			t.Run(sp.name+"/"+d.name, func(t *testing.T) {
				err := Page(d.pdf, d.opts)
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("got %v, want an *Error with reason %q", err, d.reason)
				}
				if e.Reason != d.reason || e.Object != d.obj || e.Offset < 0 || e.Offset > len(d.pdf) {
					t.Fatalf("got %v\nwant reason %q, object %d, an offset in 0..%d", err, d.reason, d.obj, len(d.pdf))
				}
			})
		}
	}
}

// deepest is a one-page source whose page nests dictionaries as deep as
// pdfsplit's default limit lets it write: an empty dictionary at depth 100
// below the page's own.
func deepest() []byte {
	f := makePage(pageOpts{})
	f.edit(pageObj, "/Type /Page", "/Type /Page /PieceInfo "+strings.Repeat("<</A ", 99)+"<<>>"+strings.Repeat(">>", 99))
	return f.bytes()
}
