// Package slowfs is an EFS-like test mount: a FUSE passthrough ("loopback")
// of a local directory that adds a fixed latency to every file-system
// operation, so the pipeline can be measured against network-file-system
// round trips without AWS.
//
// Invariant: every operation that reaches the file system pays exactly one
// latency on its own request goroutine before it is forwarded to the backing
// directory, and never holds a lock while sleeping; so N concurrent
// operations overlap (they take about one latency, as N in-flight network
// round trips would) while N operations issued one after another take N
// latencies. Read-class operations (Lookup, Getattr, Statx, Open, the first
// Readdir of a listing, Read, Readlink) pay Options.ReadLatency; write-class
// and metadata-changing operations (Create, Mknod, Mkdir, Write, Fsync of a
// file, Setattr, Rename, Unlink, Rmdir, Link, Symlink, and Flush of a handle
// that has written since its last Flush/Fsync) pay Options.WriteLatency.
// Opendir and Fsyncdir are counted but free, as on the Linux NFS client,
// which sends no request for either (fs/nfs/dir.c: nfs_opendir only sets up
// a readdir context; nfs_fsync_dir returns 0 because "all directory
// operations under NFS are synchronous"). Release, Releasedir, Statfs, Lseek
// and locks are free. Contents and names are passed through
// unchanged: what is written through the mount is byte-for-byte what lands
// in the backing directory.
//
// Overlap has one limit the mount does not add but inherits from the kernel,
// exactly as an NFS client does: create, mkdir, rename and unlink hold the
// parent directory's lock, so such operations in one directory run one at a
// time however many goroutines issue them; only operations in different
// directories, or on open files (write, fsync, read), overlap.
//
// Kernel caching is kept modest (attribute and entry timeouts of
// Options.CacheTimeout, 1 s by default, like NFS close-to-open), so repeated
// lookups within a second are free but a fresh walk of a tree pays per entry.
// The page cache is left on (as the NFS client does), so re-reading a file
// just written may be served locally; data reads and writes go in chunks of
// up to 1 MiB, like the NFS rsize/wsize EFS recommends.
package slowfs
