package pdfsplit

// Limits bound the resources a hostile input can make Open and Page use. The
// zero value of each field means its default.
type Limits struct {
	// MaxBytes is the largest input accepted. Default 2 GiB.
	MaxBytes int64
	// MaxPages is the largest page count accepted. Default 100,000.
	MaxPages int
	// MaxDepth bounds the nesting of arrays and dictionaries and the depth of
	// the page tree. Default 100 (pdfcpu's own default: real files stay far
	// below; hostile ones use it to exhaust the stack).
	MaxDepth int
	// MaxDecodedBytes bounds what any one object stream (which holds
	// objects, not page content) may decode to. Default 256 MiB.
	MaxDecodedBytes int64
	// MaxContentBytes bounds what one content stream (a page's, a form
	// XObject's, a Type 3 glyph's) may decode to when it is read for the
	// resource names it uses; a stream also stops at 64 bytes decoded per
	// encoded byte. Over the bound the page keeps every resource instead
	// of failing. Fonts and images are never decoded: they are copied as
	// stored. Default 64 MiB.
	MaxContentBytes int64
	// MaxObjects bounds the cross-reference table's object count. Default
	// 10,000,000.
	MaxObjects int
}

const (
	defaultMaxBytes        = 2 << 30
	defaultMaxPages        = 100_000
	defaultMaxDepth        = 100
	defaultMaxDecodedBytes = 256 << 20
	defaultMaxContentBytes = 64 << 20
	defaultMaxObjects      = 10_000_000
)

// withDefaults returns l with every zero or negative field set to its default.
func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = defaultMaxBytes
	}
	if l.MaxPages <= 0 {
		l.MaxPages = defaultMaxPages
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = defaultMaxDepth
	}
	if l.MaxDecodedBytes <= 0 {
		l.MaxDecodedBytes = defaultMaxDecodedBytes
	}
	if l.MaxContentBytes <= 0 {
		l.MaxContentBytes = defaultMaxContentBytes
	}
	if l.MaxObjects <= 0 {
		l.MaxObjects = defaultMaxObjects
	}
	return l
}

// Options configure Open. The zero value opens unencrypted and
// owner-password-only files with the default Limits.
type Options struct {
	// Password opens a file encrypted with a user password; either the user
	// or the owner password works. Default none.
	Password string
	Limits   Limits
}
