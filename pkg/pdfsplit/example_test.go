package pdfsplit_test

import (
	"bytes"
	"fmt"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/pkg/pdfsplit"
)

func Example() {
	src := pdftest.Doc(3, pdftest.DocOptions{})
	doc, err := pdfsplit.Open(bytes.NewReader(src), int64(len(src)), pdfsplit.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for n := 1; n <= doc.Pages(); n++ {
		page, err := doc.Page(n)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("page %d: %s\n", n, bytes.SplitN(page, []byte("\n"), 2)[0])
	}
	// Output:
	// page 1: %PDF-1.7
	// page 2: %PDF-1.7
	// page 3: %PDF-1.7
}

func ExampleOpen_notPDF() {
	zip := []byte("PK\x03\x04 not a pdf")
	_, err := pdfsplit.Open(bytes.NewReader(zip), int64(len(zip)), pdfsplit.Options{})
	fmt.Println(err)
	// Output: not a PDF: no %PDF- header, the content looks like application/zip
}

// A file whose cross-reference table is garbled opens through the repair
// layer, which says what it did.
func ExampleDocument_Repairs() {
	src := bytes.Clone(pdftest.Doc(2, pdftest.DocOptions{}))
	x := bytes.LastIndex(src, []byte("\nxref\n")) + len("\nxref\n")
	x += bytes.IndexByte(src[x:], '\n') + 1 + 20 // object 1's entry
	copy(src[x:], "zz9zz9zz9z")
	doc, err := pdfsplit.Open(bytes.NewReader(src), int64(len(src)), pdfsplit.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(doc.Pages(), doc.Encrypted(), doc.Repairs())
	// Output: 2 false [rebuilt the cross-reference table from the objects in the file]
}
