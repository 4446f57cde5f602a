package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/manifest"
)

// TestManifestSchema runs real documents through the pipeline and checks
// each published manifest against manifest.schema.json: the bundled
// sample, a one-page document (nothing shared, so no dictionary), a
// document with a shared image, and an encrypted file read through the
// repair layer (encrypted and repairs appear).
func TestManifestSchema(t *testing.T) {
	sch := pipetest.ManifestSchema(t)
	var repaired []byte
	for _, c := range pdftest.RepairCases() {
		if c.Name == "encrypted-linearized-junk-before-header" {
			repaired = c.Data
		}
	}
	if repaired == nil {
		t.Fatal("no encrypted-linearized-junk-before-header in pdftest.RepairCases")
	}
	for _, tc := range []struct {
		name                           string
		pdf                            []byte // nil: the bundled sample
		dictionary, encrypted, repairs bool
	}{
		{"bundled sample", nil, true, false, false},
		{"one page", pdftest.Doc(1, pdftest.DocOptions{}), false, false, false},
		{"shared image", pdftest.Doc(5, pdftest.DocOptions{Image: true, HomeLink: true}), true, false, false},
		{"encrypted and repaired", repaired, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"run", "--mount", t.TempDir(), "--out", t.TempDir(), "--json"}
			if tc.pdf != nil {
				src := filepath.Join(t.TempDir(), "doc.pdf")
				if err := os.WriteFile(src, tc.pdf, 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, src)
			}
			r, stderr, code := run(t, args...)
			if code != 0 || r.Status != "SUCCEEDED" {
				t.Fatalf("exit %d, %+v, %s", code, r, stderr)
			}
			raw, err := os.ReadFile(r.Manifest)
			if err != nil {
				t.Fatal(err)
			}
			if err := pipetest.ValidateManifest(sch, raw); err != nil {
				t.Fatalf("%s\ndoes not follow manifest.schema.json: %v", raw, err)
			}
			var fields map[string]json.RawMessage
			json.Unmarshal(raw, &fields)
			var source map[string]json.RawMessage
			json.Unmarshal(fields["source"], &source)
			for _, f := range []struct {
				where   map[string]json.RawMessage
				name    string
				present bool
			}{
				{fields, "dictionary", tc.dictionary},
				{fields, "dictionary_sha256", tc.dictionary},
				{source, "encrypted", tc.encrypted},
				{source, "repairs", tc.repairs},
			} {
				if _, ok := f.where[f.name]; ok != f.present {
					t.Errorf("%q present %v, want %v", f.name, ok, f.present)
				}
			}
			if string(fields["schema"]) != strconv.Itoa(manifest.Schema) {
				t.Errorf(`"schema" is %s, want %d`, fields["schema"], manifest.Schema)
			}
			pipetest.Verify(t, filepath.Dir(filepath.Dir(r.Manifest)), r.Job, false)
		})
	}
}
