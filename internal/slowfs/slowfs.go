package slowfs

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Options configures a mount. Zero latencies make a plain passthrough.
type Options struct {
	ReadLatency  time.Duration // per read-class operation (EFS: ~1 ms)
	WriteLatency time.Duration // per write/metadata operation (EFS: ~2.7 ms)
	CacheTimeout time.Duration // kernel attr/entry cache; 0 means 1 s, <0 means none
	Debug        bool          // log every FUSE request
}

// Op names counted by Stats.
const (
	OpLookup   = "lookup"
	OpGetattr  = "getattr"
	OpOpen     = "open"
	OpOpendir  = "opendir" // counted, free
	OpReaddir  = "readdir"
	OpFsyncdir = "fsyncdir" // counted, free
	OpRead     = "read"
	OpReadlnk  = "readlink"
	OpCreate   = "create"
	OpMkdir    = "mkdir"
	OpMknod    = "mknod"
	OpWrite    = "write"
	OpFlush    = "flush"
	OpFsync    = "fsync"
	OpSetattr  = "setattr"
	OpRename   = "rename"
	OpUnlink   = "unlink"
	OpRmdir    = "rmdir"
	OpLink     = "link"
	OpSymlink  = "symlink"
)

// FS is a mounted slow passthrough.
type FS struct {
	Dir, Mountpoint string
	opts            Options
	server          *fuse.Server
	counts          sync.Map // op -> *atomic.Int64
	once            sync.Once
}

func (s *FS) pay(op string, d time.Duration) {
	c, ok := s.counts.Load(op)
	if !ok {
		c, _ = s.counts.LoadOrStore(op, new(atomic.Int64))
	}
	c.(*atomic.Int64).Add(1)
	if d > 0 {
		time.Sleep(d) // on this request's own goroutine: ops overlap
	}
}
func (s *FS) read(op string)  { s.pay(op, s.opts.ReadLatency) }
func (s *FS) write(op string) { s.pay(op, s.opts.WriteLatency) }

// Stats returns how many operations of each kind were served.
func (s *FS) Stats() map[string]int64 {
	m := map[string]int64{}
	s.counts.Range(func(k, v any) bool { m[k.(string)] = v.(*atomic.Int64).Load(); return true })
	return m
}

// ResetStats zeroes the counters.
func (s *FS) ResetStats() {
	s.counts.Range(func(k, _ any) bool { s.counts.Delete(k); return true })
}

// StatsString renders Stats as "op=n ..." sorted by name, plus the total
// latency they would cost if issued one after another.
func (s *FS) StatsString() string {
	m := s.Stats()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	var serial time.Duration
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%d ", k, m[k])
		switch k {
		case OpOpendir, OpFsyncdir:
		case OpLookup, OpReaddir, OpGetattr, OpOpen, OpRead, OpReadlnk:
			serial += time.Duration(m[k]) * s.opts.ReadLatency
		default:
			serial += time.Duration(m[k]) * s.opts.WriteLatency
		}
	}
	fmt.Fprintf(&b, "serial-latency=%s", serial.Round(time.Millisecond))
	return b.String()
}

// Mount mounts a slow passthrough of dir at mountpoint (both must exist).
// It needs /dev/fuse and root (DirectMount). Call Unmount when done.
func Mount(dir, mountpoint string, o Options) (*FS, error) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return nil, fmt.Errorf("slowfs: %w", err)
	}
	s := &FS{Dir: dir, Mountpoint: mountpoint, opts: o}
	rootNode, err := fs.NewLoopbackRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("slowfs: %w", err)
	}
	lroot := rootNode.(*fs.LoopbackNode).RootData
	root := &node{LoopbackNode: fs.LoopbackNode{RootData: lroot}, s: s}
	lroot.RootNode = root

	ttl := o.CacheTimeout
	if ttl == 0 {
		ttl = time.Second
	} else if ttl < 0 {
		ttl = 0
	}
	neg := time.Duration(0) // a missing name is asked again, as NFS lookups of new files are
	srv, err := fs.Mount(mountpoint, root, &fs.Options{
		EntryTimeout:    &ttl,
		AttrTimeout:     &ttl,
		NegativeTimeout: &neg,
		MountOptions: fuse.MountOptions{
			DirectMount:  true,
			FsName:       "slowfs:" + dir,
			Name:         "slowfs",
			AllowOther:   os.Geteuid() == 0,
			MaxWrite:     1 << 20,
			MaxReadAhead: 1 << 20,
			Debug:        o.Debug,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("slowfs: mount %s: %w", mountpoint, err)
	}
	s.server = srv
	return s, nil
}

// Unmount unmounts (retrying briefly while the mount is busy) and waits for
// the server to exit.
func (s *FS) Unmount() error {
	var err error
	s.once.Do(func() {
		for i := 0; i < 50; i++ {
			if err = s.server.Unmount(); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err == nil {
			s.server.Wait()
		}
	})
	return err
}

// Wait blocks until the file system is unmounted.
func (s *FS) Wait() { s.server.Wait() }

// node is a LoopbackNode that pays latency before each operation.
type node struct {
	fs.LoopbackNode
	s *FS
}

func unwrap(f fs.FileHandle) fs.FileHandle {
	if w, ok := f.(*file); ok {
		return w.FileHandle
	}
	return f
}

func (n *node) wrap(f fs.FileHandle) fs.FileHandle {
	if f == nil {
		return nil
	}
	return &file{FileHandle: f, s: n.s}
}

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	n.s.read(OpLookup)
	return n.LoopbackNode.Lookup(ctx, name, out)
}

func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.s.read(OpGetattr)
	return n.LoopbackNode.Getattr(ctx, unwrap(f), out)
}

func (n *node) Statx(ctx context.Context, f fs.FileHandle, flags, mask uint32, out *fuse.StatxOut) syscall.Errno {
	n.s.read(OpGetattr)
	return n.LoopbackNode.Statx(ctx, unwrap(f), flags, mask, out)
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	n.s.read(OpOpen)
	f, fl, errno := n.LoopbackNode.Open(ctx, flags)
	return n.wrap(f), fl, errno
}

// OpendirHandle is free: opening a directory (os.Root and openat walks do it
// for every path component) is served from the NFS client's caches; listing
// it is not (see dir.Readdirent).
func (n *node) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	n.s.pay(OpOpendir, 0)
	ds, fl, errno := n.LoopbackNode.OpendirHandle(ctx, flags)
	if ds == nil {
		return nil, fl, errno
	}
	return &dir{inner: ds.(dirStream), s: n.s}, fl, errno
}

func (n *node) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	n.s.read(OpReaddir)
	return n.LoopbackNode.Readdir(ctx)
}

type dirStream interface {
	fs.FileReaddirenter
	fs.FileSeekdirer
	fs.FileReleasedirer
	fs.FileFsyncdirer
}

// dir pays one read latency per listing (the first entry after open or
// rewind). Fsyncdir is free: NFS directory operations are already
// synchronous on the server, and the client's fsync of a directory does no
// round trip.
type dir struct {
	inner dirStream
	s     *FS
	paid  atomic.Bool
}

func (d *dir) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if !d.paid.Swap(true) {
		d.s.read(OpReaddir)
	}
	return d.inner.Readdirent(ctx)
}
func (d *dir) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if off == 0 {
		d.paid.Store(false)
	}
	return d.inner.Seekdir(ctx, off)
}
func (d *dir) Releasedir(ctx context.Context, flags uint32) { d.inner.Releasedir(ctx, flags) }
func (d *dir) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno {
	d.s.pay(OpFsyncdir, 0)
	return d.inner.Fsyncdir(ctx, flags)
}

func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	n.s.read(OpReadlnk)
	return n.LoopbackNode.Readlink(ctx)
}

func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	n.s.write(OpCreate)
	ch, f, fl, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	return ch, n.wrap(f), fl, errno
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	n.s.write(OpMkdir)
	return n.LoopbackNode.Mkdir(ctx, name, mode, out)
}

func (n *node) Mknod(ctx context.Context, name string, mode, rdev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	n.s.write(OpMknod)
	return n.LoopbackNode.Mknod(ctx, name, mode, rdev, out)
}

func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	n.s.write(OpSetattr)
	return n.LoopbackNode.Setattr(ctx, unwrap(f), in, out)
}

func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	n.s.write(OpRename)
	return n.LoopbackNode.Rename(ctx, name, newParent, newName, flags)
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	n.s.write(OpUnlink)
	return n.LoopbackNode.Unlink(ctx, name)
}

func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	n.s.write(OpRmdir)
	return n.LoopbackNode.Rmdir(ctx, name)
}

func (n *node) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	n.s.write(OpLink)
	return n.LoopbackNode.Link(ctx, target, name, out)
}

func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	n.s.write(OpSymlink)
	return n.LoopbackNode.Symlink(ctx, target, name, out)
}

// Tmpfile (O_TMPFILE) is not offered: the kernel falls back or fails as on NFS.
func (n *node) Tmpfile(ctx context.Context, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EOPNOTSUPP
}

// file wraps a loopback file handle. It deliberately does not implement
// FilePassthroughFder (the kernel would bypass the latency) nor Writev.
type file struct {
	fs.FileHandle
	s     *FS
	dirty atomic.Bool
}

func (f *file) inner() *fs.LoopbackFile { return f.FileHandle.(*fs.LoopbackFile) }

func (f *file) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	f.s.read(OpRead)
	return f.inner().Read(ctx, dest, off)
}

func (f *file) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	f.s.write(OpWrite)
	f.dirty.Store(true)
	return f.inner().Write(ctx, data, off)
}

// Flush runs on every close(2); only a handle with unsynced writes pays
// (NFS close-to-open: close commits dirty data, a read-only close is local).
func (f *file) Flush(ctx context.Context) syscall.Errno {
	if f.dirty.Swap(false) {
		f.s.write(OpFlush)
	}
	return f.inner().Flush(ctx)
}

func (f *file) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	f.s.write(OpFsync)
	f.dirty.Store(false)
	return f.inner().Fsync(ctx, flags)
}

func (f *file) Release(ctx context.Context) syscall.Errno { return f.inner().Release(ctx) }
func (f *file) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	return f.inner().Getattr(ctx, out)
}
func (f *file) Statx(ctx context.Context, flags, mask uint32, out *fuse.StatxOut) syscall.Errno {
	return f.inner().Statx(ctx, flags, mask, out)
}
func (f *file) Setattr(ctx context.Context, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return f.inner().Setattr(ctx, in, out)
}
func (f *file) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	return f.inner().Lseek(ctx, off, whence)
}
func (f *file) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	f.s.write(OpSetattr)
	return f.inner().Allocate(ctx, off, size, mode)
}
func (f *file) Getlk(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32, out *fuse.FileLock) syscall.Errno {
	return f.inner().Getlk(ctx, owner, lk, flags, out)
}
func (f *file) Setlk(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return f.inner().Setlk(ctx, owner, lk, flags)
}
func (f *file) Setlkw(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return f.inner().Setlkw(ctx, owner, lk, flags)
}

// WrapChild makes every node the loopback creates a slow one.
func (n *node) WrapChild(ctx context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	if lb, ok := ops.(*fs.LoopbackNode); ok {
		return &node{LoopbackNode: fs.LoopbackNode{RootData: lb.RootData}, s: n.s}
	}
	return ops
}
