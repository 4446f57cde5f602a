package zpage

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/efspipe/efspipe/pkg/zlevel"
)

// A lone caller reuses one zstd encoder and decoder however many pages it
// compresses (klauspost's own queue handed out one per core in turn), and
// concurrent callers get one each, never more than one per core, and the
// same bytes a lone caller gets.
func TestPoolKeepsOneCoderPerCaller(t *testing.T) {
	dict := bytes.Repeat([]byte("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\n"), 200)
	pages := make([][]byte, 16)
	for i := range pages {
		pages[i] = []byte(fmt.Sprintf("%%PDF-1.7\n%d 0 obj %s endobj\n%s", i, dict[:1000+i*37], bytes.Repeat([]byte{byte(i)}, 5000)))
	}
	enc, err := NewEncoder(dict, zlevel.Default)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := NewDecoder(dict, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()

	want := make([][]byte, len(pages))
	for i, p := range pages {
		if want[i], err = enc.Encode(nil, p); err != nil {
			t.Fatal(err)
		}
		if got, err := dec.Decode(want[i]); err != nil || !bytes.Equal(got, p) {
			t.Fatalf("page %d does not restore: %v", i, err)
		}
	}
	if n, m := len(enc.encs.all), len(dec.decs.all); n != 1 || m != 1 {
		t.Fatalf("a lone caller built %d encoders and %d decoders, want 1 and 1", n, m)
	}

	const callers = 4
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			<-start
			for i, p := range pages {
				frame, err := enc.Encode(nil, p)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(frame, want[i]) {
					errs <- fmt.Errorf("page %d: concurrent frame differs from the lone caller's", i)
					return
				}
				if got, err := dec.Decode(frame); err != nil || !bytes.Equal(got, p) {
					errs <- fmt.Errorf("page %d does not restore concurrently: %v", i, err)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, max := len(enc.encs.all), min(callers, runtime.GOMAXPROCS(0)); n < 1 || n > max {
		t.Errorf("%d callers on %d cores built %d encoders, want 1 to %d", callers, runtime.GOMAXPROCS(0), n, max)
	}
}
