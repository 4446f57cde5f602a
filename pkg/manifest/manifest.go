package manifest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/zlevel"
)

// Plan is jobs/<job>/split/manifest.json: how the document's pages are cut
// into shards. The state machine carries only its path and the shard count.
type Plan struct {
	Job        string       `json:"job"`
	Source     string       `json:"source"`
	Pages      int          `json:"pages"`
	ShardPages int          `json:"shard_pages"`
	Shards     int          `json:"shards"`
	Dictionary string       `json:"dictionary,omitempty"`
	Level      zlevel.Level `json:"level"`
	// Encrypted and Repairs describe the source as the splitter read it:
	// encrypted (see Source.Encrypted), and what was repaired to read it
	// (see pdfsplit.Document.Repairs), for the published manifest.
	Encrypted bool     `json:"encrypted,omitempty"`
	Repairs   []string `json:"repairs,omitempty"`
}

// NewPlan cuts pages into shards of shardPages, raised so that there are at
// most maxShards.
func NewPlan(job jobfs.Job, pages, shardPages, maxShards int, level zlevel.Level) Plan {
	if min := (pages + maxShards - 1) / maxShards; shardPages < min {
		shardPages = min
	}
	return Plan{
		Job: job.ID, Source: job.Source(), Pages: pages, ShardPages: shardPages,
		Shards: (pages + shardPages - 1) / shardPages, Level: level,
	}
}

// ShardPages returns the first and last page (1-based, inclusive) of shard i.
func (p Plan) ShardRange(i int) (first, last int) {
	first = i*p.ShardPages + 1
	last = min(first+p.ShardPages-1, p.Pages)
	return first, last
}

// CheckShard refuses a shard index outside the plan.
func (p Plan) CheckShard(i int) error {
	if i < 0 || i >= p.Shards {
		return pipeerr.New(pipeerr.BadRequest, "shard %d is outside 0..%d", i, p.Shards-1)
	}
	return nil
}

// LoadPlan reads a plan from the mount and checks it belongs to job.
func LoadPlan(m *jobfs.Mount, job jobfs.Job, rel string) (Plan, error) {
	if err := job.Owns(rel); err != nil {
		return Plan{}, err
	}
	b, err := m.ReadFile(rel)
	if err != nil {
		return Plan{}, err
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil || p.Job != job.ID || p.Shards < 1 || p.ShardPages < 1 {
		return Plan{}, pipeerr.New(pipeerr.Internal, "%s is not a split plan of job %s", rel, job.ID)
	}
	return p, nil
}

// Schema is the version of the published manifest's format, its
// "schema" field. It changes only when a reader written for it could
// misread a manifest: a field removed, renamed, or changing type, unit or
// meaning. A field added within a version is optional, and readers ignore
// fields they do not know.
const Schema = 1

// SchemaJSON is the JSON Schema (draft 2020-12) of Published at version
// Schema, with each field's unit and what each hash covers: the file
// users validate against (pkg/manifest/manifest.schema.json), and the one
// the tests check the Go types and real manifests against.
//
//go:embed manifest.schema.json
var SchemaJSON []byte

// Published is <out>/<job>/manifest.json. Paths are relative to
// <out>/<job>/.
type Published struct {
	Schema           int    `json:"schema"`
	Job              string `json:"job"`
	Source           Source `json:"source"`
	Codec            string `json:"codec"`
	Level            string `json:"level"`
	Dictionary       string `json:"dictionary,omitempty"`
	DictionaryBytes  int64  `json:"dictionary_bytes,omitempty"`
	DictionarySHA256 string `json:"dictionary_sha256,omitempty"`
	Bytes            int64  `json:"bytes"`
	Pages            []Page `json:"pages"`
}

// Source describes the original document.
type Source struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	Pages  int    `json:"pages"`
	// Encrypted: the source was encrypted (opened with the password given,
	// or with the empty user password); its pages are published decrypted.
	Encrypted bool `json:"encrypted,omitempty"`
	// Repairs lists, one sentence each, what was repaired to read a
	// damaged source (a rebuilt cross-reference table, a header found
	// after leading bytes, ...), as qpdf warns of them.
	Repairs []string `json:"repairs,omitempty"`
}

// Page is one published page: Bytes is the compressed file's size, SHA256
// and PDFBytes describe the restored one-page PDF.
type Page struct {
	Number   int    `json:"number"`
	Path     string `json:"path"`
	Bytes    int64  `json:"bytes"`
	SHA256   string `json:"sha256"`
	PDFBytes int64  `json:"pdf_bytes"`
}

// Published file names, relative to <out>/<job>/.
const (
	File           = "manifest.json"
	DictionaryFile = "dictionary.zdict"
)

// ContentType is the media type a published file is stored with.
func ContentType(rel string) string {
	switch {
	case strings.HasSuffix(rel, ".json"):
		return "application/json"
	case strings.HasSuffix(rel, ".zst"):
		return "application/zstd"
	}
	return "application/octet-stream"
}

// PagePath is where page n is published.
func PagePath(n int) string { return fmt.Sprintf("pages/%06d.pdf.zst", n) }

// Encode is the canonical encoding: indented, newline-terminated, stable.
func Encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, pipeerr.Wrap(pipeerr.Internal, err, "encode manifest")
	}
	return buf.Bytes(), nil
}

// LoadSealed reads the sealed manifest at rel and checks it belongs to job.
func LoadSealed(m *jobfs.Mount, job jobfs.Job, rel string) (Published, error) {
	var p Published
	if err := job.Owns(rel); err != nil {
		return p, err
	}
	b, err := m.ReadFile(rel)
	if err != nil {
		return p, err
	}
	return DecodeSealed(job, rel, b)
}

// DecodeSealed decodes the sealed manifest b, read from rel, of job.
func DecodeSealed(job jobfs.Job, rel string, b []byte) (Published, error) {
	var p Published
	if err := json.Unmarshal(b, &p); err != nil || p.Job != job.ID || len(p.Pages) != p.Source.Pages {
		return p, pipeerr.New(pipeerr.Internal, "%s is not the sealed manifest of job %s", rel, job.ID)
	}
	return p, nil
}
