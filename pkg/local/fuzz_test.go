package local_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/efspipe/efspipe/internal/pdftest"
	"github.com/efspipe/efspipe/internal/pipetest"
	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/pkg/jobspec"
	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/publish"
	"github.com/efspipe/efspipe/statemachine"
)

// FuzzStateInput sends arbitrary state inputs to every stage through the
// Lambda JSON path, on a mount holding one real job: whatever arrives, a
// stage answers with an output or a named error, never a panic and never a
// file outside its job.
func FuzzStateInput(f *testing.F) {
	m := pipetest.Mount(f)
	s := pipetest.Run(f, m, pdftest.Doc(3, pdftest.DocOptions{}), jobspec.Settings{ShardPages: 2}, "checkpoint")
	out, err := publish.Open(f.Context(), f.TempDir(), nil)
	if err != nil {
		f.Fatal(err)
	}
	fns := local.NewFunctions(local.Handlers(local.Config{Mount: m, Out: out}), nil)
	job, _ := json.Marshal(s.Job.ID)
	for _, seed := range []string{
		`{"job":` + string(job) + `,"source":"` + s.Job.Source() + `"}`,
		`{"job":` + string(job) + `,"manifest":"` + s.Job.SplitManifest() + `","shard":1}`,
		`{"job":` + string(job) + `,"sealed":"` + s.Job.Sealed() + `"}`,
		`{"job":"../x","source":"/etc/passwd"}`,
		`{"job":` + string(job) + `,"manifest":"` + s.Job.SplitManifest() + `","shard":-7}`,
		`{"source":"/dev/zero"}`, `[]`, `null`, `{"job":{"id":1}}`,
	} {
		for i := range statemachine.Functions {
			f.Add(uint8(i), seed)
		}
	}
	f.Fuzz(func(t *testing.T, fn uint8, input string) {
		name := statemachine.Functions[int(fn)%len(statemachine.Functions)]
		if name == "ingest" && strings.Contains(input, "/dev/") {
			return // reading device files is the CLI user's own business
		}
		_, err := fns.Invoke(t.Context(), statemachine.LocalARN(name), json.RawMessage(input))
		var te *asl.TaskError
		if err != nil && (!errors.As(err, &te) || strings.Contains(te.Cause, "recovered panic")) {
			t.Fatalf("%s(%s): %v", name, input, err)
		}
	})
}
