// Command gen writes a synthetic PDF for the benchmarks: gen -pages N OUT.
package main

import (
	"flag"
	"log"
	"os"

	"github.com/efspipe/efspipe/internal/pdftest"
)

func main() {
	pages := flag.Int("pages", 10000, "page count")
	font := flag.Int("font", 64<<10, "shared font program bytes")
	flag.Parse()
	if flag.NArg() != 1 {
		log.Fatal("usage: gen [-pages N] [-font BYTES] OUT.pdf")
	}
	if err := os.WriteFile(flag.Arg(0), pdftest.Doc(*pages, pdftest.DocOptions{FontBytes: *font}), 0o644); err != nil {
		log.Fatal(err)
	}
}
