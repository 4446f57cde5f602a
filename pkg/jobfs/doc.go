// Package jobfs is the job directory on the shared mount.
//
// Invariant: every path is relative to the mount root and is opened through
// an os.Root, so no path from a state input, an event or a symlink planted on
// the mount can reach outside it; and a file becomes visible under its final
// name only when complete and durable (temp file in the same directory,
// fsync, rename, fsync of the directory). The one exception is an
// append-only log (Append): its records end in a delimiter, and its reader
// cuts a record a crash left torn at its end (Truncate).
package jobfs
