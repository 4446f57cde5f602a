package asl

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// pipelineDef loads the project's definition with its ${...} placeholders
// substituted as the deployment does.
func pipelineDef(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../../statemachine/pipeline.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer(
		"${IngestFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:ingest",
		"${SplitFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:split",
		"${CompressFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:compress",
		"${CheckpointFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:checkpoint",
		"${FinalizeFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:finalize")
	return r.Replace(string(b))
}

// stages fakes the five Lambdas; fail maps a stage to the error it returns
// on its first call (for compress: on the call for shard 2).
func stages(t *testing.T, shards int, fail map[string]error, got map[string][]string) TaskFunc {
	failed := map[string]bool{}
	return func(_ context.Context, res string, in json.RawMessage) (json.RawMessage, error) {
		stage := res[strings.LastIndex(res, ":")+1:]
		got[stage] = append(got[stage], string(in)) // guarded: compress runs concurrently
		if err := fail[stage]; err != nil && !failed[stage] && (stage != "compress" || strings.Contains(string(in), `"shard":2`)) {
			failed[stage] = true
			return nil, err
		}
		switch stage {
		case "ingest":
			return json.RawMessage(`{"id":"job1","source":"jobs/job1/source.pdf","passwordRef":{}}`), nil
		case "split":
			return json.RawMessage(`{"job":"job1","manifest":"jobs/job1/pages.json","shards":` + itoa(shards) + `,"lastShard":` + itoa(shards-1) + `}`), nil
		case "compress":
			return json.RawMessage(`{"ok":true}`), nil
		case "checkpoint":
			return json.RawMessage(`{"manifest":"jobs/job1/sealed.json"}`), nil
		}
		return json.RawMessage(`{"published":"out/job1/manifest.json"}`), nil
	}
}

func itoa(n int) string { return string(marshal(intNumber(int64(n)))) }

func TestPipeline(t *testing.T) {
	m := mustParse(t, pipelineDef(t))
	damaged := &TaskError{Name: "InvalidInput.Damaged", Cause: "xref table is broken"}
	tests := []struct {
		name      string
		fail      map[string]error
		wantErr   string
		wantCalls map[string]int
		wantSleep []time.Duration
	}{
		{"success", nil, "", map[string]int{"ingest": 1, "split": 1, "compress": 7, "checkpoint": 1, "finalize": 1}, nil},
		{"transient retried", map[string]error{"compress": &TaskError{Name: "Transient.IO", Cause: "EIO"}}, "", map[string]int{"compress": 8, "finalize": 1}, []time.Duration{2 * time.Second}},
		{"ingest refuses", map[string]error{"ingest": &TaskError{Name: "InvalidInput.NotPDF", Cause: "not a PDF"}}, "InvalidInput.NotPDF", map[string]int{"ingest": 1, "split": 0, "finalize": 0}, nil},
		{"split refuses", map[string]error{"split": damaged}, "InvalidInput.Damaged", map[string]int{"split": 1, "compress": 0, "finalize": 1}, nil},
		{"a shard refuses", map[string]error{"compress": damaged}, "InvalidInput.Damaged", map[string]int{"checkpoint": 0, "finalize": 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string][]string{}
			var mu = make(chan struct{}, 1)
			inner := stages(t, 7, tt.fail, got)
			invoke := func(ctx context.Context, res string, in json.RawMessage) (json.RawMessage, error) {
				mu <- struct{}{}
				defer func() { <-mu }()
				return inner(ctx, res, in)
			}
			r := newRecorder()
			out, err := m.Execute(context.Background(), json.RawMessage(`{"bucket":"in","key":"doc.pdf"}`), r.options(invoke))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				jsonEq(t, out, `{"published":"out/job1/manifest.json"}`)
				if n := r.count("MapIterationSucceeded"); n != 7 {
					t.Errorf("%d Map iterations succeeded, want 7", n)
				}
				if !slices.Contains(got["compress"], `{"job":"job1","manifest":"jobs/job1/pages.json","shard":6}`) {
					t.Errorf("compress inputs %v", got["compress"])
				}
			} else {
				ee := execErr(t, err)
				if ee.Name != tt.wantErr {
					t.Errorf("error %v, want %s", ee, tt.wantErr)
				}
				if types := r.types(); !slices.Equal(types[len(types)-2:], []string{"FailStateEntered", "ExecutionFailed"}) {
					t.Errorf("does not end in the Fail state: %v", types[len(types)-3:])
				}
				if tt.fail["split"] != nil {
					if ee.Cause != damaged.Cause {
						t.Errorf("cause %q, want %q", ee.Cause, damaged.Cause)
					}
					jsonEq(t, []byte(got["finalize"][0]), `{"job":"job1","failure":{"Error":"InvalidInput.Damaged","Cause":"xref table is broken"}}`)
				}
			}
			for stage, n := range tt.wantCalls {
				if len(got[stage]) != n {
					t.Errorf("%s called %d times, want %d", stage, len(got[stage]), n)
				}
			}
			if !slices.Equal(r.sleeps, tt.wantSleep) {
				t.Errorf("sleeps %v, want %v", r.sleeps, tt.wantSleep)
			}
		})
	}
}
