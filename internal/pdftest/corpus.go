package pdftest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Case is one corpus entry: Want is the kind a reader must fail with, or ""
// when the file must split.
type Case struct {
	Name string
	Data []byte
	Want pipeerr.Kind
}

// Passwords of the encrypted corpus entries.
const (
	UserPassword  = "user-secret"
	OwnerPassword = "owner-secret"
)

// BombDecodedBytes is what the bomb's content stream decodes to.
const BombDecodedBytes = 1 << 30

// Reference returns what the pages of c must look like: for a damaged
// file that must split, the file before the damage (no reader may be able
// to render the damaged one); else c's own data.
func Reference(c Case) []byte {
	if b, ok := intact()[c.Name]; ok {
		return b
	}
	return c.Data
}

// intact maps the corpus entries made by damaging a valid file to it.
var intact = sync.OnceValue(func() map[string][]byte {
	small := corpusSmall()
	m := map[string][]byte{"truncated-mid-xref": small, "truncated-before-eof": small, "corrupt-startxref": small}
	for _, name := range unreadableRepairCases {
		m[name] = newTextDoc("1.7", RepairPages, "").b.finish(1, "")
	}
	return m
})

func corpusSmall() []byte { return Doc(3, DocOptions{FontBytes: 2048}) }

// Corpus returns the hostile inputs, in a fixed order. The result is built
// once per process (the bomb takes a few seconds to compress); callers must
// not modify it.
func Corpus() []Case { return corpus() }

var corpus = sync.OnceValue(func() []Case {
	small := corpusSmall()
	xrefAt := bytes.LastIndex(small, []byte("\nxref\n")) + 1
	return append([]Case{
		{"empty", nil, pipeerr.NotPDF},
		{"not-a-pdf-png", append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), randomBytes(3, 64)...), pipeerr.NotPDF},
		{"not-a-pdf-zip", append([]byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), randomBytes(4, 64)...), pipeerr.NotPDF},
		{"truncated-after-header", small[:15], pipeerr.Damaged},
		{"truncated-mid-body", small[:len(small)/2], pipeerr.Damaged},
		{"truncated-mid-xref", small[:xrefAt+40], ""},       // pdfcpu rebuilds the table
		{"truncated-before-eof", small[:len(small)-12], ""}, // startxref survives
		{"corrupt-startxref", corruptStartxref(small), ""},  // pdfcpu rescans
		{"corrupt-xref", corruptXref(small, xrefAt), ""},    // the repair layer rebuilds the table
		{"cyclic-page-tree", cyclicPageTree(), pipeerr.Damaged},
		{"xref-prev-loop", xrefPrevLoop(), ""}, // the repair layer rebuilds the table
		{"deep-array-nesting", deepNesting(100_000), pipeerr.Damaged},
		{"huge-count", hugeCount(), ""},
		{"zero-pages", zeroPages(), pipeerr.NoPages},
		{"flate-bomb", flateBomb(false), ""},
		{"flate-bomb-with-resources", flateBomb(true), ""},
		{"encrypted-user-password", encrypt(Doc(2, DocOptions{FontBytes: 1024}), UserPassword, OwnerPassword), pipeerr.Encrypted},
		{"encrypted-owner-only", encrypt(Doc(2, DocOptions{FontBytes: 1024}), "", OwnerPassword), ""},
		{"encrypted-linearized", encryptedLinearized(""), ""},
		{"many-tiny-pages", tinyPages(5000), ""},
		{"pages-is-an-action", pagesIsAnAction(), pipeerr.NoPages},
		// The repair layer took an empty /Pages dictionary for a page and
		// published a blank page where qpdf and poppler find none.
		{"pages-is-an-empty-dictionary", pagesIsAnEmptyDictionary(), pipeerr.NoPages},
		{"page-tree-leaf-is-an-action", leafIsAnAction(`<</Type /Action /S /JavaScript /JS (app.alert\(1\))>>`), pipeerr.Damaged},
		{"page-tree-leaf-is-an-untyped-action", leafIsAnAction(`<</S /JavaScript /JS (app.alert\(1\))>>`), pipeerr.Damaged},
		{"pages-is-an-untyped-action-no-xref", untypedActionAsPages(), pipeerr.NoPages},
		// A template page object where a page belongs was refused as an
		// action is, though poppler and qpdf show it as a page (pdfium's
		// bad_page_type.pdf); the same in a file the repair layer rebuilds.
		{"page-tree-leaf-is-a-template", leafIsATemplate(), ""},
		{"page-tree-leaf-is-a-template-xref-broken", corruptXref(leafIsATemplate(), bytes.LastIndex(leafIsATemplate(), []byte("\nxref\n"))+1), ""},
		{"count-exceeds-kids", countExceedsKids(), ""},
		{"direct-pages-in-kids", directPages(), ""},
		{"indirect-lengths-untyped-leaves", indirectLengthsUntypedLeaves(), ""},
		{"damaged-flate-image", damagedFlateImage(), ""},
		{"stray-hash-in-font", strayHashInFont(), pipeerr.Damaged},
		// The same font in a file the repair layer rebuilds: it dropped the
		// object it could not parse, and the page lost its text.
		{"stray-hash-in-font-xref-broken", corruptXref(strayHashInFont(), bytes.LastIndex(strayHashInFont(), []byte("\nxref\n"))+1), pipeerr.Damaged},
		{"catalog-pages-points-at-a-page", pagesPointsAtPage(), ""},
		{"huge-object-numbers", hugeObjectNumbers(), ""},
		// With no catalog, the repair layer published the pages its scan
		// found as the document: page 2, whose header it cannot read, was
		// lost though the page tree node listing it is intact.
		{"catalog-damaged-page-header-unreadable", pageHeaderUnreadable(), pipeerr.Damaged},
		{"mediabox-not-a-rectangle", mediaBoxNotARectangle(), ""},
		// The missing object was written as null in the page's /Contents,
		// which qpdf --check fails (pdfium's JavaScript test files).
		{"contents-array-names-a-missing-object", contentsArrayMissing(), ""},
		// A /UE that unwraps a wrong file key: pdfcpu refuses its /Perms,
		// and the repair layer, which did not check it, decrypted every
		// stream and string into garbage; only the flate streams failed
		// the page check (pdfium's bug_424613308.pdf, whose /UE is 33
		// bytes). Damaged: no password opens it.
		{"encrypted-r6-ue-damaged", encryptedDoc(encSpec{v: 5, r: 6, bytes: 32, method: "AESV3", owner: OwnerPassword, damagedUE: true, seed: 25}), pipeerr.Damaged},
		{"encrypted-r6-ue-damaged-xref-broken", encryptedR6UEDamagedXrefBroken(), pipeerr.Damaged},
		// An object stream that cannot be read hides the objects it holds:
		// the repair layer made references to them null, and the pages
		// were published without their font, with exit 0 (pikepdf's
		// fuzz_378014596.pdf lost its page's annotations so).
		{"object-stream-undecodable", fontInUnreadableObjectStream(false), pipeerr.Damaged},
		{"object-stream-dictionary-unparsable", fontInUnreadableObjectStream(true), pipeerr.Damaged},
		// The repair layer skipped a stream whose dictionary it could not
		// parse rather than keeping it as lost: page 1 was published blank.
		{"content-dictionary-unparsable", contentDictionaryUnparsable(), pipeerr.Damaged},
		// One whose dictionary is a reference is no stream to any reader:
		// the page is blank, not refused.
		{"content-dictionary-indirect", contentDictionaryIndirect(), ""},
	}, repairCases()...)
})

// minimal returns a builder holding a catalog (1) and a one-page tree (2, 3)
// whose page dictionary gets extra entries; content is object 4.
func minimal(pagesExtra, pageExtra string) *builder {
	b := newBuilder("1.7")
	catalog, root, pg, content := b.alloc(), b.alloc(), b.alloc(), b.alloc()
	b.obj(catalog, fmt.Sprintf("<</Type /Catalog /Pages %d 0 R>>", root))
	b.obj(root, fmt.Sprintf("<</Type /Pages /Kids [%d 0 R] /Count 1%s>>", pg, pagesExtra))
	b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /MediaBox [0 0 200 200] /Contents %d 0 R%s>>", root, content, pageExtra))
	b.stream(content, "", []byte("0 0 m 100 100 l S\n"))
	return b
}

func corruptStartxref(doc []byte) []byte {
	i := bytes.LastIndex(doc, []byte("startxref\n"))
	out := bytes.Clone(doc[:i])
	return append(out, "startxref\n123\n%%EOF\n"...)
}

// corruptXref overwrites the offsets of the xref table's entries with garbage.
func corruptXref(doc []byte, xrefAt int) []byte {
	out := bytes.Clone(doc)
	first := xrefAt + len("xref\n") + bytes.IndexByte(doc[xrefAt+len("xref\n"):], '\n') + 1
	for i := 0; i < 3; i++ {
		at := bytes.Index(out[first:], []byte(" 00000 n")) + first
		copy(out[at-10:at], "zz9zz9zz9z")
		first = at + 8
	}
	return out
}

func cyclicPageTree() []byte {
	b := newBuilder("1.7")
	catalog, root, mid, pg := b.alloc(), b.alloc(), b.alloc(), b.alloc()
	b.obj(catalog, fmt.Sprintf("<</Type /Catalog /Pages %d 0 R>>", root))
	b.obj(root, fmt.Sprintf("<</Type /Pages /Kids [%d 0 R] /Count 2>>", mid))
	// The intermediate node lists its own ancestor as a kid.
	b.obj(mid, fmt.Sprintf("<</Type /Pages /Parent %d 0 R /Kids [%d 0 R %d 0 R] /Count 2>>", root, pg, root))
	b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /MediaBox [0 0 200 200]>>", mid))
	return b.finish(catalog, "")
}

// xrefPrevLoop is a file whose trailer's /Prev points at its own xref section.
func xrefPrevLoop() []byte {
	b := minimal("", "")
	body, offs := b.layout()
	at := len(body)
	out := append(body, xref(offs, b.next)...)
	return fmt.Appendf(out, "trailer\n<</Size %d /Root 1 0 R /Prev %d>>\nstartxref\n%d\n%%%%EOF\n", b.next, at, at)
}

func deepNesting(depth int) []byte {
	b := minimal("", " /Deep "+strings.Repeat("[", depth)+strings.Repeat("]", depth))
	return b.finish(1, "")
}

func hugeCount() []byte {
	b := minimal("", "")
	b.obj(2, "<</Type /Pages /Kids [3 0 R] /Count 2147483647>>")
	return b.finish(1, "")
}

func zeroPages() []byte {
	return catalogWithPages("<</Type /Pages /Kids [] /Count 0>>")
}

// tinyPages is a file of n pages that share one empty content stream.
func tinyPages(n int) []byte {
	b := newBuilder("1.4")
	catalog, root, content := b.alloc(), b.alloc(), b.alloc()
	b.obj(catalog, fmt.Sprintf("<</Type /Catalog /Pages %d 0 R>>", root))
	b.stream(content, "", nil)
	kids := make([]string, n)
	for i := range kids {
		pg := b.alloc()
		b.obj(pg, fmt.Sprintf("<</Type /Page /Parent %d 0 R /Contents %d 0 R>>", root, content))
		kids[i] = fmt.Sprintf("%d 0 R", pg)
	}
	b.obj(root, fmt.Sprintf("<</Type /Pages /MediaBox [0 0 10 10] /Count %d /Kids [%s]>>", n, strings.Join(kids, " ")))
	return b.finish(catalog, "")
}

// encrypt encrypts doc with AES-256 using pdfcpu. The configuration is built
// here: model.NewDefaultConfiguration would read and write a config directory.
func encrypt(doc []byte, userPW, ownerPW string) []byte {
	conf := &model.Configuration{
		Reader15:         true,
		ValidationMode:   model.ValidationRelaxed,
		Eol:              types.EolLF,
		EncryptUsingAES:  true,
		EncryptKeyLength: 256,
		Permissions:      model.PermissionsPrint,
		UserPW:           userPW,
		OwnerPW:          ownerPW,
		TimestampFormat:  "2006-01-02 15:04",
		DateFormat:       "2006-01-02",
		Limits:           model.DefaultResourceLimits(),
	}
	var out bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(doc), &out, conf); err != nil {
		panic("pdftest: encrypt: " + err.Error())
	}
	return out.Bytes()
}

// largeCases are the corpus entries that cost most of a cold test run in
// the packages that run every entry (many-tiny-pages: 5,000 pages, 12.7 s
// of pkg/local's 22 s under the race detector).
var largeCases = map[string]bool{"many-tiny-pages": true}

// Large reports whether c is one of the large entries, which go test
// -short (make test-quick) leaves out; make test, which CI runs, runs them.
func (c Case) Large() bool { return largeCases[c.Name] }

// SkipLargeIfShort skips c under go test -short when it is Large.
func SkipLargeIfShort(t testing.TB, c Case) {
	t.Helper()
	if testing.Short() && c.Large() {
		t.Skip("large corpus entry: run without -short (make test)")
	}
}
