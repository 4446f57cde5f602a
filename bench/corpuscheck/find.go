package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// candidate is one file found; skip says why it is not run ("" when it is).
type candidate struct {
	path string
	size int64
	skip string
}

// Why a found file is not run.
const (
	skipLFS = "Git LFS pointer"
)

func skipTooLarge(max int64) string { return fmt.Sprintf("over %d MiB", max>>20) }

// lfsPrefix starts every Git LFS pointer file: a repository cloned
// without LFS holds these in place of the PDFs.
var lfsPrefix = []byte("version https://git-lfs")

// find lists every regular file named *.pdf (any case) under roots, each
// once, sorted by path; a root may also be a file. Symbolic links to files
// are followed, to directories not (no cycles). Files over maxBytes and
// Git LFS pointers are listed with the reason they are skipped.
func find(roots []string, maxBytes int64) ([]candidate, error) {
	seen := map[string]bool{}
	var out []candidate
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path == root {
					return err
				}
				// An unreadable subfolder is reported, not fatal.
				fmt.Fprintf(os.Stderr, "corpuscheck: skipping %s: %v\n", path, err)
				return nil
			}
			if d.IsDir() || !strings.EqualFold(filepath.Ext(path), ".pdf") {
				return nil
			}
			info, err := os.Stat(path) // follows a link to a file
			if err != nil || !info.Mode().IsRegular() {
				return nil
			}
			path = filepath.Clean(path)
			if seen[path] {
				return nil
			}
			seen[path] = true
			c := candidate{path: path, size: info.Size()}
			switch lfs, err := isLFSPointer(path); {
			case err != nil:
				c.skip = "unreadable: " + err.Error()
			case lfs:
				c.skip = skipLFS
			case c.size > maxBytes:
				c.skip = skipTooLarge(maxBytes)
			}
			out = append(out, c)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b candidate) int { return strings.Compare(a.path, b.path) })
	return out, nil
}

func isLFSPointer(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, len(lfsPrefix))
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return false, err
	}
	return bytes.Equal(head[:n], lfsPrefix), nil
}
