package jobfs_test

import (
	"fmt"
	"testing"

	"github.com/efspipe/efspipe/pkg/jobfs"
)

const benchFiles = 64

func benchMount(b *testing.B) *jobfs.Mount {
	b.Helper()
	m, err := jobfs.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

// BenchmarkWriteFile writes 64 files one durable write after another (fsync
// file, rename, fsync dir each); one op is the 64 files.
func BenchmarkWriteFile(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			m := benchMount(b)
			data := make([]byte, size)
			b.SetBytes(int64(size * benchFiles))
			b.ReportAllocs()
			for b.Loop() {
				for i := range benchFiles {
					if err := m.WriteFile(fmt.Sprintf("d/f%03d", i), data); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*benchFiles), "µs/file")
		})
	}
}

// BenchmarkWriteFiles writes the same 64 files as one batch.
func BenchmarkWriteFiles(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			m := benchMount(b)
			data := make([]byte, size)
			files := make(map[string][]byte, benchFiles)
			for i := range benchFiles {
				files[fmt.Sprintf("d/f%03d", i)] = data
			}
			b.SetBytes(int64(size * benchFiles))
			b.ReportAllocs()
			for b.Loop() {
				if err := m.WriteFiles(files); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*benchFiles), "µs/file")
		})
	}
}
