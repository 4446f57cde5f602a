package asl

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// distMap is a machine whose Map state M runs in DISTRIBUTED mode; extra
// is spliced into M, and the item processor fails an item whose "fail" is
// true and otherwise returns its "n".
func distMap(extra string) string {
	return `{"StartAt":"M","States":{"M":{"Type":"Map",` + extra + `
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"C","States":{
			"C":{"Type":"Choice","Choices":[{"Variable":"$.fail","BooleanEquals":true,"Next":"F"}],"Default":"P"},
			"F":{"Type":"Fail","Error":"Boom","Cause":"item failed"},
			"P":{"Type":"Pass","OutputPath":"$.n","End":true}}},"End":true}}}`
}

// mapRuns records what Options.OnMapRun reports.
type mapRuns struct {
	mu   sync.Mutex
	runs []MapRun
}

func (m *mapRuns) last(t *testing.T) MapRun {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.runs) == 0 {
		t.Fatal("no Map Run reported")
	}
	return m.runs[len(m.runs)-1]
}

func runDist(t *testing.T, def, input string) (json.RawMessage, *recorder, *mapRuns, error) {
	t.Helper()
	m := mustParse(t, def)
	r := newRecorder()
	mr := &mapRuns{}
	opts := r.options(echo)
	opts.OnMapRun = func(run MapRun) { mr.mu.Lock(); mr.runs = append(mr.runs, run); mr.mu.Unlock() }
	out, err := m.Execute(context.Background(), json.RawMessage(input), opts)
	return out, r, mr, err
}

// TestDistributedMap runs a Map in DISTRIBUTED mode as
// https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
// describes it: each item is a child execution, and a Map Run (with the
// Label in its ARN) counts the items and the child executions.
func TestDistributedMap(t *testing.T) {
	out, r, mr, err := runDist(t, distMap(`"Label":"lbl","MaxConcurrency":2,`), `[{"n":1,"fail":false},{"n":2,"fail":false},{"n":3,"fail":false}]`)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `[1,2,3]`)
	run := mr.last(t)
	if !strings.HasPrefix(run.Arn, "arn:aws:states:us-east-1:123456789012:mapRun:local/lbl:") || run.Status != "SUCCEEDED" ||
		run.Items != (MapRunCounts{Succeeded: 3, Total: 3}) || run.Executions != (MapRunCounts{Succeeded: 3, Total: 3}) ||
		run.ExecutionType != "STANDARD" || run.MaxConcurrency != 2 || run.StateName != "M" || run.Stop.IsZero() {
		t.Errorf("map run: %+v", run)
	}
	// The parent's history has the Map Run, not the children's states.
	want := []string{"ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted", "MapRunSucceeded", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"}
	if got := r.types(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("history %v, want %v", got, want)
	}
}

// TestDistributedMapToleratedFailures follows
// https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html:
// with no threshold one failed item fails the Map with
// States.ExceedToleratedFailureThreshold; with one, the Map fails only when
// the failed items exceed it (count, or percentage of all items). A failed
// item's output is its child execution's result unchanged
// (input-output-resultwriter.html: "If a child workflow execution fails,
// Step Functions returns its execution result unchanged").
func TestDistributedMapToleratedFailures(t *testing.T) {
	items := `{"tol":1,"pct":50,"items":[{"n":1,"fail":false},{"n":2,"fail":true},{"n":3,"fail":false},{"n":4,"fail":true}]}`
	for _, tc := range []struct {
		name, extra string
		fails       bool
	}{
		{"no threshold", ``, true},
		{"count 1 of 2 failed", `"ToleratedFailureCount":1,`, true},
		{"count 2", `"ToleratedFailureCount":2,`, false},
		{"count path", `"ToleratedFailureCountPath":"$.tol",`, true},
		{"percentage 50", `"ToleratedFailurePercentage":50,`, false},
		{"percentage 49.5", `"ToleratedFailurePercentage":49.5,`, true},
		{"percentage path", `"ToleratedFailurePercentagePath":"$.pct",`, false},
		{"both: exceeding either fails", `"ToleratedFailurePercentage":100,"ToleratedFailureCount":1,`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, mr, err := runDist(t, distMap(`"ItemsPath":"$.items",`+tc.extra), items)
			run := mr.last(t)
			if tc.fails {
				if ee := execErr(t, err); ee.Name != ErrExceedToleratedFailureThreshold {
					t.Fatalf("error %v", ee)
				}
				if run.Status != "FAILED" || run.Error != ErrExceedToleratedFailureThreshold || run.Items.Failed == 0 {
					t.Errorf("map run: %+v", run)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []any
			if err := json.Unmarshal(out, &got); err != nil || len(got) != 4 {
				t.Fatalf("output %s", out)
			}
			failed, _ := got[1].(map[string]any)
			if got[0] != 1.0 || got[2] != 3.0 || failed["Status"] != "FAILED" || failed["Error"] != "Boom" || failed["Cause"] != "item failed" ||
				failed["Input"] != `{"fail":true,"n":2}` || !strings.Contains(failed["ExecutionArn"].(string), ":execution:local/M:") {
				t.Errorf("output %s", out)
			}
			if run.Status != "SUCCEEDED" || run.Items != (MapRunCounts{Succeeded: 2, Failed: 2, Total: 4}) {
				t.Errorf("map run: %+v", run)
			}
		})
	}
}

// TestItemBatcher groups items as
// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html
// shows: each child execution receives {"Items": [...]} plus BatchInput,
// with at most MaxItemsPerBatch items and MaxInputBytesPerBatch bytes.
func TestItemBatcher(t *testing.T) {
	proc := `"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`
	for _, tc := range []struct{ name, batcher, input, want string }{
		{"MaxItemsPerBatch", `{"MaxItemsPerBatch":2,"BatchInput":{"job.$":"$.job","k":1}}`, `{"job":"j","items":[1,2,3]}`,
			`[{"Items":[1,2],"BatchInput":{"job":"j","k":1}},{"Items":[3],"BatchInput":{"job":"j","k":1}}]`},
		{"MaxItemsPerBatchPath", `{"MaxItemsPerBatchPath":"$.n"}`, `{"n":3,"items":[1,2,3,4]}`, `[{"Items":[1,2,3]},{"Items":[4]}]`},
		{"MaxInputBytesPerBatch", `{"MaxInputBytesPerBatch":20}`, `{"items":["aaaa","bbbb","cccc"]}`, `[{"Items":["aaaa"]},{"Items":["bbbb"]},{"Items":["cccc"]}]`},
		{"MaxInputBytesPerBatch fits two", `{"MaxInputBytesPerBatch":25}`, `{"items":["aaaa","bbbb","cccc"]}`, `[{"Items":["aaaa","bbbb"]},{"Items":["cccc"]}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			def := `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemBatcher":` + tc.batcher + `,` + proc
			out, _, mr, err := runDist(t, def, tc.input)
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, out, tc.want)
			if run := mr.last(t); run.Executions.Total != int64(strings.Count(tc.want, "Items")) || run.ExecutionType != "EXPRESS" {
				t.Errorf("map run: %+v", run)
			}
		})
	}
	// A failed batch counts all its items as failed.
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","ItemBatcher":{"MaxItemsPerBatch":2},"ToleratedFailureCount":1,
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E"}}},"End":true}}}`
	_, _, mr, err := runDist(t, def, `[1,2]`)
	if ee := execErr(t, err); ee.Name != ErrExceedToleratedFailureThreshold {
		t.Errorf("error %v", ee)
	}
	if run := mr.last(t); run.Items.Failed != 2 || run.Executions.Failed != 1 {
		t.Errorf("map run: %+v", run)
	}
}

// TestDistributedMapJSONata: the same fields in a JSONata Map, whose child
// executions do not see the parent's variables (workflow-variables.html).
func TestDistributedMapJSONata(t *testing.T) {
	def := `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"x":1},"Next":"M"},
		"M":{"Type":"Map","Items":"{% $states.input.items %}","ItemBatcher":{"MaxItemsPerBatch":2,"BatchInput":{"x":"{% $x %}"}},"ToleratedFailurePercentage":0,
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $count($states.input.Items) %}","End":true}}},"End":true}}}`
	out, _, _, err := runDist(t, def, `{"items":[1,2,3]}`)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `[2,1]`)
	bad := strings.Replace(def, `"{% $count($states.input.Items) %}"`, `"{% $x %}"`, 1)
	if _, _, _, err := runDist(t, bad, `{"items":[1,2,3]}`); err == nil {
		t.Error("a child execution read the parent's variable $x")
	}
}

// TestRedriveDistributedMap: a redrive of an execution failed in a
// DISTRIBUTED Map runs the Map again, every item of it (the children's
// histories are not kept, so which of them succeeded is not known).
func TestRedriveDistributedMap(t *testing.T) {
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
		"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:t","End":true}}},"End":true}}}`
	m := mustParse(t, def)
	var mu sync.Mutex
	calls, failOnce := 0, true
	invoke := func(_ context.Context, _ string, in json.RawMessage) (json.RawMessage, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if string(in) == "2" && failOnce {
			failOnce = false
			return nil, &TaskError{Name: "Flaky", Cause: "item 2"}
		}
		return in, nil
	}
	r := newRecorder()
	if _, err := m.Execute(context.Background(), json.RawMessage(`[1,2,3]`), r.options(invoke)); execErr(t, err).Name != ErrExceedToleratedFailureThreshold {
		t.Fatalf("first run: %v", err)
	}
	first := calls
	out, err := m.Redrive(context.Background(), r.events, r.options(invoke))
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `[1,2,3]`)
	if calls-first != 3 {
		t.Errorf("the redrive ran %d tasks, want all 3 items again", calls-first)
	}
}

// TestDistributedChildHistoryQuota: a DISTRIBUTED Map's child executions
// are executions of their own in AWS, each with a history quota
// (bp-history-limit.html): a child whose history would pass event 25,000
// fails with States.Runtime, even though its history is not kept, instead
// of looping for ever; one that ends at event 25,000 succeeds.
func TestDistributedChildHistoryQuota(t *testing.T) {
	// As in TestHistoryQuota: 4n+4 events for n iterations, counting the
	// child's ExecutionStarted and ExecutionSucceeded.
	const def = `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":1,
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"Count","States":{
			"Count":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)","n.$":"$.n"},"Next":"Check"},
			"Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericEqualsPath":"$.n","Next":"Done"}],"Default":"Count"},
			"Done":{"Type":"Succeed","OutputPath":"$.i"}}},"End":true}}}`
	const fits = (MaxHistoryEvents - 4) / 4
	out, _, _, err := runDist(t, def, fmt.Sprintf(`[{"i":0,"n":%d},{"i":0,"n":%d}]`, fits, fits+1))
	if err != nil {
		t.Fatal(err)
	}
	var got []any
	if err := json.Unmarshal(out, &got); err != nil || len(got) != 2 {
		t.Fatalf("output %s", out)
	}
	if fmt.Sprint(got[0]) != fmt.Sprint(fits) {
		t.Errorf("the child that ends at event 25,000: %v", got[0])
	}
	if f, ok := got[1].(map[string]any); !ok || f["Status"] != "FAILED" || f["Error"] != ErrRuntime {
		t.Errorf("the child one iteration longer: %v", got[1])
	}
}
