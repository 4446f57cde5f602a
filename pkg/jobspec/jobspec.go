package jobspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/zlevel"
)

// Settings shape a job's work and output. A zero field means "not set": the
// next source of defaults decides (flags or environment, then the mount's
// config/efspipe.json, then Defaults).
type Settings struct {
	// ShardPages is how many pages one compress iteration handles. Default
	// 256; raised automatically so a document never needs more than
	// MaxShards shards. A shard costs a fixed number of round trips on the
	// mount in every stage (about 60 ms on EFS) against about 0.4 ms of
	// CPU per page: on the 1,158-page Octave manual over an EFS-like mount,
	// 64 pages per shard took 1.75x the local-disk time, 128 1.68x, 256
	// 1.47x (and local disk was 12% faster too); 256 still gives a
	// 2,000-page document eight shards to run at once.
	ShardPages int `json:"shard_pages,omitempty"`
	// Level is the zstd level. Default "auto": "default", or "better" for
	// a document whose shared objects exceed 512 KiB (zlevel.Auto; the
	// plan and the manifest say which). Measured on the Octave and R
	// manuals, "default" publishes 1.19-1.26x the source ("better":
	// 1.11-1.19x) in half the CPU, but its match finder loses most of a
	// dictionary larger than about 512 KiB; "better" reaches 4 MiB back.
	Level zlevel.Level `json:"level,omitempty"`
	// DictionaryBytes caps the shared dictionary. Default: the level's
	// reach (for "auto", the reach of the level it resolves to).
	DictionaryBytes int `json:"dictionary_bytes,omitempty"`
	// MaxBytes refuses larger inputs. Default 2 GiB.
	MaxBytes int64 `json:"max_bytes,omitempty"`
	// MaxPages refuses documents with more pages. Default 100,000.
	MaxPages int `json:"max_pages,omitempty"`
	// Keep keeps intermediates after publication. Default false: finalize
	// removes them, because a mount filled with intermediates is the
	// classic way an EFS pipeline dies.
	Keep bool `json:"keep,omitempty"`
}

// MaxShards is the most shards a job may have: Step Functions'
// States.ArrayRange returns at most 1,000 items.
const MaxShards = 1000

// Defaults are the built-in settings.
func Defaults() Settings {
	return Settings{
		ShardPages: 256,
		Level:      zlevel.Auto,
		MaxBytes:   2 << 30,
		MaxPages:   100_000,
	}
}

// Over returns s with every unset field taken from base.
func (s Settings) Over(base Settings) Settings {
	if s.ShardPages == 0 {
		s.ShardPages = base.ShardPages
	}
	if s.Level == "" {
		s.Level = base.Level
	}
	if s.DictionaryBytes == 0 {
		s.DictionaryBytes = base.DictionaryBytes
	}
	if s.MaxBytes == 0 {
		s.MaxBytes = base.MaxBytes
	}
	if s.MaxPages == 0 {
		s.MaxPages = base.MaxPages
	}
	s.Keep = s.Keep || base.Keep
	return s
}

// Resolve fills every unset field: s, then the mount's shared config, then
// Defaults. The result is validated.
func Resolve(m *jobfs.Mount, s Settings) (Settings, error) {
	shared, err := LoadShared(m)
	if err != nil {
		return Settings{}, err
	}
	s = s.Over(shared).Over(Defaults())
	if s.DictionaryBytes == 0 && s.Level != zlevel.Auto {
		s.DictionaryBytes = s.Level.Reach()
	}
	return s, s.Validate()
}

// LoadShared reads config/efspipe.json on the mount; a missing file is no
// settings.
func LoadShared(m *jobfs.Mount) (Settings, error) {
	b, err := m.ReadFile(jobfs.ConfigFile)
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{}, nil
	}
	if err != nil {
		return Settings{}, err
	}
	var s Settings
	if err := strictUnmarshal(b, &s); err != nil {
		return Settings{}, pipeerr.Wrap(pipeerr.BadRequest, err, "%s", jobfs.ConfigFile)
	}
	return s, nil
}

// Validate refuses settings no job can run with.
func (s Settings) Validate() error {
	switch {
	case s.ShardPages < 1:
		return pipeerr.New(pipeerr.BadRequest, "shard_pages must be at least 1")
	case s.MaxBytes < 1:
		return pipeerr.New(pipeerr.BadRequest, "max_bytes must be positive")
	case s.MaxPages < 1:
		return pipeerr.New(pipeerr.BadRequest, "max_pages must be positive")
	case s.DictionaryBytes < 0 || s.DictionaryBytes > zlevel.MaxDictionary:
		return pipeerr.New(pipeerr.BadRequest, "dictionary_bytes must be between 0 and %d (the zstd CLI's limit)", zlevel.MaxDictionary)
	}
	if err := s.Level.Check(); err != nil {
		return err
	}
	return nil
}

// Changes lists, one "name old -> new" each in the config file's names,
// the settings that differ between was and now; none when they agree.
func Changes(was, now Settings) []string {
	a, b := fields(was), fields(now)
	var out []string
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if a[k] != b[k] {
			out = append(out, fmt.Sprintf("%s %s -> %s", k, a[k], b[k]))
		}
	}
	return out
}

// String is s as "name=value" pairs in the config file's names, unset
// fields left out.
func (s Settings) String() string {
	var out []string
	for k, v := range fields(s) {
		if v != "unset" {
			out = append(out, k+"="+v)
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// fields is s in its JSON names, with unset fields as "unset".
func fields(s Settings) map[string]string {
	all := map[string]any{}
	b, _ := json.Marshal(s)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // 2147483648, not 2.147483648e+09
	_ = dec.Decode(&all)
	out := map[string]string{}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Settings]()) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out[name] = "unset"
		if v, ok := all[name]; ok {
			out[name] = fmt.Sprint(v)
		}
	}
	return out
}

// Source identifies what a job was made from.
type Source struct {
	// Name is the file name shown to people (base name or object key).
	Name string `json:"name"`
	// URI is where it came from: a local path or s3://bucket/key.
	URI     string `json:"uri"`
	Version string `json:"version,omitempty"`
	Bytes   int64  `json:"bytes"`
	SHA256  string `json:"sha256"`
}

// Spec is jobs/<job>/job.json.
type Spec struct {
	Job      string   `json:"job"`
	Source   Source   `json:"source"`
	Settings Settings `json:"settings"`
}

// Load reads a job's spec.
func Load(m *jobfs.Mount, j jobfs.Job) (Spec, error) {
	b, err := m.ReadFile(j.Settings())
	if err != nil {
		return Spec{}, err
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return Spec{}, pipeerr.Wrap(pipeerr.Internal, err, "%s is not a job spec", j.Settings())
	}
	if s.Job != j.ID {
		return Spec{}, pipeerr.New(pipeerr.Internal, "%s belongs to job %q", j.Settings(), s.Job)
	}
	return s, nil
}

// Save writes a job's spec durably.
func Save(m *jobfs.Mount, j jobfs.Job, s Spec) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return pipeerr.Wrap(pipeerr.Internal, err, "job spec")
	}
	return m.WriteFile(j.Settings(), append(b, '\n'))
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
