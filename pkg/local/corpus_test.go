package local_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/secret"
)

// Every broken and hostile document goes through the whole state machine
// and ends in a verified success or its expected error kind: nothing
// published for a failure, the source kept, no panic (a recovered panic
// would surface as Internal).
func TestHostileCorpus(t *testing.T) {
	counts := map[string]int{}
	for _, c := range pdftest.Corpus() {
		t.Run(c.Name, func(t *testing.T) {
			pdftest.SkipLargeIfShort(t, c)
			e := newEnv(t, local.Config{})
			largest := 0
			res, err := e.p.Run(t.Context(), local.Input{Source: writePDF(t, c.Data)}, func(ev asl.Event) {
				b, _ := json.Marshal(ev)
				largest = max(largest, len(b))
			})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			// Paths and counters only: the state is a few hundred bytes
			// whatever the page count (many-tiny-pages has 5,000 pages).
			if largest > 8<<10 {
				t.Errorf("an event of %d bytes", largest)
			}
			if res.Pages >= 1000 {
				t.Logf("%d pages: largest history event %d bytes", res.Pages, largest)
			}
			if c.Want == "" {
				counts["ok"]++
				if res.Status != jobspec.Succeeded {
					t.Fatalf("want success, got %s: %s", res.Error, res.Cause)
				}
				pipetest.Verify(t, e.out, res.Job, false)
				return
			}
			counts[string(c.Want)]++
			if res.Status != jobspec.Failed || res.Error != string(c.Want) {
				t.Fatalf("got %s %s (%s), want %s", res.Status, res.Error, res.Cause, c.Want)
			}
			if strings.Contains(res.Cause, "\n") {
				t.Errorf("cause is not one line: %q", res.Cause)
			}
			if ents, _ := os.ReadDir(e.out); len(ents) != 0 {
				t.Fatal("a failed job published something")
			}
			if jobs, _ := e.mount.ReadDir("jobs"); len(jobs) == 1 {
				job, _ := jobfs.NewJob(jobs[0].Name())
				if !e.mount.Exists(job.Source()) {
					t.Error("the source is gone after the failure")
				}
			}
		})
	}
	t.Logf("corpus outcomes: %v", counts)
}

// A user-password PDF is refused without the password and processed with
// it, the execution input naming the variable that holds it.
func TestEncryptedWithPassword(t *testing.T) {
	for _, c := range pdftest.Corpus() {
		if c.Want != "InvalidInput.Encrypted" {
			continue
		}
		env := map[string]string{"PDF_PASSWORD": pdftest.UserPassword}
		e := newEnv(t, local.Config{Secrets: &secret.Resolver{Getenv: func(k string) string { return env[k] }}})
		src := writePDF(t, c.Data)
		res, err := e.p.Run(t.Context(), local.Input{Source: src, Ref: secret.Ref{Env: "PDF_PASSWORD"}}, nil)
		if err != nil || res.Status != jobspec.Succeeded {
			t.Fatalf("%s with the password: %+v %v", c.Name, res, err)
		}
		pipetest.Verify(t, e.out, res.Job, true)
		return
	}
	t.Fatal("no encrypted case in the corpus")
}
