package jobfs

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Mount is the shared file system (EFS in the cloud, any directory locally).
// It is safe for concurrent use.
type Mount struct {
	dir  string
	root *os.Root

	// dirs holds open handles of the directories files were last used in.
	// Going through the root, every operation on jobs/<job>/ckpt/x.json
	// opens jobs, jobs/<job> and jobs/<job>/ckpt first (os.Root walks one
	// component at a time): on NFS each is a lookup the client may have to
	// revalidate with the server. Through a held directory handle an
	// operation is one openat, renameat or fstatat (the Octave manual's
	// run: 2,310 directory opens before, 147 after). A handle whose
	// directory was removed (by us: dropped at once; by another process:
	// found stale on a miss) is reopened.
	mu   sync.Mutex
	dirs map[string]*dirHandle
	// locks are the in-process halves of the job locks held or awaited.
	locks map[string]*jobLock
	owner *Owner
}

// Owner is a POSIX user and group.
type Owner struct{ UID, GID int }

// Options configure Open. The zero value is the defaults.
type Options struct {
	// Owner, if not nil, is given every file and directory this process
	// creates on the mount. On EFS the access point makes every function
	// one POSIX user; an operator who replays a job as root on a machine
	// mounting the file system directly would otherwise leave files that
	// user cannot change, and the next run of the job would fail on them.
	// Giving another user a file needs root (CAP_CHOWN). Default: nil, what
	// this process creates is its own.
	Owner *Owner
}

// Modes of what is created on the mount: the owner reads and writes, its
// group reads (status and debugging as another user of the group).
const (
	filePerm = 0o640
	dirPerm  = 0o750
)

// dirHandle is a held directory and when it was last known to exist. dir
// is the directory opened as a file, whose descriptor renames and fsyncs
// use directly: through the root, a rename looks its target up first (to
// refuse replacing a directory, which renameat(2) refuses anyway with
// EISDIR) and a directory fsync opens the directory again, one network
// round trip each per durable write on EFS.
//
// A handle is closed when it is dropped from the mount's cache (maxDirs,
// forget) and no operation uses it any more: users counts those under
// Mount.mu. Left to the garbage collector, dropped handles piled up
// between collections: 1,915 descriptors after serve started 2,000
// executions, each in a directory of its own.
type dirHandle struct {
	root *os.Root
	dir  *os.File
	seen atomic.Int64 // unix nanoseconds

	users   int  // operations using it (Mount.mu)
	dropped bool // no longer in Mount.dirs (Mount.mu)
}

// drop takes h out of use by later operations and closes it once the
// current ones are done. Called with Mount.mu held.
func (h *dirHandle) drop() {
	if h.dropped {
		return
	}
	h.dropped = true
	if h.users == 0 {
		h.dir.Close()
		h.root.Close()
	}
}

// release ends one operation's use of h, which openDir began.
func (m *Mount) release(h *dirHandle) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h.users--
	if h.users == 0 && h.dropped {
		h.dir.Close()
		h.root.Close()
	}
}

// rename renames from to to, both names in the directory (neither has a
// slash: a temp name and path.Base of a checked path), so nothing outside
// it is reached, and a symlink named to is replaced, never followed.
func (h *dirHandle) rename(from, to string) error {
	c, err := h.dir.SyscallConn()
	if err != nil {
		return err
	}
	var rerr error
	if err := c.Control(func(fd uintptr) { rerr = syscall.Renameat(int(fd), from, int(fd), to) }); err != nil {
		return err
	}
	if rerr != nil {
		return &os.LinkError{Op: "renameat", Old: from, New: to, Err: rerr}
	}
	return nil
}

// trustFor is how long a directory handle is trusted after it was opened
// or checked: a miss within it is a missing file, not a removed directory.
// Directories are removed only by gc (jobs idle for days), a --fresh run
// (which takes the job's lock) and finalize (after the last use), so
// another process replacing one within a second of our using it is not a
// case to pay a round trip on every miss for.
var trustFor = time.Second

// maxDirs bounds the directory handles held: past it they are all dropped
// (each closed once the operations using it are done), so a long-lived
// process working through many jobs holds a few dozen at most.
const maxDirs = 64

// Open opens the mount at dir with the default Options, creating the
// directory if it is missing.
func Open(dir string) (*Mount, error) { return OpenWith(dir, Options{}) }

// OpenWith opens the mount at dir, creating the directory if it is missing.
func OpenWith(dir string, opts Options) (*Mount, error) {
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, pipeerr.Wrap(pipeerr.IO, err, "mount %s", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, pipeerr.Wrap(pipeerr.IO, err, "mount %s", dir)
	}
	return &Mount{dir: dir, root: root, dirs: map[string]*dirHandle{}, locks: map[string]*jobLock{}, owner: opts.Owner}, nil
}

// DirOwner is the owner of the directory dir (on EFS, the root of the
// access point: its POSIX user).
func DirOwner(dir string) (Owner, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return Owner{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Owner{}, fmt.Errorf("%s: no owner on this system", dir)
	}
	return Owner{UID: int(st.Uid), GID: int(st.Gid)}, nil
}

// own gives f to the mount's Owner, if it has one.
func (m *Mount) own(f *os.File) error {
	if m.owner == nil {
		return nil
	}
	return f.Chown(m.owner.UID, m.owner.GID)
}

// mkdirAll creates rel and its missing parents. With an Owner each
// directory it creates is given to it: it goes one component at a time,
// so it knows which ones it created.
func (m *Mount) mkdirAll(rel string) error {
	if m.owner == nil {
		return m.root.MkdirAll(rel, dirPerm)
	}
	if fi, err := m.root.Stat(rel); err == nil && fi.IsDir() {
		return nil
	}
	parts := strings.Split(rel, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		err := m.root.Mkdir(p, dirPerm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := m.root.Lchown(p, m.owner.UID, m.owner.GID); err != nil {
			return err
		}
	}
	return nil
}

// in runs op on rel's directory handle and base name. On a miss (ENOENT,
// ESTALE) through a handle not checked for trustFor, it checks that the
// directory still exists, and if not, drops the handle and runs op once
// more on a fresh one: what a deleted and recreated directory needs.
func (m *Mount) in(rel string, op func(dir *os.Root, name string) error) error {
	dirRel, name := path.Split(rel)
	dirRel = strings.TrimSuffix(dirRel, "/")
	if dirRel == "" {
		return op(m.root, name)
	}
	h, err := m.openDir(dirRel)
	if err != nil {
		return err
	}
	err = op(h.root, name)
	stale := (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESTALE)) && !h.alive()
	m.release(h)
	if !stale {
		return err
	}
	m.forget(dirRel)
	if h, err = m.openDir(dirRel); err != nil {
		return err
	}
	defer m.release(h)
	return op(h.root, name)
}

// openDir returns the handle of directory rel, opening it if none is held,
// for one operation, which must release it.
func (m *Mount) openDir(rel string) (*dirHandle, error) {
	m.mu.Lock()
	h := m.dirs[rel]
	if h != nil {
		h.users++
	}
	m.mu.Unlock()
	if h != nil {
		return h, nil
	}
	root, err := m.root.OpenRoot(rel)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Err.Error() == "not a directory" && !errors.Is(err, syscall.ENOTDIR) {
			// os.Root says so in words, not with ENOTDIR (Go 1.26,
			// os/root_unix.go newRoot): the errno is what classify
			// knows.
			err = &fs.PathError{Op: pe.Op, Path: pe.Path, Err: syscall.ENOTDIR}
		}
		return nil, err
	}
	dir, err := root.Open(".")
	if err != nil {
		root.Close()
		return nil, err
	}
	h = &dirHandle{root: root, dir: dir, users: 1}
	h.seen.Store(time.Now().UnixNano())
	m.mu.Lock()
	defer m.mu.Unlock()
	if old := m.dirs[rel]; old != nil {
		// Another operation opened it meanwhile: one handle is kept.
		old.drop()
	}
	if len(m.dirs) >= maxDirs {
		for _, d := range m.dirs {
			d.drop()
		}
		clear(m.dirs)
	}
	m.dirs[rel] = h
	return h, nil
}

// alive reports whether the handle's directory still has a name (a
// removed directory keeps working as a handle, with no links), trusting
// it without asking within trustFor of the last answer.
func (h *dirHandle) alive() bool {
	if time.Since(time.Unix(0, h.seen.Load())) < trustFor {
		return true
	}
	fi, err := h.root.Stat(".")
	if err != nil {
		return false
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink == 0 {
		return false
	}
	h.seen.Store(time.Now().UnixNano())
	return true
}

// forget drops the handles of rel and every directory below it.
func (m *Mount) forget(rel string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for d, h := range m.dirs {
		if d == rel || strings.HasPrefix(d, rel+"/") {
			h.drop()
			delete(m.dirs, d)
		}
	}
}

// Close releases the mount and the directory handles it holds.
func (m *Mount) Close() error {
	m.mu.Lock()
	for _, h := range m.dirs {
		h.drop()
	}
	clear(m.dirs)
	m.mu.Unlock()
	return m.root.Close()
}

// Dir is the mount's directory on this machine (for messages only: all
// access goes through the root).
func (m *Mount) Dir() string { return m.dir }

// Root is the os.Root every access goes through.
func (m *Mount) Root() *os.Root { return m.root }

// CheckPath refuses a path that is not a plain relative path inside the
// mount: absolute, empty, with "..", or with backslashes. Symlinks that lead
// out are refused later by os.Root itself, when the path is opened.
func CheckPath(rel string) error {
	if rel == "" || !filepath.IsLocal(rel) || strings.Contains(rel, `\`) || path.Clean(rel) != rel {
		return pipeerr.New(pipeerr.BadRequest, "path %q is not a clean relative path inside the mount", rel)
	}
	return nil
}

func classify(err error, op, rel string) error {
	if err == nil {
		return nil
	}
	var e *pipeerr.Error
	if errors.As(err, &e) {
		return err
	}
	if strings.Contains(err.Error(), "path escapes from parent") {
		return pipeerr.Wrap(pipeerr.BadRequest, err, "%s %s: path escapes the mount", op, rel)
	}
	if errors.Is(err, fs.ErrNotExist) {
		// A missing file on the mount is a broken invariant (a record or a
		// plan names it), not a hiccup worth retrying.
		return &pipeerr.Error{Kind: pipeerr.Internal, Msg: fmt.Sprintf("%s %s: missing", op, rel), Err: err}
	}
	if errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.ENOTDIR) {
		// Something efspipe never makes is in the way: retrying it for two
		// minutes as a network hiccup cannot move it.
		return pipeerr.Wrap(pipeerr.BadRequest, err, "%s %s: a directory on the mount where efspipe writes a file, or a file where it needs a directory; efspipe does not make these, remove it", op, rel)
	}
	return pipeerr.Wrap(pipeerr.IO, err, "%s %s", op, rel)
}

// ReadFile reads a whole regular file (errors as Open's).
func (m *Mount) ReadFile(rel string) ([]byte, error) {
	if err := CheckPath(rel); err != nil {
		return nil, err
	}
	var b []byte
	var fi fs.FileInfo
	err := m.in(rel, func(dir *os.Root, name string) (err error) {
		b, fi, err = ReadRegular(dir, name)
		return err
	})
	return b, regularError(err, fi, "read", rel)
}

// Open opens a regular file for reading. It returns BadRequest for a path
// that is not clean or leads out of the mount, or that names something
// other than a regular file (a FIFO planted there would otherwise block the
// open until a writer came, with the job's lock held), Internal for a
// missing file, and IO for the rest.
func (m *Mount) Open(rel string) (*os.File, error) {
	if err := CheckPath(rel); err != nil {
		return nil, err
	}
	var f *os.File
	var fi fs.FileInfo
	err := m.in(rel, func(dir *os.Root, name string) (err error) {
		f, fi, err = OpenRegular(dir, name)
		return err
	})
	return f, regularError(err, fi, "open", rel)
}

// regularError classifies an error of OpenRegular or ReadRegular on the
// mount; fi is what they found in the file's place.
func regularError(err error, fi fs.FileInfo, op, rel string) error {
	if errors.Is(err, ErrNotRegular) {
		return pipeerr.New(pipeerr.BadRequest, "%s %s: %s, not a regular file; efspipe writes only regular files on the mount", op, rel, pipeerr.FileType(fi.Mode()))
	}
	return classify(err, op, rel)
}

// ErrNotRegular is OpenRegular's and ReadRegular's error for a name that is
// not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens name, a path in dir, for reading, and only a regular
// file. The open does not block: a FIFO planted where a file of efspipe's
// goes would otherwise wait for a writer that never comes, with a job's
// lock held. For anything else it closes the file and returns what it
// found with ErrNotRegular; other errors are the open's and the stat's.
// The mount and the output folder (package publish) both read through it.
func OpenRegular(dir *os.Root, name string) (*os.File, fs.FileInfo, error) {
	// O_NONBLOCK changes nothing for a regular file.
	f, err := dir.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fi, ErrNotRegular
	}
	return f, fi, nil
}

// ReadRegular reads name, a regular file in dir, whole (errors as
// OpenRegular's, and the read's).
func ReadRegular(dir *os.Root, name string) ([]byte, fs.FileInfo, error) {
	f, fi, err := OpenRegular(dir, name)
	if err != nil {
		return nil, fi, err
	}
	defer f.Close()
	// Room for the whole file and one more read, which finds EOF (or what
	// was appended since the stat): one allocation, as os.ReadFile.
	var buf bytes.Buffer
	buf.Grow(int(fi.Size()) + bytes.MinRead)
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, fi, err
	}
	return buf.Bytes(), fi, nil
}

// Stat describes a file without following a final symlink out of the mount.
func (m *Mount) Stat(rel string) (fs.FileInfo, error) {
	if err := CheckPath(rel); err != nil {
		return nil, err
	}
	var fi fs.FileInfo
	err := m.in(rel, func(dir *os.Root, name string) (err error) {
		fi, err = dir.Lstat(name)
		return err
	})
	return fi, classify(err, "stat", rel)
}

// Exists reports whether rel exists.
func (m *Mount) Exists(rel string) bool {
	_, err := m.Stat(rel)
	return err == nil
}

// MkdirAll creates a directory and its parents.
func (m *Mount) MkdirAll(rel string) error {
	if err := CheckPath(rel); err != nil {
		return err
	}
	return classify(m.mkdirAll(rel), "mkdir", rel)
}

// RemoveAll removes rel and everything below it.
func (m *Mount) RemoveAll(rel string) error {
	if err := CheckPath(rel); err != nil {
		return err
	}
	m.forget(rel)
	return classify(m.root.RemoveAll(rel), "remove", rel)
}

// ReadDir lists a directory, sorted by name.
func (m *Mount) ReadDir(rel string) ([]fs.DirEntry, error) {
	if err := CheckPath(rel); err != nil {
		return nil, err
	}
	ents, err := fs.ReadDir(m.root.FS(), rel)
	return ents, classify(err, "list", rel)
}

// SyncDir makes the directory's entries (renames, creations) durable.
func (m *Mount) SyncDir(rel string) error {
	if err := CheckPath(rel); err != nil {
		return err
	}
	h, err := m.openDir(rel)
	if err != nil {
		return classify(err, "sync", rel)
	}
	defer m.release(h)
	return classify(h.dir.Sync(), "sync", rel)
}

// WriteFile writes data to rel atomically and durably.
func (m *Mount) WriteFile(rel string, data []byte) error {
	w, err := m.Create(rel)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return classify(err, "write", rel)
	}
	return w.Commit()
}

// ErrShort is Append's error for a log that holds fewer bytes than its
// writer appended to it: it was removed, replaced or cut by something
// else, so an offset the writer keeps into it no longer finds its record.
var ErrShort = errors.New("shorter than what was appended to it")

// Append writes data at off, the size of rel as its writer's earlier
// appends left it, creating rel (not its directory) only when off is 0,
// and makes it durable: an fsync of the file, and of its directory when
// Append created it. It is for append-only logs, and unlike WriteFile it
// is not atomic: a crash during Append can leave any prefix of data at
// the end of rel, so a log's records must end in a delimiter that tells a
// whole record from a torn one, which its reader cuts with Truncate. What
// lies past off, the torn end of an Append that failed, is cut first. A
// rel missing or shorter than off is ErrShort (kind Internal): writing
// where a removed log was, or after the end of a cut one, would leave its
// writer's offsets pointing at other records. Other errors as WriteFile's;
// BadRequest for a rel that is not a regular file.
func (m *Mount) Append(rel string, off int64, data []byte) error {
	if err := CheckPath(rel); err != nil {
		return err
	}
	var created bool
	var fi fs.FileInfo
	err := m.in(rel, func(dir *os.Root, name string) error {
		// O_RDWR and O_NONBLOCK: a FIFO planted in the log's place opens
		// at once (a write-only open would wait for a reader, or fail
		// with ENXIO, which reads as a network hiccup) and is refused.
		f, err := dir.OpenFile(name, os.O_RDWR|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
		if errors.Is(err, fs.ErrNotExist) {
			if off > 0 {
				return ErrShort
			}
			if f, err = dir.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm); err == nil {
				created = true
				if err = m.own(f); err != nil {
					f.Close()
					return err
				}
			}
		}
		if err != nil {
			return err
		}
		fi, err = syncRegular(f, func(f *os.File, fi fs.FileInfo) error {
			switch {
			case fi.Size() < off:
				return ErrShort
			case fi.Size() > off:
				if err := f.Truncate(off); err != nil {
					return err
				}
			}
			_, err := f.WriteAt(data, off)
			return err
		})
		return err
	})
	if errors.Is(err, ErrShort) {
		return &pipeerr.Error{Kind: pipeerr.Internal, Msg: fmt.Sprintf("append %s at byte %d: %v (removed, replaced or cut by something other than its writer)", rel, off, ErrShort), Err: err}
	}
	if err != nil {
		return regularError(err, fi, "append", rel)
	}
	if created {
		return m.SyncDir(path.Dir(rel))
	}
	return nil
}

// Truncate cuts rel, a regular file, to size bytes and makes that durable:
// how the reader of an Append log drops a torn last record. Errors as
// Open's.
func (m *Mount) Truncate(rel string, size int64) error {
	if err := CheckPath(rel); err != nil {
		return err
	}
	var fi fs.FileInfo
	err := m.in(rel, func(dir *os.Root, name string) error {
		f, err := dir.OpenFile(name, os.O_RDWR|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0) // as Append's
		if err != nil {
			return err
		}
		fi, err = syncRegular(f, func(f *os.File, _ fs.FileInfo) error { return f.Truncate(size) })
		return err
	})
	return regularError(err, fi, "truncate", rel)
}

// syncRegular runs change on f if it is a regular file, makes the change
// durable and closes f; fi is what f is, with ErrNotRegular for anything
// but a regular file.
func syncRegular(f *os.File, change func(*os.File, fs.FileInfo) error) (fi fs.FileInfo, err error) {
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return fi, ErrNotRegular
	}
	if err := change(f, fi); err != nil {
		return fi, err
	}
	if err := f.Sync(); err != nil {
		return fi, err
	}
	return fi, f.Close()
}

// Create starts an atomic write of rel: the data goes to a temp file in the
// same directory (a rename across mounts would fail, and /tmp is not EFS),
// and appears under rel only at Commit.
func (m *Mount) Create(rel string) (*File, error) {
	if err := CheckPath(rel); err != nil {
		return nil, err
	}
	dirRel := path.Dir(rel)
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := "." + path.Base(rel) + tempMark + hex.EncodeToString(rnd[:])
	create := func() (*dirHandle, *os.File, error) {
		h, err := m.openDir(dirRel)
		if err != nil {
			return nil, nil, err
		}
		f, err := h.root.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, filePerm)
		if err == nil {
			if err = m.own(f); err != nil {
				f.Close()
				h.root.Remove(tmp)
			}
		}
		if err != nil {
			m.release(h)
			return nil, nil, err
		}
		return h, f, nil
	}
	dir, f, err := create()
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESTALE) {
		// The directory is missing, or the handle held is of a removed one.
		m.forget(dirRel)
		if err := m.mkdirAll(dirRel); err != nil {
			return nil, classify(err, "mkdir", dirRel)
		}
		dir, f, err = create()
	}
	if err != nil {
		return nil, classify(err, "create", rel)
	}
	return &File{m: m, dir: dir, f: f, tmp: tmp, rel: rel}, nil
}

// tempMark and 12 hex digits end the name of a write in progress: the
// hidden .NAME.tmp-HEX beside NAME, renamed over it at Commit.
const tempMark = ".tmp-"

// IsTemp reports whether name (a base name) is one Create gives a write in
// progress. A writer killed before its Commit or Abort leaves it behind.
func IsTemp(name string) bool {
	i := strings.LastIndex(name, tempMark)
	if len(name) < 2 || name[0] != '.' || i < 2 || len(name)-i-len(tempMark) != 12 {
		return false
	}
	_, err := hex.DecodeString(name[i+len(tempMark):])
	return err == nil
}

// File is an atomic write in progress. It is an io.Writer; exactly one of
// Commit or Abort must be called.
type File struct {
	m    *Mount
	dir  *dirHandle // the directory of rel, which tmp is a name in
	f    *os.File
	tmp  string
	rel  string
	done bool
	// released: dir has been released (Commit or Abort, whichever
	// comes first).
	released bool
}

func (w *File) Write(p []byte) (int, error) { return w.f.Write(p) }

// ReadFrom lets io.Copy use copy_file_range/sendfile where the OS can.
func (w *File) ReadFrom(r io.Reader) (int64, error) { return w.f.ReadFrom(r) }

// Sync makes the data durable without publishing it. Commit calls it; a
// batch calls it on every file first so the fsyncs overlap.
func (w *File) Sync() error { return classify(w.f.Sync(), "sync", w.rel) }

// Commit makes the data durable and visible under the final name, then
// makes the rename durable.
func (w *File) Commit() error {
	defer w.release()
	if err := w.publish(); err != nil {
		return err
	}
	return classify(w.dir.dir.Sync(), "sync", path.Dir(w.rel))
}

// publish fsyncs, closes and renames, leaving the directory sync to the caller.
func (w *File) publish() error {
	if w.done {
		return pipeerr.New(pipeerr.Internal, "atomic write of %s committed twice", w.rel)
	}
	w.done = true
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		w.dir.root.Remove(w.tmp)
		return classify(err, "sync", w.rel)
	}
	if err := w.f.Close(); err != nil {
		w.dir.root.Remove(w.tmp)
		return classify(err, "close", w.rel)
	}
	if err := w.dir.rename(w.tmp, path.Base(w.rel)); err != nil {
		w.dir.root.Remove(w.tmp)
		return classify(err, "rename", w.rel)
	}
	return nil
}

// Abort discards the write. It is safe to call after Commit (a no-op), so
// `defer w.Abort()` is the idiom.
func (w *File) Abort() {
	defer w.release()
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	w.dir.root.Remove(w.tmp)
}

// release ends the write's use of its directory's handle, once.
func (w *File) release() {
	if !w.released {
		w.released = true
		w.m.release(w.dir)
	}
}

// WriteFiles writes several files atomically and durably, paying the
// network file system's round trips concurrently rather than one after
// another: all files are written and fsynced in parallel, renamed, and each
// directory is fsynced once. Each file is atomic on its own; the batch is not.
func (m *Mount) WriteFiles(files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for rel := range files {
		names = append(names, rel)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		dirs = map[string]bool{}
	)
	sem := make(chan struct{}, 16)
	for _, rel := range names {
		dirs[path.Dir(rel)] = true
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := func() error {
				w, err := m.Create(rel)
				if err != nil {
					return err
				}
				defer w.Abort()
				if _, err := w.Write(files[rel]); err != nil {
					return classify(err, "write", rel)
				}
				return w.publish()
			}()
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	for dir := range dirs {
		if err := m.SyncDir(dir); err != nil {
			return err
		}
	}
	return nil
}
