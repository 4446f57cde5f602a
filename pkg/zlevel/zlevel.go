package zlevel

import (
	"fmt"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Level names a compression level as the settings spell it.
type Level string

const (
	// Auto is Default, or Better for a document whose shared objects
	// exceed AutoBetterAbove (see Resolve). The split stage resolves it
	// once the shared objects are known; plans and manifests carry the
	// level it chose.
	Auto    Level = "auto"
	Fastest Level = "fastest"
	Default Level = "default"
	Better  Level = "better"
	Best    Level = "best"
)

// AutoBetterAbove is the size of a document's shared objects (bytes) above
// which Auto compresses at Better. Default's match finder keeps too few
// dictionary positions to find much beyond about 512 KiB back: on Debian's
// TeX manuals, unicode-math's symbol table (981 KB of shared fonts)
// published 2.09x its source at Default and 1.12x at Better, memoir's
// manual (858 KB) 1.54x and 1.17x, while below this size Better gains
// 1-3% for twice the CPU (Octave's manual, 375 KB shared: 1.16x either way).
const AutoBetterAbove = 512 << 10

// Resolve returns the level a job compresses at: l itself, or for Auto,
// Default or Better by the size of the document's shared objects (bytes).
func (l Level) Resolve(shared int) Level {
	if l != Auto && l != "" {
		return l
	}
	if shared > AutoBetterAbove {
		return Better
	}
	return Default
}

// MaxDictionary is the largest dictionary the zstd CLI loads (it refuses
// dictionary files over 32 MiB), so the published output stays restorable
// with the standard tool.
const MaxDictionary = 32 << 20

// Check refuses a name that is not a level; empty means Auto.
func (l Level) Check() error {
	switch l {
	case Auto, Fastest, Default, Better, Best, "":
		return nil
	}
	// string(l): %q of l itself would quote String()'s "zstd-bogus",
	// not the name the user gave.
	return pipeerr.New(pipeerr.BadRequest, "unknown compression level %q (auto, fastest, default, better, best)", string(l))
}

// Reach is how far back into a dictionary each level finds matches
// (measured on klauspost/compress v1.20: fastest < 512 KiB, default
// ~1 MiB, better ~4 MiB, best the whole window). A dictionary longer than
// its level's reach wastes published bytes.
func (l Level) Reach() int {
	switch l {
	case Fastest:
		return 512 << 10
	case Default, Auto, "":
		return 1 << 20
	case Better:
		return 4 << 20
	}
	return MaxDictionary
}

// String describes a level for logs.
func (l Level) String() string { return fmt.Sprintf("zstd-%s", string(l)) }
