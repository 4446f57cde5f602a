package source_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/efspipe/efspipe/pkg/source"
)

// Remember answers the resolved source from memory and any other from the
// opener it wraps.
func TestRemember(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pdf"), filepath.Join(dir, "b.pdf")
	os.WriteFile(a, []byte("%PDF-a"), 0o644)
	os.WriteFile(b, []byte("%PDF-b"), 0o644)
	obj, err := source.Files{}.Stat(t.Context(), a, "")
	if err != nil {
		t.Fatal(err)
	}
	o := source.Remember(source.Files{}, a, "", obj)
	// Changing a afterwards does not change the answer: it was resolved.
	os.WriteFile(a, []byte("%PDF-changed"), 0o644)
	if got, err := o.Stat(t.Context(), a, ""); err != nil || got != obj {
		t.Fatalf("remembered: %+v %v", got, err)
	}
	other, err := o.Stat(t.Context(), b, "")
	if err != nil || other.JobID == obj.JobID || other.Size != 6 {
		t.Fatalf("other source: %+v %v", other, err)
	}
}
