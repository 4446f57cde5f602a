package jobspec

import (
	"slices"
	"testing"

	"github.com/efspipe/efspipe/pkg/zlevel"
)

// TestChanges: the lines name the changed settings only, in the config
// file's names, with integers as written and unset fields as "unset".
func TestChanges(t *testing.T) {
	d := Defaults()
	if got := Changes(d, d); len(got) != 0 {
		t.Errorf("no change: %q", got)
	}
	now := d
	now.MaxPages, now.MaxBytes, now.Level, now.Keep = 3, 3<<30, zlevel.Best, true
	want := []string{"keep unset -> true", "level auto -> best", "max_bytes 2147483648 -> 3221225472", "max_pages 100000 -> 3"}
	if got := Changes(d, now); !slices.Equal(got, want) {
		t.Errorf("Changes = %q, want %q", got, want)
	}
	if got, want := now.String(), "keep=true level=best max_bytes=3221225472 max_pages=3 shard_pages=256"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
