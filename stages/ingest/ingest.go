package ingest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/secret"
	"github.com/efspipe/efspipe/pkg/source"
)

// In is the execution input.
type In struct {
	Source  string `json:"source"`
	Version string `json:"version,omitempty"`
	// SHA256 is the content hash of a local source when its starter knew
	// it (the inbox names executions by it). The source must still have
	// it; and if the file is gone (moved aside after the execution began),
	// the job's copy on the mount is the source, provided the job's record
	// says it came from this path and the copy verifies against it.
	SHA256 string `json:"sha256,omitempty"`
	// Password is refused: the execution input is stored in the execution
	// history (by Step Functions too), so a password there would be kept
	// in plain text. The Ref names where split finds it instead.
	Password string `json:"password,omitempty"`
	secret.Ref
}

// Out is the job: its ID and the source's path on the mount.
type Out struct {
	ID     string `json:"id"`
	Dir    string `json:"dir"`
	Source string `json:"source"`
	Bytes  int64  `json:"bytes"`
	// PasswordRef is where split finds the PDF's password (the input's
	// reference, never the password). Always present, {} when none was
	// given, because the ASL's Parameters fail on a path that matches
	// nothing.
	PasswordRef secret.Ref `json:"passwordRef"`
}

// JobID names the job in the stage's log lines (stage.Identified).
func (v Out) JobID() string { return v.ID }

// Stage is the ingest stage.
type Stage struct {
	Mount   *jobfs.Mount
	Sources source.Opener
	// Settings are this deployment's defaults (flags or environment); the
	// mount's shared config and the built-in defaults fill the rest.
	Settings jobspec.Settings
	Log      *slog.Logger
}

// Handle copies the source onto the mount, unless a verified copy is there.
func (s *Stage) Handle(ctx context.Context, in In) (Out, error) {
	if in.Source == "" {
		return Out{}, pipeerr.New(pipeerr.BadRequest, `the input has no "source"`)
	}
	if in.Password != "" {
		return Out{}, pipeerr.New(pipeerr.BadRequest, "%s", secret.PlainPassword)
	}
	if err := in.Ref.Check(); err != nil {
		return Out{}, err
	}
	settings, err := jobspec.Resolve(s.Mount, s.Settings)
	if err != nil {
		return Out{}, err
	}
	obj, err := s.Sources.Stat(ctx, in.Source, in.Version)
	if errors.Is(err, fs.ErrNotExist) {
		if rec, ok := s.recorded(in); ok {
			obj, err = rec, nil
		}
	}
	if err != nil {
		return Out{}, err
	}
	if in.SHA256 != "" && obj.SHA256 != "" && obj.SHA256 != in.SHA256 {
		return Out{}, pipeerr.New(pipeerr.BadRequest, "source %s no longer has the content this execution was started for (sha256 %.12s…, now %.12s…)", obj.Name, in.SHA256, obj.SHA256)
	}
	job, err := jobfs.NewJob(obj.JobID)
	if err != nil {
		return Out{}, err
	}
	out := Out{ID: job.ID, Dir: job.Dir(), Source: job.Source(), Bytes: obj.Size, PasswordRef: in.Ref}
	journal := checkpoint.Open(s.Mount, job)

	spec, err := jobspec.Load(s.Mount, job)
	fresh := errors.Is(err, fs.ErrNotExist)
	if fresh {
		// A new job: its settings are fixed now, before any work.
		spec = jobspec.Spec{Job: job.ID, Settings: settings, Source: jobspec.Source{
			Name: obj.Name, URI: obj.URI, Version: obj.Version, Bytes: obj.Size, SHA256: obj.SHA256,
		}}
	} else if err != nil {
		return Out{}, err
	}
	if obj.Size > spec.Settings.MaxBytes {
		return out, s.refused(job, fresh, spec.Source, pipeerr.New(pipeerr.TooLarge, "%s is %d bytes, over the limit of %d", obj.Name, obj.Size, spec.Settings.MaxBytes))
	}
	if rec, ok, _, err := journal.Verify(checkpoint.Ingest); err != nil {
		return out, err
	} else if ok && (obj.SHA256 == "" || rec.SHA256 == obj.SHA256) && s.Mount.Exists(job.Settings()) {
		out.Bytes = rec.Bytes
		return out, nil
	}

	sum, n, err := s.copy(ctx, obj, job, spec.Settings.MaxBytes)
	if err != nil {
		return out, s.refused(job, fresh, spec.Source, err)
	}
	if obj.SHA256 != "" && sum != obj.SHA256 {
		return out, pipeerr.New(pipeerr.IO, "%s changed while it was being copied", obj.Name)
	}
	spec.Source.Bytes, spec.Source.SHA256 = n, sum
	// The settings before the record, not beside it (each a round trip
	// or so on EFS): they name the source, so a job with any record can
	// be replayed by its ID alone (TestKillAnywhere kills at the first).
	if !s.Mount.Exists(job.Settings()) {
		// A status without settings is an earlier refusal of this content
		// (refused): removed first, so that no kill leaves it beside the
		// settings of a job that is running.
		if err := s.Mount.RemoveAll(job.Status()); err != nil {
			return out, err
		}
		if err := jobspec.Save(s.Mount, job, spec); err != nil {
			return out, err
		}
	}
	out.Bytes = n
	return out, journal.Commit(checkpoint.Record{Unit: checkpoint.Ingest, Path: job.Source(), Bytes: n, SHA256: sum})
}

// refused records a new job's refusal of its input (an InvalidInput.*
// err) as the job's outcome, status.json FAILED with the source, and
// returns err. The ASL ends the execution at once on ingest's
// InvalidInput.* (its state holds no job ID for RecordFailure yet) and a
// new job has no settings naming its source, so without this record
// status, list and replay took the refused job for one a kill had
// interrupted in ingest. It writes only beside the lock of an engine
// running the job (efspipe run, replay, serve), whose directory that is:
// in the cloud, where Step Functions runs jobs without a lock, a file
// that is not a PDF still leaves nothing on the mount. A record that
// cannot be written is logged, and err stands.
func (s *Stage) refused(job jobfs.Job, fresh bool, src jobspec.Source, err error) error {
	k := pipeerr.KindOf(err)
	if !fresh || !k.Permanent() || !s.Mount.Exists(job.Lock()) {
		return err
	}
	st := jobspec.Status{Job: job.ID, Status: jobspec.Failed, Error: string(k), Cause: err.Error(), Source: &src}
	if serr := jobspec.SaveStatus(s.Mount, job, st); serr != nil {
		s.log().Warn("refusal not recorded", "job", job.ID, "err", serr)
	}
	return err
}

// recorded is the source in as the job's record knows it, when in names
// its content (SHA256) and the job's verified copy on the mount came from
// in's path: a redrive whose inbox file was moved aside resumes from the
// copy instead of failing on the missing path.
func (s *Stage) recorded(in In) (source.Object, bool) {
	job, err := jobfs.NewJob(jobfs.FileJobIDOf(in.SHA256))
	if err != nil || source.IsS3(in.Source) {
		return source.Object{}, false
	}
	p, err := filepath.Abs(strings.TrimPrefix(in.Source, "file://"))
	if err != nil {
		return source.Object{}, false
	}
	spec, err := jobspec.Load(s.Mount, job)
	if err != nil || spec.Source.URI != p || spec.Source.SHA256 != in.SHA256 {
		return source.Object{}, false
	}
	rec, ok, _, err := checkpoint.Open(s.Mount, job).Verify(checkpoint.Ingest)
	if err != nil || !ok || rec.SHA256 != in.SHA256 {
		return source.Object{}, false
	}
	s.log().Info("source gone; its verified copy on the mount is the source", "source", p, "job", job.ID)
	return source.Object{JobID: job.ID, Name: spec.Source.Name, URI: p, Size: rec.Bytes, SHA256: rec.SHA256}, true
}

func (s *Stage) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// headBytes is how far into a file a PDF reader looks for "%PDF-".
const headBytes = 1024

// sniff refuses what is plainly not a PDF before any of it is copied onto
// the mount. The reason never quotes the file: a source may be anything
// its starter can name, and an error travels into histories and logs.
// A head without "%PDF-" that is not the whole file is not refused yet:
// the split stage repairs a header further on, or a missing one when the
// file holds objects (pdfsplit's sniff), so the copy looks for either
// (marks) and is abandoned, never committed, if it finds neither.
func sniff(head []byte, name string) (whole bool, err error) {
	switch {
	case len(head) == 0:
		return false, pipeerr.New(pipeerr.NotPDF, "not a PDF: %s is empty", name)
	case bytes.Contains(head, []byte("%PDF-")):
		return false, nil
	case len(head) < headBytes && !bytes.Contains(head, []byte(" obj")):
		return false, notPDF(name)
	}
	return true, nil
}

func notPDF(name string) error {
	return pipeerr.New(pipeerr.NotPDF, "not a PDF: %s has no %%PDF- header and no objects", name)
}

// marks is an io.Writer that notes whether what went through it holds a
// "%PDF-" header or an "N G obj" object, across write boundaries.
type marks struct {
	tail  []byte
	found bool
}

func (m *marks) Write(p []byte) (int, error) {
	if m.found {
		return len(p), nil
	}
	buf := append(m.tail, p...)
	m.found = bytes.Contains(buf, []byte("%PDF-")) || bytes.Contains(buf, []byte(" obj"))
	m.tail = append(m.tail[:0], buf[max(0, len(buf)-4):]...)
	return len(p), nil
}

// copy streams the source to the mount, hashing as it goes: nothing is
// buffered whole, whatever the document's size. It stops within one read
// when ctx ends.
func (s *Stage) copy(ctx context.Context, obj source.Object, job jobfs.Job, max int64) (string, int64, error) {
	rc, err := s.Sources.Open(ctx, obj)
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	r := source.Context(ctx, rc)
	head := make([]byte, headBytes)
	hn, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		if ctx.Err() != nil {
			return "", 0, ctx.Err()
		}
		return "", 0, pipeerr.Wrap(pipeerr.IO, err, "read %s", obj.Name)
	}
	whole, err := sniff(head[:hn], obj.Name)
	if err != nil {
		return "", 0, err
	}
	var mk *marks
	if whole {
		mk = &marks{}
	}
	r = io.MultiReader(bytes.NewReader(head[:hn]), r)
	w, err := s.Mount.Create(job.Source())
	if err != nil {
		return "", 0, err
	}
	defer w.Abort()
	h := sha256.New()
	// 1 MiB writes: on NFS every write is a round trip, and io.Copy's
	// default 32 KiB would pay it 32 times per MiB.
	bw := bufio.NewWriterSize(w, 1<<20)
	dst := io.MultiWriter(bw, h)
	if mk != nil {
		dst = io.MultiWriter(bw, h, mk)
	}
	n, err := io.Copy(dst, io.LimitReader(r, max+1))
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", 0, ctx.Err()
		}
		return "", 0, pipeerr.Wrap(pipeerr.IO, err, "copy %s to %s", obj.Name, job.Source())
	}
	if n > max {
		return "", 0, pipeerr.New(pipeerr.TooLarge, "%s is over the limit of %d bytes", obj.Name, max)
	}
	if obj.Size >= 0 && n != obj.Size {
		// The file was cut or written to after it was hashed (a writer
		// still at it): say so, not only the sizes.
		return "", 0, pipeerr.New(pipeerr.IO, "%s changed while it was being read: %d bytes now, %d when it was hashed; write it elsewhere and move it in when complete", obj.Name, n, obj.Size)
	}
	if mk != nil && !mk.found {
		return "", 0, notPDF(obj.Name)
	}
	if err := w.Commit(); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
