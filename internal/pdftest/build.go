package pdftest

import (
	"bytes"
	"fmt"
	"sort"
)

// builder assembles a PDF body from numbered objects and writes an exact
// classic xref table for them.
type builder struct {
	version string
	objs    map[int][]byte // object number → serialized "N 0 obj ... endobj\n"
	next    int
}

func newBuilder(version string) *builder {
	return &builder{version: version, objs: map[int][]byte{}, next: 1}
}

// alloc reserves the next object number.
func (b *builder) alloc() int {
	n := b.next
	b.next++
	return n
}

// obj sets object n to the PDF syntax body.
func (b *builder) obj(n int, body string) {
	b.objs[n] = fmt.Appendf(nil, "%d 0 obj\n%s\nendobj\n", n, body)
}

// stream sets object n to a stream with the given dictionary entries (without
// /Length, which is computed) and raw (already encoded) data.
func (b *builder) stream(n int, dictEntries string, data []byte) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%d 0 obj\n<<%s /Length %d>>\nstream\n", n, dictEntries, len(data))
	buf.Write(data)
	buf.WriteString("\nendstream\nendobj\n")
	b.objs[n] = buf.Bytes()
}

// layout writes the header and all objects in number order and returns the
// bytes and each object's offset.
func (b *builder) layout() ([]byte, map[int]int) {
	var buf bytes.Buffer
	buf.WriteString("%PDF-" + b.version + "\n%\xe2\xe3\xcf\xd3\n")
	nums := make([]int, 0, len(b.objs))
	for n := range b.objs {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	offs := make(map[int]int, len(nums))
	for _, n := range nums {
		offs[n] = buf.Len()
		buf.Write(b.objs[n])
	}
	return buf.Bytes(), offs
}

// xref returns a classic xref section covering 0..size-1; numbers without an
// object are written as free entries.
func xref(offs map[int]int, size int) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "xref\n0 %d\n", size)
	buf.WriteString("0000000000 65535 f \n")
	for n := 1; n < size; n++ {
		if off, ok := offs[n]; ok {
			fmt.Fprintf(&buf, "%010d 00000 n \n", off)
		} else {
			buf.WriteString("0000000000 00000 f \n")
		}
	}
	return buf.Bytes()
}

// finish writes the file with root as /Root; extra is appended to the trailer
// dictionary.
func (b *builder) finish(root int, extra string) []byte {
	body, offs := b.layout()
	size := b.next
	start := len(body)
	out := append(body, xref(offs, size)...)
	out = fmt.Appendf(out, "trailer\n<</Size %d /Root %d 0 R%s>>\nstartxref\n%d\n%%%%EOF\n", size, root, extra, start)
	return out
}

// rng is splitmix64: a fixed algorithm, so the bytes never depend on the Go
// version's math/rand.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// randomBytes returns n deterministic incompressible bytes for seed.
func randomBytes(seed uint64, n int) []byte {
	r := rng(seed)
	out := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		v := r.next()
		for j := range 8 {
			out[i+j] = byte(v >> (8 * j))
		}
	}
	return out[:n]
}

// pdfString escapes s as a PDF literal string.
func pdfString(s string) string {
	var buf bytes.Buffer
	buf.WriteByte('(')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '(', ')', '\\':
			buf.WriteByte('\\')
			buf.WriteByte(c)
		default:
			buf.WriteByte(c)
		}
	}
	buf.WriteByte(')')
	return buf.String()
}
