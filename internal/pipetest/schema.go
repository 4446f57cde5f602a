package pipetest

import (
	"bytes"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/efspipe/efspipe/pkg/manifest"
)

// ManifestSchema compiles the published manifest's JSON Schema
// (manifest.SchemaJSON, the file users get) with an independent
// validator, so tests check manifests against that file rather than
// against the Go types that wrote them.
func ManifestSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(manifest.SchemaJSON))
	if err != nil {
		t.Fatalf("manifest.schema.json: %v", err)
	}
	id, _ := doc.(map[string]any)["$id"].(string)
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatalf("manifest.schema.json: %v", err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatalf("manifest.schema.json: %v", err)
	}
	return sch
}

// ValidateManifest checks the JSON document raw against sch.
func ValidateManifest(sch *jsonschema.Schema, raw []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}
