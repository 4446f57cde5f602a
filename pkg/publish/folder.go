package publish

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Modes of what is published in a local folder, whatever the process's
// umask: pages and manifests are for readers other than the writer (a web
// server, another user's job), so they are readable by all and writable by
// the owner only.
const (
	FileMode fs.FileMode = 0o644
	DirMode  fs.FileMode = 0o755
)

// folder is a local output folder opened as an os.Root: no name under it
// (out/<job>, out/<job>/pages, a page) resolves outside it, whatever
// symlinks someone planted there, as the mount is confined by jobfs.
type folder struct {
	root *os.Root
	// synced, when set, is told each directory commit has synced, in
	// order: the tests' view of an fsync.
	synced func(dir string)
}

// local checks that rel is a slash-separated path below the folder.
func local(rel string) error {
	if rel == "" || path.IsAbs(rel) || !fs.ValidPath(rel) || rel == "." {
		return pipeerr.New(pipeerr.BadRequest, "output path %q is not below the output folder", rel)
	}
	return nil
}

// confined classifies an error of the os.Root: a name that resolves
// outside the folder is refused, never retried.
func confined(err error, op, rel string) error {
	if err == nil {
		return nil
	}
	if e := (*pipeerr.Error)(nil); errors.As(err, &e) {
		return err // already has its kind (a symlinked directory: BadRequest)
	}
	if strings.Contains(err.Error(), "path escapes from parent") {
		return pipeerr.Wrap(pipeerr.BadRequest, err, "%s %s: path escapes the output folder (a symlink out of it?)", op, rel)
	}
	return pipeerr.Wrap(pipeerr.IO, err, "%s %s", op, rel)
}

// mkdirAll creates dir and its missing parents with DirMode, one
// component at a time so that exactly the directories it creates get
// their mode set (a umask would otherwise narrow or widen it). A component
// that is a symlink is refused, even one pointing inside the folder:
// os.Root keeps writes inside the folder, and this keeps one job's
// publication from writing into another's (out/B/pages -> ../A/pages).
func (f *folder) mkdirAll(dir string) error {
	if dir == "." {
		return nil
	}
	if err := f.ownDirs("publish", dir); err != nil {
		return err
	}
	parts := strings.Split(dir, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		err := f.root.Mkdir(p, DirMode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := f.root.Chmod(p, DirMode); err != nil {
			return err
		}
	}
	return nil
}

// ownDirs refuses dir when a directory on its path is a symlink: os.Root
// keeps every operation inside the folder, and this keeps one job's
// publication from writing into, deleting from or being checked against
// another's (out/B/pages -> ../A/pages). A missing directory is fine.
func (f *folder) ownDirs(op, dir string) error {
	if dir == "." {
		return nil
	}
	parts := strings.Split(dir, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		fi, err := f.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil:
			return confined(err, op, p)
		case fi.Mode()&fs.ModeSymlink != 0:
			return pipeerr.New(pipeerr.BadRequest, "%s: %s in the output folder is a symlink; efspipe writes only into directories of its own", op, p)
		case !fi.IsDir():
			// Not a condition a retry mends: without this, ENOTDIR was
			// an I/O error finalize retried for minutes.
			return pipeerr.New(pipeerr.BadRequest, "%s: %s in the output folder is %s, not a directory; efspipe writes only into directories of its own", op, p, pipeerr.FileType(fi.Mode()))
		}
	}
	return nil
}

// put writes rel whole or not at all: a temp file in its directory
// (NAME.<hex>.tmp, what Sweep removes if the writer is killed), synced,
// given FileMode and renamed over rel. The directory is not synced here:
// commit syncs a job's directories once, before its manifest, where one
// fsync per page cost a journal commit each (1,158 on the Octave manual).
func (f *folder) put(rel string, data []byte) (err error) {
	if err := local(rel); err != nil {
		return err
	}
	dir := path.Dir(rel)
	if err := f.mkdirAll(dir); err != nil {
		return confined(err, "publish", rel)
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := rel + "." + hex.EncodeToString(rnd[:]) + ".tmp"
	w, err := f.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, FileMode)
	if err != nil {
		return confined(err, "publish", rel)
	}
	defer func() {
		if err != nil {
			w.Close()
			f.root.Remove(tmp)
		}
	}()
	if err := w.Chmod(FileMode); err != nil {
		return confined(err, "publish", rel)
	}
	if _, err := w.Write(data); err != nil {
		return confined(err, "publish", rel)
	}
	if err := w.Sync(); err != nil {
		return confined(err, "publish", rel)
	}
	if err := w.Close(); err != nil {
		return confined(err, "publish", rel)
	}
	if err := f.root.Rename(tmp, rel); err != nil {
		// A rename replaces a file, a symlink or a FIFO, never a
		// directory: that is refused at once, not an I/O error retried
		// for minutes. Looked at only when the rename fails, so a page
		// costs no extra lookup.
		if fi, lerr := f.root.Lstat(rel); lerr == nil && fi.IsDir() {
			return pipeerr.New(pipeerr.BadRequest, "publish %s: a directory in the output folder is where this file goes; efspipe replaces only files of its own", rel)
		}
		return confined(err, "publish", rel)
	}
	return nil
}

// commit puts rel, the file that vouches for the others under its
// directory (a job's manifest), so that it survives a power loss only
// with them. Every directory below rel's is synced first, then rel's own
// and each of its parents up to the folder (the entries of directories
// put created), then rel is put and its directory synced again. The
// directories are synced whether or not this process wrote into them: a
// replay may find pages an earlier, killed process renamed into place.
func (f *folder) commit(rel string, data []byte) error {
	if err := local(rel); err != nil {
		return err
	}
	dir := path.Dir(rel)
	if err := f.ownDirs("publish", dir); err != nil {
		return err
	}
	var dirs []string
	err := fs.WalkDir(f.root.FS(), dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return fs.SkipAll // nothing put yet: put creates it
		}
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil {
		return confined(err, "publish", rel)
	}
	for p := path.Dir(dir); p != "."; p = path.Dir(p) {
		dirs = append(dirs, p)
	}
	dirs = append(dirs, ".")
	for _, d := range dirs {
		if err := f.syncDir(d); err != nil {
			return confined(err, "publish", rel)
		}
	}
	if err := f.put(rel, data); err != nil {
		return err
	}
	return confined(f.syncDir(dir), "publish", rel)
}

// syncDir fsyncs a directory, making the entries renamed or created in it
// durable (fsync(2): "an explicit fsync() on a file descriptor for the
// directory is also needed").
func (f *folder) syncDir(dir string) error {
	d, err := f.root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return err
	}
	if f.synced != nil {
		f.synced(dir)
	}
	return nil
}

// writable creates and removes a temp file at the top of the folder.
func (f *folder) writable() error {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := ".efspipe-check." + hex.EncodeToString(rnd[:]) + ".tmp"
	w, err := f.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, FileMode)
	if err != nil {
		return err
	}
	return errors.Join(w.Close(), f.root.Remove(tmp))
}

func (f *folder) get(rel string) ([]byte, bool, error) {
	if err := local(rel); err != nil {
		return nil, false, err
	}
	if err := f.ownDirs("read", path.Dir(rel)); err != nil {
		return nil, false, err
	}
	// Without blocking: a FIFO planted where the manifest goes would wait
	// for a writer that never comes.
	b, fi, err := jobfs.ReadRegular(f.root, rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	case errors.Is(err, jobfs.ErrNotRegular):
		return nil, false, pipeerr.New(pipeerr.BadRequest, "read %s: %s in the output folder, not a file efspipe wrote", rel, pipeerr.FileType(fi.Mode()))
	case err != nil:
		return nil, false, confined(err, "read", rel)
	}
	return b, true, nil
}

func (f *folder) size(rel string) (int64, bool, error) {
	if err := local(rel); err != nil {
		return 0, false, err
	}
	if err := f.ownDirs("stat", path.Dir(rel)); err != nil {
		return 0, false, err
	}
	fi, err := f.root.Stat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, confined(err, "stat", rel)
	}
	if !fi.Mode().IsRegular() {
		return 0, false, pipeerr.New(pipeerr.BadRequest, "stat %s: not a regular file", rel)
	}
	return fi.Size(), true, nil
}

func (f *folder) delete(rel string) error {
	if err := local(rel); err != nil {
		return err
	}
	if err := f.ownDirs("delete", path.Dir(rel)); err != nil {
		return err
	}
	err := f.root.Remove(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return confined(err, "delete", rel)
}

// sweep removes the temp files a killed writer left under rel.
func (f *folder) sweep(rel string) error {
	if err := local(rel); err != nil {
		return err
	}
	err := fs.WalkDir(f.root.FS(), rel, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !d.IsDir() && tempName.MatchString(d.Name()) {
			return f.root.Remove(p)
		}
		return nil
	})
	return confined(err, "sweep", rel)
}
