package manifest_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/manifest"
)

// TestSchemaDescribesEveryField walks the Go types of the published
// manifest beside manifest.schema.json: every JSON field of Published,
// Source and Page is a property with a description, required exactly
// when it is never omitted, and the schema has no property the Go types
// lack. The two cannot drift apart without this test failing.
func TestSchemaDescribesEveryField(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(manifest.SchemaJSON, &schema); err != nil {
		t.Fatal(err)
	}
	if got := schema["$schema"]; got != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema is %v, want draft 2020-12", got)
	}
	if want := fmt.Sprintf("urn:efspipe:manifest:%d", manifest.Schema); schema["$id"] != want {
		t.Errorf("$id is %v, want %s", schema["$id"], want)
	}
	props := schema["properties"].(map[string]any)
	if c, _ := props["schema"].(map[string]any)["const"].(float64); c != manifest.Schema {
		t.Errorf(`"schema" is const %v in the schema, manifest.Schema is %d`, c, manifest.Schema)
	}
	checked := 0
	var walk func(path string, typ reflect.Type, node map[string]any)
	walk = func(path string, typ reflect.Type, node map[string]any) {
		node = resolve(t, schema, node)
		switch typ.Kind() {
		case reflect.Slice:
			if typ.Elem().Kind() == reflect.Struct {
				items, _ := node["items"].(map[string]any)
				if items == nil {
					t.Errorf("%s: an array of objects without items", path)
					return
				}
				walk(path+"[]", typ.Elem(), items)
			}
			return
		case reflect.Struct:
		default:
			return
		}
		checked++
		props, _ := node["properties"].(map[string]any)
		var required []string
		for _, r := range node["required"].([]any) {
			required = append(required, r.(string))
		}
		seen := map[string]bool{}
		for f := range typ.Fields() {
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				t.Errorf("%s.%s: no JSON name", path, f.Name)
				continue
			}
			seen[name] = true
			prop, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("%s.%s: the schema has no property %q", path, f.Name, name)
				continue
			}
			if d, _ := prop["description"].(string); len(d) < 10 {
				t.Errorf("%s.%s: property %q has no description", path, f.Name, name)
			}
			omitted := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
			if req := slices.Contains(required, name); req == omitted {
				t.Errorf("%s.%s: required %v in the schema, but omitted when empty %v in Go", path, f.Name, req, omitted)
			}
			walk(path+"."+name, f.Type, prop)
		}
		for name := range props {
			if !seen[name] {
				t.Errorf("%s: the schema describes %q, which the Go type does not have", path, name)
			}
		}
		for _, r := range required {
			if !seen[r] {
				t.Errorf("%s: the schema requires %q, which the Go type does not have", path, r)
			}
		}
	}
	walk("manifest", reflect.TypeFor[manifest.Published](), schema)
	if checked != 3 {
		t.Errorf("walked %d object types, want 3 (manifest, source, page)", checked)
	}
}

// resolve follows a local "$ref" (#/$defs/NAME).
func resolve(t *testing.T, schema, node map[string]any) map[string]any {
	t.Helper()
	ref, ok := node["$ref"].(string)
	if !ok {
		return node
	}
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	def, _ := schema["$defs"].(map[string]any)[name].(map[string]any)
	if !ok || def == nil {
		t.Fatalf("unresolved $ref %q", ref)
	}
	return resolve(t, schema, def)
}

// valid is a manifest of two pages with a dictionary and every optional
// field, as JSON.
func valid(t *testing.T) map[string]any {
	t.Helper()
	sum := strings.Repeat("0123456789abcdef", 4)
	m := manifest.Published{
		Schema: manifest.Schema,
		Job:    "f-" + sum[:40],
		Source: manifest.Source{Name: "report.pdf", Bytes: 1000, SHA256: sum, Pages: 2, Encrypted: true, Repairs: []string{"rebuilt the cross-reference table from the objects in the file"}},
		Codec:  "zstd", Level: "default",
		Dictionary: manifest.DictionaryFile, DictionaryBytes: 300, DictionarySHA256: sum,
		Bytes: 500,
		Pages: []manifest.Page{
			{Number: 1, Path: manifest.PagePath(1), Bytes: 100, SHA256: sum, PDFBytes: 900},
			{Number: 2, Path: manifest.PagePath(2), Bytes: 100, SHA256: sum, PDFBytes: 900},
		},
	}
	b, err := manifest.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSchemaRefuses checks the schema can fail: a manifest with a required
// field missing, a wrong type or a wrong value is refused, naming where;
// one with a field the schema does not know is accepted (readers ignore
// such fields, so a version may add optional ones).
func TestSchemaRefuses(t *testing.T) {
	sch := pipetest.ManifestSchema(t)
	page := func(m map[string]any) map[string]any { return m["pages"].([]any)[0].(map[string]any) }
	source := func(m map[string]any) map[string]any { return m["source"].(map[string]any) }
	for _, tc := range []struct {
		name   string
		change func(m map[string]any)
		where  string // in the error: the instance location, or "" when valid
	}{
		{"valid", func(map[string]any) {}, ""},
		{"no optional fields", func(m map[string]any) {
			delete(m, "dictionary")
			delete(m, "dictionary_bytes")
			delete(m, "dictionary_sha256")
			delete(source(m), "encrypted")
			delete(source(m), "repairs")
		}, ""},
		{"a field this version does not know", func(m map[string]any) { m["thumbnail"] = "pages/thumb.png" }, ""},
		{"schema missing", func(m map[string]any) { delete(m, "schema") }, "missing property 'schema'"},
		{"schema 2", func(m map[string]any) { m["schema"] = 2 }, "/schema"},
		{"job missing", func(m map[string]any) { delete(m, "job") }, "missing property 'job'"},
		{"page sha256 missing", func(m map[string]any) { delete(page(m), "sha256") }, "/pages/0"},
		{"source pages missing", func(m map[string]any) { delete(source(m), "pages") }, "/source"},
		{"bytes a string", func(m map[string]any) { m["bytes"] = "500" }, "/bytes"},
		{"page number a fraction", func(m map[string]any) { page(m)["number"] = 1.5 }, "/pages/0/number"},
		{"pdf_bytes negative", func(m map[string]any) { page(m)["pdf_bytes"] = -1 }, "/pages/0/pdf_bytes"},
		{"pages an object", func(m map[string]any) { m["pages"] = map[string]any{} }, "/pages"},
		{"no pages", func(m map[string]any) { m["pages"] = []any{} }, "/pages"},
		{"sha256 upper case", func(m map[string]any) { source(m)["sha256"] = strings.ToUpper(source(m)["sha256"].(string)) }, "/source/sha256"},
		{"encrypted false", func(m map[string]any) { source(m)["encrypted"] = false }, "/source/encrypted"},
		{"page path outside pages/", func(m map[string]any) { page(m)["path"] = "../000001.pdf.zst" }, "/pages/0/path"},
		{"dictionary without its hash", func(m map[string]any) { delete(m, "dictionary_sha256") }, "dictionary_sha256"},
		{"codec gzip", func(m map[string]any) { m["codec"] = "gzip" }, "/codec"},
		{"level auto", func(m map[string]any) { m["level"] = "auto" }, "/level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := valid(t)
			tc.change(m)
			b, _ := json.Marshal(m)
			err := pipetest.ValidateManifest(sch, b)
			switch {
			case tc.where == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.where != "" && err == nil:
				t.Fatalf("accepted %s", b)
			case tc.where != "" && !strings.Contains(err.Error(), tc.where):
				t.Fatalf("refused without naming %q: %v", tc.where, err)
			}
		})
	}
}
