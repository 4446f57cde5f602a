package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Units of work. Shard units carry the shard index: Unit("split", 3).
const (
	Ingest     = "ingest"
	Plan       = "plan"
	Split      = "split"
	Compress   = "compress"
	Sealed     = "sealed"
	Published  = "published"
	Dictionary = "dictionary"
	// Objects is the shared-object table the split pages' recipes refer to.
	Objects = "objects"
)

// Unit names a per-shard unit.
func Unit(kind string, shard int) string { return fmt.Sprintf("%s-%04d", kind, shard) }

// Record says that Path was complete and durable with these Bytes and SHA256.
type Record struct {
	Unit   string `json:"unit"`
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	// Items locate pages inside a shard file, in page order.
	Items []Item `json:"items,omitempty"`
}

// Item is one page inside a shard file: Offset and Len locate its bytes in
// the file (a recipe in a split shard, a zstd frame in a compressed one);
// PDFBytes and PDFSHA256 describe the one-page PDF it restores to. Split
// leaves PDFSHA256 empty: the page exists whole first in compress, which
// hashes it there once.
type Item struct {
	Page      int    `json:"page"`
	Offset    int64  `json:"offset"`
	Len       int64  `json:"len"`
	PDFBytes  int64  `json:"pdf_bytes"`
	PDFSHA256 string `json:"pdf_sha256,omitempty"`
}

// Journal is the set of records of one job.
type Journal struct {
	m   *jobfs.Mount
	job jobfs.Job
}

// Open returns the journal of job j.
func Open(m *jobfs.Mount, j jobfs.Job) *Journal { return &Journal{m: m, job: j} }

func (jn *Journal) recordPath(unit string) string {
	return path.Join(jn.job.Checkpoints(), unit+".json")
}

// Get returns the record of unit, without verifying it; ok is false when
// there is none.
func (jn *Journal) Get(unit string) (rec Record, ok bool, err error) {
	b, err := jn.m.ReadFile(jn.recordPath(unit))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Record{}, false, nil
		}
		return Record{}, false, err
	}
	if err := json.Unmarshal(b, &rec); err != nil || rec.Unit != unit {
		// A torn or foreign record is no record: the unit is redone.
		return Record{}, false, nil
	}
	return rec, true, nil
}

// Verify returns the record of unit if the file it names still matches it.
// A missing, truncated or altered file yields ok=false and a reason; the
// caller redoes the unit.
func (jn *Journal) Verify(unit string) (rec Record, ok bool, reason string, err error) {
	rec, ok, err = jn.Get(unit)
	if err != nil || !ok {
		return rec, false, "no record", err
	}
	if err := jn.job.Owns(rec.Path); err != nil {
		return rec, false, "record names a path outside the job", nil
	}
	f, err := jn.m.Open(rec.Path)
	if err != nil {
		return rec, false, "file missing", nil
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return rec, false, "", pipeerr.Wrap(pipeerr.IO, err, "verify %s", rec.Path)
	}
	reason = mismatch(rec, n, hex.EncodeToString(h.Sum(nil)))
	return rec, reason == "", reason, nil
}

// mismatch says how a file of n bytes with SHA-256 sum differs from rec,
// or "" when it matches.
func mismatch(rec Record, n int64, sum string) string {
	switch {
	case n != rec.Bytes:
		return fmt.Sprintf("size %d, recorded %d", n, rec.Bytes)
	case sum != rec.SHA256:
		return "checksum differs from the record"
	}
	return ""
}

// ReadVerified is Verify for a file the caller is about to read whole: it
// reads it once and checks the bytes in memory, where Verify then a read
// would fetch it twice (on EFS, twice the round trips).
func (jn *Journal) ReadVerified(unit string) (rec Record, data []byte, ok bool, reason string, err error) {
	rec, ok, err = jn.Get(unit)
	if err != nil || !ok {
		return rec, nil, false, "no record", err
	}
	data, ok, reason = jn.Read(rec)
	return rec, data, ok, reason, nil
}

// Read reads the file rec names and checks it against rec, for a caller
// that already holds the record.
func (jn *Journal) Read(rec Record) (data []byte, ok bool, reason string) {
	if err := jn.job.Owns(rec.Path); err != nil {
		return nil, false, "record names a path outside the job"
	}
	data, err := jn.m.ReadFile(rec.Path)
	if err != nil {
		return nil, false, "file missing"
	}
	if reason := mismatch(rec, int64(len(data)), Sum(data)); reason != "" {
		return nil, false, reason
	}
	return data, true, ""
}

// Commit records rec. The file it names need not be durable yet (see the
// package's invariant), but it must be on its way: a record of a file that
// never comes is redone at every attempt. It returns BadRequest for a path
// outside the job and the mount's errors (Transient.IO, Storage.*).
func (jn *Journal) Commit(rec Record) error {
	if err := jn.job.Owns(rec.Path); err != nil {
		return err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return pipeerr.Wrap(pipeerr.Internal, err, "record %s", rec.Unit)
	}
	return jn.m.WriteFile(jn.recordPath(rec.Unit), b)
}

// Forget removes the record of unit (so the unit is redone).
func (jn *Journal) Forget(unit string) error {
	return jn.m.RemoveAll(jn.recordPath(unit))
}

// Units returns the units that have a record file, verified or not, from
// one listing of the journal: cheaper than looking up each unit where most
// have none yet.
func (jn *Journal) Units() (map[string]bool, error) {
	ents, err := jn.m.ReadDir(jn.job.Checkpoints())
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	} else if err != nil {
		return nil, err
	}
	units := make(map[string]bool, len(ents))
	for _, e := range ents {
		if name := e.Name(); strings.HasSuffix(name, ".json") && !strings.HasPrefix(name, ".") {
			units[strings.TrimSuffix(name, ".json")] = true
		}
	}
	return units, nil
}

// List returns every record, sorted by unit.
func (jn *Journal) List() ([]Record, error) {
	units, err := jn.Units()
	if err != nil {
		return nil, err
	}
	var recs []Record
	for unit := range units {
		rec, ok, err := jn.Get(unit)
		if err != nil {
			return nil, err
		}
		if ok {
			recs = append(recs, rec)
		}
	}
	sort.Slice(recs, func(a, b int) bool { return recs[a].Unit < recs[b].Unit })
	return recs, nil
}

// Sum is the hex SHA-256 of b.
func Sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// WriteFile writes data to rel durably and records it as unit. The file and
// its record are written at the same time, not one after the other: each is
// a create, write, fsync and rename (about 20 ms on EFS), and a record whose
// file a crash lost is refused by Verify and Read, so its unit is redone.
// The record is returned only once both are durable; the error is the first
// of the two writes' (Commit's kinds).
func (jn *Journal) WriteFile(unit, rel string, data []byte, items []Item) (Record, error) {
	rec := Record{Unit: unit, Path: rel, Bytes: int64(len(data)), SHA256: Sum(data), Items: items}
	if err := jn.job.Owns(rel); err != nil {
		return Record{}, err
	}
	var g errgroup.Group
	g.Go(func() error { return jn.m.WriteFile(rel, data) })
	g.Go(func() error { return jn.Commit(rec) })
	if err := g.Wait(); err != nil {
		return Record{}, err
	}
	return rec, nil
}
