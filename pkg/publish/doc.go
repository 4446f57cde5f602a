// Package publish writes a job's output to a folder or a bucket.
//
// Invariant: a job's manifest is written (Commit) only after every file it
// names is in place and durable, so a reader of <out>/<job>/ that finds a
// manifest, after a crash or a power loss too, finds all its pages; and a
// local folder is opened as an os.Root, so nothing is read or written
// outside it whatever symlinks it holds, with FileMode and DirMode
// whatever the umask.
package publish
