package reader

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"iter"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/zstd"
	"gocloud.dev/blob"

	"github.com/efspipe/efspipe/pkg/checkpoint"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/manifest"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/pkg/publish"
	"github.com/efspipe/efspipe/pkg/source"
	"github.com/efspipe/efspipe/pkg/zlevel"
	"github.com/efspipe/efspipe/pkg/zpage"
)

// Options say how a job is read. The zero value means the defaults.
type Options struct {
	// S3 is the client s3:// locations are read with. Default: one built
	// from the environment's AWS configuration, as efspipe builds its own
	// (source.NewS3Client: AWS_ENDPOINT_URL and path-style addressing for
	// an S3-compatible server), and only for an s3:// location.
	S3 *s3.Client
	// MaxPageBytes is the largest restored page, in bytes, a manifest may
	// list: one that lists a larger page is refused (TooLarge) before any
	// page is read. Default 1 GiB.
	MaxPageBytes int64
	// MaxManifestBytes is the largest manifest.json read, in bytes.
	// Default 64 MiB (a manifest takes about 200 bytes a page).
	MaxManifestBytes int64
	// Manifest, if not nil, is the manifest the publication is checked
	// against instead of the published one: a publisher that kept its own
	// copy (efspipe's sealed manifest on the mount) passes it. The
	// published manifest.json is then only compared with it, and Verify
	// and CheckSizes report it if it is missing or differs.
	Manifest []byte
}

// Defaults of Options.
const (
	DefaultMaxPageBytes     = 1 << 30
	DefaultMaxManifestBytes = 64 << 20
)

func (o *Options) withDefaults() Options {
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.MaxPageBytes <= 0 {
		opts.MaxPageBytes = DefaultMaxPageBytes
	}
	if opts.MaxManifestBytes <= 0 {
		opts.MaxManifestBytes = DefaultMaxManifestBytes
	}
	return opts
}

// Job is one published job, opened for reading. It is safe for
// concurrent use.
type Job struct {
	id    string
	where string // <out>/<job>, for messages
	st    store
	m     manifest.Published
	opts  Options

	mu      sync.Mutex
	dec     *zpage.Decoder
	dictErr error // a dictionary that does not match: permanent
}

// Open opens job as published under out: a local folder (a path, or
// file:///path) or a bucket prefix (s3://bucket/prefix). It reads and
// checks the manifest; pages and the dictionary are read when asked for.
// A local folder is read through an os.Root at <out>/<job>: nothing
// outside that folder is read, whatever symlinks it holds.
//
// Errors, by pipeerr kind: BadRequest for a job ID that is not one, an
// unsupported location, or a job with no manifest there (wrapping
// fs.ErrNotExist); Damaged for a manifest that is not a valid manifest of
// job; TooLarge for a manifest over Options.MaxManifestBytes or listing a
// page over Options.MaxPageBytes; IO and Storage.* when reading fails.
func Open(ctx context.Context, out, job string, opts *Options) (*Job, error) {
	o := opts.withDefaults()
	if err := jobfs.CheckJobID(job); err != nil {
		return nil, err
	}
	if out == "" {
		return nil, pipeerr.New(pipeerr.BadRequest, "no output location given")
	}
	var (
		st    store
		where string
	)
	if u, err := url.Parse(out); err == nil && u.Scheme != "" && u.Scheme != "file" && len(u.Scheme) > 1 {
		client := o.S3
		if client == nil && u.Scheme == "s3" {
			if client, err = source.NewS3Client(ctx, ""); err != nil {
				return nil, err
			}
		}
		b, err := publish.S3(client)(ctx, u)
		if err != nil {
			return nil, err
		}
		prefix := strings.Trim(u.Path, "/")
		st = &bucket{b: b, base: strings.TrimPrefix(prefix+"/"+job, "/"), own: true}
		where = "s3://" + u.Host + "/" + strings.TrimPrefix(prefix+"/"+job, "/")
	} else {
		dir, err := filepath.Abs(strings.TrimPrefix(out, "file://"))
		if err != nil {
			return nil, pipeerr.Wrap(pipeerr.BadRequest, err, "output %s", out)
		}
		f, err := openFolder(dir, job)
		if err != nil {
			return nil, err
		}
		st, where = f, filepath.Join(dir, job)
	}
	j, err := open(ctx, st, job, where, o)
	if err != nil {
		st.close()
		return nil, err
	}
	return j, nil
}

// OpenBucket opens job as published under prefix in b, any gocloud bucket
// (s3blob, gcsblob, memblob, ...), as Open does. b stays the caller's:
// Close does not close it.
func OpenBucket(ctx context.Context, b *blob.Bucket, prefix, job string, opts *Options) (*Job, error) {
	if err := jobfs.CheckJobID(job); err != nil {
		return nil, err
	}
	base := strings.TrimPrefix(strings.Trim(prefix, "/")+"/"+job, "/")
	return open(ctx, &bucket{b: b, base: base}, job, base, opts.withDefaults())
}

func open(ctx context.Context, st store, job, where string, o Options) (*Job, error) {
	j := &Job{id: job, where: where, st: st, opts: o}
	raw := o.Manifest
	if raw == nil {
		var err error
		if raw, err = j.readManifest(ctx); err != nil {
			return nil, err
		}
	}
	var err error
	if j.m, err = decode(raw, job, o.MaxPageBytes); err != nil {
		return nil, err
	}
	return j, nil
}

func (j *Job) readManifest(ctx context.Context) ([]byte, error) {
	raw, size, err := j.st.read(ctx, manifest.File, j.opts.MaxManifestBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, notPublished(j.id, j.where)
	case err != nil:
		return nil, err
	case raw == nil:
		return nil, pipeerr.New(pipeerr.TooLarge, "%s of job %s is %d bytes, over the limit of %d", manifest.File, j.id, size, j.opts.MaxManifestBytes)
	}
	return raw, nil
}

// notPublished is a job with no manifest at where (<out>/<job>).
func notPublished(job, where string) error {
	return pipeerr.Wrap(pipeerr.BadRequest, errMissing, "job %s is not published: %s/%s", job, where, manifest.File)
}

var sha256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)

// decode parses a published manifest and checks that it is one of job
// that this package can read within maxPage: every path is the one
// efspipe publishes at, so none can name a file outside the job.
func decode(raw []byte, job string, maxPage int64) (manifest.Published, error) {
	var m manifest.Published
	bad := func(format string, args ...any) (manifest.Published, error) {
		return manifest.Published{}, pipeerr.New(pipeerr.Damaged, "%s is not a valid manifest of job %s: "+format, append([]any{manifest.File, job}, args...)...)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return bad("%v", err)
	}
	switch {
	case m.Schema > manifest.Schema:
		// Fields changed meaning at that version: reading it as this one
		// could check pages against the wrong things.
		return manifest.Published{}, pipeerr.New(pipeerr.BadRequest, "%s of job %s has schema %d, newer than this reader's %d: use a newer efspipe", manifest.File, job, m.Schema, manifest.Schema)
	case m.Job != job:
		return bad("it is job %q's", m.Job)
	case m.Codec != "zstd":
		return bad("codec %q, not zstd", m.Codec)
	case len(m.Pages) == 0 || len(m.Pages) != m.Source.Pages:
		return bad("it lists %d pages, its source has %d", len(m.Pages), m.Source.Pages)
	}
	switch {
	case m.Dictionary == "" && (m.DictionaryBytes != 0 || m.DictionarySHA256 != ""):
		return bad("a dictionary size or checksum but no dictionary")
	case m.Dictionary != "" && m.Dictionary != manifest.DictionaryFile:
		return bad("dictionary %q, not %s", m.Dictionary, manifest.DictionaryFile)
	case m.Dictionary != "" && (m.DictionaryBytes <= 0 || m.DictionaryBytes > zlevel.MaxDictionary || !sha256Re.MatchString(m.DictionarySHA256)):
		return bad("dictionary of %d bytes (at most %d) with SHA-256 %q", m.DictionaryBytes, zlevel.MaxDictionary, m.DictionarySHA256)
	}
	total := m.DictionaryBytes
	for i, p := range m.Pages {
		switch {
		case p.Number != i+1 || p.Path != manifest.PagePath(i+1):
			return bad("entry %d is page %d at %q, want page %d at %s", i+1, p.Number, p.Path, i+1, manifest.PagePath(i+1))
		case p.Bytes <= 0 || p.PDFBytes <= 0 || !sha256Re.MatchString(p.SHA256):
			return bad("page %d: %d bytes restoring to %d with SHA-256 %q", p.Number, p.Bytes, p.PDFBytes, p.SHA256)
		case p.PDFBytes > maxPage:
			return manifest.Published{}, pipeerr.New(pipeerr.TooLarge, "page %d of job %s restores to %d bytes, over the limit of %d", p.Number, job, p.PDFBytes, maxPage)
		}
		total += p.Bytes
	}
	if total != m.Bytes {
		return bad("its files add up to %d bytes, it says %d", total, m.Bytes)
	}
	return m, nil
}

// Close releases the job (and the bucket Open opened).
func (j *Job) Close() error {
	j.mu.Lock()
	if j.dec != nil {
		j.dec.Close()
		j.dec = nil
	}
	j.mu.Unlock()
	return j.st.close()
}

// ID is the job's ID.
func (j *Job) ID() string { return j.id }

// Len is the number of pages.
func (j *Job) Len() int { return len(j.m.Pages) }

// Manifest is the job's manifest, checked by Open. Page numbers are
// 1-based; Pages[n-1] is page n.
func (j *Job) Manifest() manifest.Published {
	m := j.m
	m.Pages = slices.Clone(m.Pages)
	m.Source.Repairs = slices.Clone(m.Source.Repairs)
	return m
}

// Page returns page n (1-based) restored: a one-page PDF of exactly the
// manifest's pdf_bytes whose SHA-256 is the manifest's sha256. Nothing is
// returned unless it matches. Memory is bounded by the manifest: a .zst
// file of another size than its "bytes" is not read, and a frame that
// declares another size than "pdf_bytes" is refused before it is
// decoded.
//
// Errors, by pipeerr kind: BadRequest for n outside 1..Len, or a page
// file that resolves outside the job's folder; Damaged when the page file
// is missing (the error wraps fs.ErrNotExist), is not a regular file, has
// another size than the manifest's, does not restore, or restores to
// other bytes, and when the dictionary does not match the manifest; IO
// and Storage.* when reading fails. Every message names the page.
func (j *Job) Page(ctx context.Context, n int) ([]byte, error) {
	if n < 1 || n > len(j.m.Pages) {
		return nil, pipeerr.New(pipeerr.BadRequest, "job %s has pages 1 to %d, not %d", j.id, len(j.m.Pages), n)
	}
	dec, err := j.decoder(ctx)
	if err != nil {
		return nil, pageErr(n, err)
	}
	return j.page(ctx, dec, j.m.Pages[n-1])
}

// PageReader is Page as a reader: every byte was checked before the first
// is read.
func (j *Job) PageReader(ctx context.Context, n int) (io.Reader, error) {
	b, err := j.Page(ctx, n)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

// PDF is one restored page: its manifest entry and its bytes.
type PDF struct {
	manifest.Page
	Data []byte
}

// Pages yields every page in order, restored and checked as Page does.
// A page that fails is yielded with its error (and no data) and the
// iteration goes on; break out of the loop to stop it.
func (j *Job) Pages(ctx context.Context) iter.Seq2[PDF, error] {
	return func(yield func(PDF, error) bool) {
		for _, p := range j.m.Pages {
			b, err := j.Page(ctx, p.Number)
			if !yield(PDF{Page: p, Data: b}, err) || ctx.Err() != nil {
				return
			}
		}
	}
}

// decoder returns the job's decoder, reading and checking the dictionary
// the first time. A dictionary that does not match is remembered; an I/O
// failure is tried again on the next call.
func (j *Job) decoder(ctx context.Context) (*zpage.Decoder, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.dec != nil || j.dictErr != nil {
		return j.dec, j.dictErr
	}
	dict, err := j.dictionary(ctx)
	if pipeerr.KindOf(err) == pipeerr.Damaged {
		j.dictErr = err
	}
	if err != nil {
		return nil, err
	}
	var largest int64
	for _, p := range j.m.Pages {
		largest = max(largest, p.PDFBytes)
	}
	// A frame may declare no more than its page's pdf_bytes (checked
	// before each decode); the decoder's own bound is the largest page.
	dec, err := zpage.NewDecoder(dict, uint64(largest))
	if err != nil {
		return nil, err
	}
	j.dec = dec
	return dec, nil
}

// dictionary reads the dictionary and checks it against the manifest.
func (j *Job) dictionary(ctx context.Context) ([]byte, error) {
	m := j.m
	if m.Dictionary == "" {
		return nil, nil
	}
	dict, size, err := j.st.read(ctx, m.Dictionary, m.DictionaryBytes)
	switch {
	case err != nil:
		return nil, err
	case size != m.DictionaryBytes:
		return nil, pipeerr.New(pipeerr.Damaged, "%s is %d bytes, the manifest says %d", m.Dictionary, size, m.DictionaryBytes)
	}
	if s := checkpoint.Sum(dict); s != m.DictionarySHA256 {
		return nil, pipeerr.New(pipeerr.Damaged, "%s has SHA-256 %.12s…, the manifest says %.12s…", m.Dictionary, s, m.DictionarySHA256)
	}
	return dict, nil
}

// page reads, restores and checks one page.
func (j *Job) page(ctx context.Context, dec *zpage.Decoder, p manifest.Page) ([]byte, error) {
	frame, size, err := j.st.read(ctx, p.Path, p.Bytes)
	if err != nil {
		return nil, pageErr(p.Number, err)
	}
	if size != p.Bytes {
		return nil, pipeerr.New(pipeerr.Damaged, "page %d: %s is %d bytes, the manifest says %d", p.Number, p.Path, size, p.Bytes)
	}
	var h zstd.Header
	if err := h.Decode(frame); err != nil || h.Skippable || !h.HasFCS {
		return nil, pipeerr.New(pipeerr.Damaged, "page %d: %s is not a zstd frame that declares its size", p.Number, p.Path)
	}
	if h.FrameContentSize != uint64(p.PDFBytes) {
		return nil, pipeerr.New(pipeerr.Damaged, "page %d: %s declares %d bytes, the manifest says %d", p.Number, p.Path, h.FrameContentSize, p.PDFBytes)
	}
	pdf, err := dec.DecodeTo(make([]byte, 0, p.PDFBytes), frame)
	if pe := (*pipeerr.Error)(nil); errors.As(err, &pe) && pe.Err != nil {
		err = pe.Err // zstd's own reason, without zpage's "restore page"
	}
	if err != nil {
		return nil, pipeerr.Wrap(pipeerr.Damaged, err, "page %d: %s does not restore", p.Number, p.Path)
	}
	if int64(len(pdf)) != p.PDFBytes {
		return nil, pipeerr.New(pipeerr.Damaged, "page %d: %s restores to %d bytes, the manifest says %d", p.Number, p.Path, len(pdf), p.PDFBytes)
	}
	if s := checkpoint.Sum(pdf); s != p.SHA256 {
		return nil, pipeerr.New(pipeerr.Damaged, "page %d: %s restores to SHA-256 %.12s…, the manifest says %.12s…", p.Number, p.Path, s, p.SHA256)
	}
	return pdf, nil
}

// pageErr names page n in err, keeping its kind and its cause.
func pageErr(n int, err error) error {
	var pe *pipeerr.Error
	if errors.As(err, &pe) {
		return &pipeerr.Error{Kind: pe.Kind, Msg: "page " + strconv.Itoa(n) + ": " + pe.Msg, Err: pe.Err}
	}
	return pipeerr.Wrap(pipeerr.KindOf(err), err, "page %d", n)
}
