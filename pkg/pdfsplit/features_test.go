package pdfsplit

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// TestFeaturesRenderAsTheSource: every page of every feature document
// passes qpdf --check and renders, with poppler, exactly as its source
// page does — optional content hidden by default stays hidden, form
// widgets, Type 3 glyphs, patterns, shadings and appearance streams draw.
func TestFeaturesRenderAsTheSource(t *testing.T) {
	for _, f := range pdftest.Features() {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			d := open(t, f.Data, Options{})
			if d.Pages() != f.Pages {
				t.Fatalf("%d pages, want %d", d.Pages(), f.Pages)
			}
			for i, p := range splitAll(t, d) {
				pdftest.QPDFCheck(t, fmt.Sprintf("page %d", i+1), p)
				pdftest.SameRendering(t, f.Name, f.Data, i+1, p)
			}
		})
	}
}

var imageRE = regexp.MustCompile(`/Subtype /Image`)

func feature(t *testing.T, name string) []byte {
	t.Helper()
	for _, f := range pdftest.Features() {
		if f.Name == name {
			return f.Data
		}
	}
	t.Fatalf("no feature %q", name)
	return nil
}

// TestPagesCarryOnlyWhatTheyUse: a page carries the resources its content
// names, recursively through forms, Type 3 glyphs, patterns and appearance
// streams, and none of the others its resource dictionaries list.
func TestPagesCarryOnlyWhatTheyUse(t *testing.T) {
	for _, tc := range []struct {
		feature string
		images  int      // image XObjects each page carries
		absent  []string // names no page may carry
		present []string // names every page carries
	}{
		{"shared-resource-dict", 1, nil, []string{"/F1 "}},
		{"forms-share-resources", 1, nil, nil},
		{"resourceless-form", 1, nil, []string{"/ImX ", "/FX "}},
		{"type3-font", 1, []string{"/Unused"}, []string{"/GImg "}},
		// An unused graphics state with transparency stays (prune).
		{"patterns-and-shadings", 1, []string{"/Punused", "/ShUnused", "/GSunused", "/CSunused"}, []string{"/GSsee "}},
		{"inline-image-colorspace", 0, []string{"/CSunused"}, []string{"/CSI ", "/DefaultRGB "}},
		{"annotation-appearance", 1, []string{"/Extra"}, []string{"/Stamp "}},
	} {
		t.Run(tc.feature, func(t *testing.T) {
			d := open(t, feature(t, tc.feature), Options{})
			for i, p := range splitAll(t, d) {
				if n := len(imageRE.FindAll(p, -1)); n != tc.images && !(tc.feature == "patterns-and-shadings" && i == 1 && n == 0) {
					t.Errorf("page %d carries %d images, want %d", i+1, n, tc.images)
				}
				for _, s := range tc.absent {
					if bytes.Contains(p, []byte(s)) {
						t.Errorf("page %d carries %s, which it does not use", i+1, s)
					}
				}
				for _, s := range tc.present {
					if !bytes.Contains(p, []byte(s)) {
						t.Errorf("page %d lost %s, which it uses", i+1, strings.TrimSpace(s))
					}
				}
			}
		})
	}
}

// TestSharedResourceDictSize: the book whose pages all name one resource
// dictionary of n images splits into pages of one image each, not n.
func TestSharedResourceDictSize(t *testing.T) {
	src := pdftest.SharedResourceDict(12)
	d := open(t, src, Options{})
	total := 0
	for _, p := range splitAll(t, d) {
		total += len(p)
	}
	if ratio := float64(total) / float64(len(src)); ratio > 1.5 {
		t.Errorf("pages are %.2f× the source (%d of %d bytes); each should carry its own image only", ratio, total, len(src))
	}
}

// TestOptionalContentCarried: each page carries /OCProperties restricted
// to the groups it uses, with the hidden group still OFF.
func TestOptionalContentCarried(t *testing.T) {
	d := open(t, pdftest.OptionalContent(), Options{})
	for i, p := range splitAll(t, d) {
		if !bytes.Contains(p, []byte("/OCProperties")) || !bytes.Contains(p, []byte("/OFF [")) {
			t.Errorf("page %d lost its optional content configuration", i+1)
		}
		if bytes.Contains(p, []byte("(Elsewhere)")) {
			t.Errorf("page %d carries an optional content group it does not use", i+1)
		}
	}
}

// TestFormFieldsCarried: each page carries /AcroForm with the fields whose
// widgets are on it (qpdf --json lists them with their page), the radio
// group narrowed to the page's button.
func TestFormFieldsCarried(t *testing.T) {
	want := [][]string{{"choice", "name"}, {"choice"}, {"city"}}
	d := open(t, pdftest.FormFields(), Options{})
	for i, p := range splitAll(t, d) {
		doc := pdftest.QPDFJSON(t, p)
		if !doc.AcroForm.HasAcroForm {
			t.Errorf("page %d: no AcroForm", i+1)
			continue
		}
		var got []string
		for _, f := range doc.AcroForm.Fields {
			if f.PagePosFrom1 != 1 {
				t.Errorf("page %d: field %q is on page %d", i+1, f.FullName, f.PagePosFrom1)
			}
			got = append(got, f.FullName)
		}
		slices.Sort(got)
		got = slices.Compact(got)
		if !slices.Equal(got, want[i]) {
			t.Errorf("page %d: fields %v, want %v", i+1, got, want[i])
		}
	}
}

// TestPageLabelsCarried: a page keeps its label ("iii" stays "iii", not 1).
func TestPageLabelsCarried(t *testing.T) {
	want := []string{"i", "ii", "iii", "A-1", "A-2"}
	styles := []string{"/r", "/r", "/r", "/D", "/D"}
	starts := []int{1, 2, 3, 1, 2}
	d := open(t, pdftest.PageLabels(), Options{})
	for i, p := range splitAll(t, d) {
		doc := pdftest.QPDFJSON(t, p)
		if len(doc.Pages) != 1 {
			t.Fatalf("page %d: qpdf sees %d pages", i+1, len(doc.Pages))
		}
		l := doc.Pages[0].Label
		if l == nil || l["/S"] != styles[i] || l["/St"] != float64(starts[i]) {
			t.Errorf("page %d: label %v, want %s (%s from %d)", i+1, l, want[i], styles[i], starts[i])
		}
	}
}

// TestNamedDestinationsCarried: a page carries the named destinations that
// point into it, so its link to "table" resolves; the others are left out.
func TestNamedDestinationsCarried(t *testing.T) {
	d := open(t, pdftest.NamedDests(), Options{})
	pages := splitAll(t, d)
	for i, names := range [][]string{{"intro"}, {"results", "table"}, {"end"}} {
		p := pages[i]
		for _, n := range []string{"intro", "results", "table", "end"} {
			in := bytes.Contains(p, []byte("("+n+") "))
			if want := slices.Contains(names, n); in != want && !(i == 1 && n == "intro") {
				t.Errorf("page %d: destination %q carried = %v, want %v", i+1, n, in, want)
			}
		}
	}
	if !bytes.Contains(pages[1], []byte("/Dests <</Names [(results) ")) {
		t.Error("page 2: the name tree is not sorted or missing")
	}
}

// TestCatalogEntriesCarried: the language, marked-content flag, output
// intent and document information travel with every page.
func TestCatalogEntriesCarried(t *testing.T) {
	d := open(t, pdftest.CatalogEntries(), Options{})
	for i, p := range splitAll(t, d) {
		for _, s := range []string{"/Lang (en-GB)", "/MarkInfo <</Marked true>>", "/OutputIntents [", "/DestOutputProfile", "/Title (Catalog entries)", " /Info "} {
			if !bytes.Contains(p, []byte(s)) {
				t.Errorf("page %d lost %s", i+1, s)
			}
		}
	}
}

// TestFieldTreeKeptWhereAWidgetLostItsParent: a field tree the page's
// widgets cannot be traced up through (a widget without /Parent) is carried
// as the source has it, and the other page's field is still left out.
func TestFieldTreeKeptWhereAWidgetLostItsParent(t *testing.T) {
	want := [][]string{{"choice"}, {"city"}}
	d := open(t, pdftest.WidgetWithoutParent(), Options{})
	for i, p := range splitAll(t, d) {
		doc := pdftest.QPDFJSON(t, p)
		var got []string
		widgets := 0
		for _, f := range doc.AcroForm.Fields {
			if f.FullName != "" {
				got = append(got, f.FullName)
			}
			widgets++
		}
		slices.Sort(got)
		got = slices.Compact(got)
		if !slices.Equal(got, want[i]) {
			t.Errorf("page %d: fields %v, want %v", i+1, got, want[i])
		}
		if i == 0 && widgets != 2 {
			t.Errorf("page 1: %d widgets in the form, want both radio widgets", widgets)
		}
	}
}

// TestStrayHashNameRefused: a resource named with a stray '#', which the
// parser drops from the resource dictionary, fails the page as damaged
// when the content draws it, instead of publishing the page without the
// image; the same name only shown in a string splits.
func TestStrayHashNameRefused(t *testing.T) {
	d := open(t, pdftest.StrayHashName(true), Options{})
	if _, err := d.Page(1); pipeerr.KindOf(err) != pipeerr.Damaged || !strings.Contains(err.Error(), "/Im#1") {
		t.Fatalf("drawn: Page(1) = %v, want a Damaged error naming /Im#1", err)
	}
	d = open(t, pdftest.StrayHashName(false), Options{})
	if _, err := d.Page(1); err != nil {
		t.Fatalf("named in a string only: %v", err)
	}
}
