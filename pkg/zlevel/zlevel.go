package zlevel

import (
	"fmt"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Level names a compression level as the settings spell it.
type Level string

const (
	Fastest Level = "fastest"
	Default Level = "default"
	Better  Level = "better"
	Best    Level = "best"
)

// MaxDictionary is the largest dictionary the zstd CLI loads (it refuses
// dictionary files over 32 MiB), so the published output stays restorable
// with the standard tool.
const MaxDictionary = 32 << 20

// Check refuses a name that is not a level; empty means Default.
func (l Level) Check() error {
	switch l {
	case Fastest, Default, Better, Best, "":
		return nil
	}
	return pipeerr.New(pipeerr.BadRequest, "unknown compression level %q (fastest, default, better, best)", l)
}

// Reach is how far back into a dictionary each level finds matches
// (measured on klauspost/compress v1.20: fastest < 512 KiB, default
// ~1 MiB, better ~4 MiB, best the whole window). A dictionary longer than
// its level's reach wastes published bytes.
func (l Level) Reach() int {
	switch l {
	case Fastest:
		return 512 << 10
	case Default:
		return 1 << 20
	case Better:
		return 4 << 20
	}
	return MaxDictionary
}

// String describes a level for logs.
func (l Level) String() string { return fmt.Sprintf("zstd-%s", string(l)) }
