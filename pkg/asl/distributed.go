package asl

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
)

// distributed holds the fields of a Map state in DISTRIBUTED mode
// (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html).
// Each item, or each batch of items, runs as a child execution of its own,
// and the Map Run that groups them is reported through Options.OnMapRun.
type distributed struct {
	execType string // ProcessorConfig.ExecutionType: STANDARD or EXPRESS
	label    string // Label, "": the state's name

	// ToleratedFailurePercentage and ToleratedFailureCount (or their
	// Path forms): when neither is given no failure is tolerated; when one
	// is, only it applies.
	tolPct, tolCnt *numField

	batcher *batcher // ItemBatcher, nil: one item per child execution
}

// batcher is an ItemBatcher
// (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html).
type batcher struct {
	maxItems      *numField // MaxItemsPerBatch[Path], nil: no limit
	maxBytes      *numField // MaxInputBytesPerBatch[Path], nil: no limit but MaxPayload
	input         *tmpl     // BatchInput (JSONPath)
	inputJ        *jtmpl    // BatchInput (JSONata)
	hasBatchInput bool
}

// distributedOnly are the Map fields AWS documents for DISTRIBUTED mode only
// (state-map-distributed.html, "Distributed Map state fields"; the INLINE
// page, state-map-inline.html, lists none of them).
var distributedOnly = []string{"ItemBatcher", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath",
	"ToleratedFailureCount", "ToleratedFailureCountPath", "Label", "ItemReader", "ResultWriter"}

func (p *parser) distributedFields(st *state, m map[string]any, bad badFunc) error {
	if st.dist == nil {
		for _, k := range distributedOnly {
			if _, ok := m[k]; ok {
				why := ""
				if strings.HasPrefix(k, "ToleratedFailure") {
					// AWS's INLINE page lists no tolerance: "the failure of any
					// iteration causes the Map state to fail".
					why = "; an INLINE Map fails at its first failed iteration (state-map-inline.html): to tolerate failures there, Catch them inside the ItemProcessor"
				}
				return bad(k, "%s is allowed only in a DISTRIBUTED Map (ItemProcessor.ProcessorConfig.Mode \"DISTRIBUTED\")%s", k, why)
			}
		}
		return nil
	}
	d := st.dist
	var err error
	if d.tolPct, err = parseNumField(m, "ToleratedFailurePercentage", percentage, st.jsonata, bad); err != nil {
		return err
	}
	if d.tolCnt, err = parseNumField(m, "ToleratedFailureCount", nonNegativeInteger, st.jsonata, bad); err != nil {
		return err
	}
	if v, ok := m["Label"]; ok {
		s, isStr := v.(string)
		if !isStr || !validLabel(s) {
			return bad("Label", "must be 1 to 40 characters with no whitespace, brackets, wildcards, control or special characters")
		}
		d.label = s
	}
	if v, ok := m["ItemBatcher"]; ok {
		if d.batcher, err = parseBatcher(v, st.jsonata, bad); err != nil {
			return err
		}
	}
	if v, ok := m["ItemReader"]; ok {
		for _, k := range []string{"ItemsPath", "Items"} {
			if _, both := m[k]; both {
				return bad(k, "ItemReader and %s are mutually exclusive: the items are the object's", k)
			}
		}
		if st.reader, err = parseItemReader(v, st.jsonata, bad); err != nil {
			return err
		}
		p.m.hasS3 = true
	}
	if v, ok := m["ResultWriter"]; ok {
		if st.writer, err = parseResultWriter(v, st.jsonata, bad); err != nil {
			return err
		}
		p.m.hasS3 = true
	}
	return nil
}

// validLabel applies the rules AWS gives for Label: at most 40
// characters, none of them whitespace, brackets, wildcards, special
// characters or control characters (state-map-distributed.html).
func validLabel(s string) bool {
	if s == "" || len([]rune(s)) > 40 {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) {
			return false
		}
	}
	return true
}

func parseBatcher(v any, jsonata bool, bad badFunc) (*batcher, error) {
	const f = "ItemBatcher"
	m, ok := v.(map[string]any)
	if !ok {
		return nil, bad(f, "must be an object")
	}
	b := &batcher{}
	var err error
	inner := func(field, format string, a ...any) error { return bad(f+"."+field, format, a...) }
	if b.maxItems, err = parseNumField(m, "MaxItemsPerBatch", positiveInteger, jsonata, inner); err != nil {
		return nil, err
	}
	if b.maxBytes, err = parseNumField(m, "MaxInputBytesPerBatch", numRule{integer: true, min: 1, max: MaxPayload}, jsonata, inner); err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(m) {
		x := m[k]
		switch k {
		case "MaxItemsPerBatch", "MaxInputBytesPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath":
		case "BatchInput":
			if jsonata {
				b.inputJ, err = parseJtmpl(x)
			} else if _, isObj := x.(map[string]any); !isObj {
				err = fmt.Errorf("must be an object")
			} else {
				b.input, err = parseTemplate(x)
			}
			if err != nil {
				return nil, bad(f, "BatchInput: %v", err)
			}
			b.hasBatchInput = true
		default:
			return nil, bad(f, "unknown ItemBatcher field %q", k)
		}
	}
	if b.maxItems == nil && b.maxBytes == nil {
		if jsonata {
			return nil, bad(f, "give MaxItemsPerBatch or MaxInputBytesPerBatch")
		}
		return nil, bad(f, "give MaxItemsPerBatch or MaxInputBytesPerBatch (or their Path forms)")
	}
	return b, nil
}

// MapRun is the state of the Map Run of a DISTRIBUTED Map, as DescribeMapRun
// reports it (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeMapRun.html).
type MapRun struct {
	Arn          string // arn:...:mapRun:<machine>/<Label or state name>:<id>
	ExecutionArn string // the parent execution
	StateName    string
	Status       string // RUNNING, SUCCEEDED, FAILED or ABORTED
	Start, Stop  time.Time
	Error, Cause string // when FAILED

	ExecutionType              string // STANDARD or EXPRESS
	MaxConcurrency             int64  // 0: no limit
	ToleratedFailurePercentage float64
	ToleratedFailureCount      int64

	Items      MapRunCounts // one per item
	Executions MapRunCounts // one per child execution (per batch with ItemBatcher)
}

// MapRunCounts counts items or child executions by status
// (API_MapRunItemCounts.html, API_MapRunExecutionCounts.html).
type MapRunCounts struct {
	Pending, Running, Succeeded, Failed, TimedOut, Aborted, Total int64
	ResultsWritten                                                int64 // exported by a ResultWriter
}

// ErrExceedToleratedFailureThreshold fails a DISTRIBUTED Map whose failed
// items exceed its tolerated failure threshold
// (https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html).
const ErrExceedToleratedFailureThreshold = "States.ExceedToleratedFailureThreshold"

// child is one child execution of a Map Run: one item, or one batch.
type child struct {
	input any
	items int64 // items it carries
}

// batches groups the (selected) items into the inputs of child executions.
// e evaluates BatchInput and the limits' expressions; its input (the Map's
// effective input) is what their Path forms select from.
func (x *exec) batches(st *state, e *env, items []any) ([]child, error) {
	b := st.dist.batcher
	if b == nil {
		out := make([]child, len(items))
		for i, it := range items {
			out[i] = child{it, 1}
		}
		return out, nil
	}
	maxItems, err := b.maxItems.intValue(st, e, e.input)
	if err != nil {
		return nil, err
	}
	maxBytes, err := b.maxBytes.intValue(st, e, e.input)
	if err != nil {
		return nil, err
	}
	if maxBytes == 0 || maxBytes > MaxPayload {
		maxBytes = MaxPayload
	}
	var batchInput any
	switch {
	case b.input != nil:
		batchInput, err = b.input.eval(e)
	case b.inputJ != nil:
		batchInput, err = b.inputJ.eval(e, "BatchInput")
	}
	if err != nil {
		return nil, err
	}
	mk := func(its []any) map[string]any {
		in := map[string]any{"Items": its}
		if b.hasBatchInput {
			in["BatchInput"] = batchInput
		}
		return in
	}
	var out []child
	var cur []any
	for _, it := range items {
		next := append(slices.Clone(cur), it)
		switch {
		case len(cur) > 0 && (maxItems > 0 && int64(len(next)) > maxItems || int64(len(marshal(mk(next)))) > maxBytes):
			out = append(out, child{mk(cur), int64(len(cur))})
			cur = []any{it}
		default:
			cur = next
		}
		if int64(len(marshal(mk(cur)))) > maxBytes {
			return nil, runtimeErr("An error occurred while executing the state '%s'. An item is larger than the batch limit of %d bytes", st.name, maxBytes)
		}
	}
	if len(cur) > 0 {
		out = append(out, child{mk(cur), int64(len(cur))})
	}
	return out, nil
}

// mapRun runs a DISTRIBUTED Map: each item (or batch) is a child
// execution with its own context object and no variables; the Map fails
// with States.ExceedToleratedFailureThreshold once the failed items
// exceed the threshold, and otherwise returns, in item order, each child's
// output, or for a failed child its execution result unchanged (the
// NONE transformation: input-output-resultwriter.html, "If a child
// workflow execution fails, Step Functions returns its execution result
// unchanged").
func (x *exec) mapRun(ctx context.Context, st *state, raw, eff any, items []any, maxConc int64, ch *chain, c *ctxObj, vars *varScope) (any, error) {
	d := st.dist
	sel := make([]any, len(items))
	for i, item := range items {
		ic := &ctxObj{x: x, ctx: ctx, st: st, entered: c.entered, retry: c.retry, item: &mapItem{index: i, value: item}}
		var err error
		switch {
		case st.itemSel != nil:
			sel[i], err = st.itemSel.eval(&env{input: eff, ctx: ic, vars: vars})
		case st.itemSelJ != nil:
			sel[i], err = st.itemSelJ.eval(&env{input: eff, ctx: ic, vars: vars}, "ItemSelector")
		default:
			sel[i] = item
		}
		if err != nil {
			return nil, err
		}
	}
	e := &env{input: eff, ctx: c, vars: vars}
	kids, err := x.batches(st, e, sel)
	if err != nil {
		return nil, err
	}
	tolPct, err := d.tolPct.value(st, e, eff)
	if err != nil {
		return nil, err
	}
	tolCnt, err := d.tolCnt.intValue(st, e, eff)
	if err != nil {
		return nil, err
	}
	exceeds := func(failed int64) bool {
		if d.tolPct == nil && d.tolCnt == nil {
			return failed > 0
		}
		return (d.tolCnt != nil && failed > tolCnt) || (d.tolPct != nil && len(items) > 0 && float64(failed)*100/float64(len(items)) > tolPct.f)
	}

	label := cmp.Or(d.label, st.name)
	parts := strings.Split(x.smArn, ":")
	prefix := strings.Join(parts[:5], ":")
	kind := "execution"
	if d.execType == "EXPRESS" {
		kind = "express"
	}
	run := MapRun{Arn: fmt.Sprintf("%s:mapRun:%s/%s:%s", prefix, x.smName, label, newUUID()), ExecutionArn: x.execArn, StateName: st.name,
		Status: "RUNNING", Start: x.stamp(), ExecutionType: d.execType, MaxConcurrency: maxConc,
		ToleratedFailurePercentage: tolPct.f, ToleratedFailureCount: tolCnt,
		Items: MapRunCounts{Pending: int64(len(items)), Total: int64(len(items))}, Executions: MapRunCounts{Pending: int64(len(kids)), Total: int64(len(kids))}}
	var runMu sync.Mutex
	report := func(f func(*MapRun)) {
		runMu.Lock()
		defer runMu.Unlock()
		f(&run)
		if x.onRun != nil {
			x.onRun(run)
		}
	}
	report(func(*MapRun) {})
	x.emit(ch, Event{Type: "MapRunStarted", MapRunStartedEventDetails: &MapRunStartedEventDetails{MapRunArn: run.Arn}})

	results := make([]any, len(kids))
	succeeded := make([]bool, len(kids))
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var sem chan struct{}
	if maxConc > 0 && int(maxConc) < len(kids) {
		sem = make(chan struct{}, maxConc)
	}
	var wg sync.WaitGroup
	var failedItems int64
	exceeded := false
	for i, k := range kids {
		if !acquire(gctx, sem) {
			break
		}
		report(func(r *MapRun) {
			r.Items.Pending -= k.items
			r.Items.Running += k.items
			r.Executions.Pending--
			r.Executions.Running++
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sem != nil {
				defer func() { <-sem }()
			}
			name := newUUID()
			// A child's history is not kept, but it is counted: at
			// MaxHistoryEvents the child fails, as in AWS, where it is
			// an execution of its own, instead of looping for ever.
			// Its ExecutionStarted is event 1.
			cctx, stop := context.WithCancel(gctx)
			defer stop()
			cx := &exec{m: x.m, invoke: x.invoke, sleep: x.sleep, now: x.now, objects: x.objects, jsonata: x.jsonata, nextID: 2, role: x.role, region: x.region,
				smArn: x.smArn + "/" + label, smName: x.smName + "/" + label, execName: name,
				execArn: fmt.Sprintf("%s:%s:%s/%s:%s", prefix, kind, x.smName, label, name),
				input:   k.input, inputText: string(marshal(k.input)), onEvent: func(Event) {}, stop: stop}
			cx.startTime = cx.stamp()
			out, err := cx.runScope(cctx, st.processor, k.input, &chain{}, nil, &varScope{})
			if cx.historyFull() {
				out, err = nil, &failure{Name: ErrRuntime, Cause: historyFullCause}
			}
			var f *failure
			isFailure := errors.As(err, &f)
			report(func(r *MapRun) {
				r.Items.Running -= k.items
				r.Executions.Running--
				switch {
				case err == nil && st.writer != nil:
					// The exported result of a child execution
					// (input-output-resultwriter.html, "Result files").
					results[i], succeeded[i] = map[string]any{
						"ExecutionArn": cx.execArn, "Name": name, "StateMachineArn": cx.smArn,
						"Input": cx.inputText, "InputDetails": map[string]any{"Included": true},
						"Output": string(marshal(out)), "OutputDetails": map[string]any{"Included": true},
						"Status": "SUCCEEDED", "StartDate": cx.startTime.Format(isoMillis), "StopDate": cx.stamp().Format(isoMillis),
					}, true
					r.Items.Succeeded += k.items
					r.Executions.Succeeded++
				case err == nil:
					results[i], succeeded[i] = out, true
					r.Items.Succeeded += k.items
					r.Executions.Succeeded++
				case isFailure:
					results[i] = map[string]any{
						"ExecutionArn": cx.execArn, "Name": name, "StateMachineArn": cx.smArn,
						"Input": cx.inputText, "InputDetails": map[string]any{"Included": true},
						"Status": "FAILED", "Error": f.Name, "Cause": f.Cause,
						"StartDate": cx.startTime.Format(isoMillis), "StopDate": cx.stamp().Format(isoMillis),
					}
					r.Items.Failed += k.items
					r.Executions.Failed++
					failedItems += k.items
					if !exceeded && exceeds(failedItems) {
						exceeded = true
						cancel()
					}
				default:
					r.Items.Aborted += k.items
					r.Executions.Aborted++
				}
			})
		}()
	}
	wg.Wait()
	end := func(status, name, cause string) {
		report(func(r *MapRun) {
			// Children never started count as aborted.
			r.Items.Aborted += r.Items.Pending
			r.Executions.Aborted += r.Executions.Pending
			r.Items.Pending, r.Executions.Pending = 0, 0
			r.Status, r.Stop, r.Error, r.Cause = status, x.stamp(), name, cause
		})
	}
	switch {
	case exceeded:
		cause := fmt.Sprintf("The Map Run %s failed: %d of %d items failed, more than the tolerated failure threshold.", run.Arn, failedItems, len(items))
		end("FAILED", ErrExceedToleratedFailureThreshold, cause)
		x.emit(ch, Event{Type: "MapRunFailed", MapRunFailedEventDetails: &ErrorDetails{Error: ErrExceedToleratedFailureThreshold, Cause: cause}})
		x.emit(ch, Event{Type: "MapStateFailed"})
		return nil, &failure{Name: ErrExceedToleratedFailureThreshold, Cause: cause}
	case ctx.Err() != nil:
		end("ABORTED", "", "")
		x.emit(ch, Event{Type: "MapRunAborted"})
		return nil, errAborted
	}
	if st.writer != nil {
		var groups [3][]any // SUCCEEDED, FAILED, PENDING: none pending once every child ended
		for i, res := range results {
			if succeeded[i] {
				groups[0] = append(groups[0], res)
			} else {
				groups[1] = append(groups[1], res)
			}
		}
		out, err := x.writeResults(ctx, st, raw, eff, c, vars, run.Arn, groups)
		if err != nil {
			var f *failure
			if errors.As(err, &f) {
				end("FAILED", f.Name, f.Cause)
				x.emit(ch, Event{Type: "MapRunFailed", MapRunFailedEventDetails: &ErrorDetails{Error: f.Name, Cause: f.Cause}})
				x.emit(ch, Event{Type: "MapStateFailed"})
			}
			return nil, err
		}
		report(func(r *MapRun) {
			r.Items.ResultsWritten = r.Items.Succeeded + r.Items.Failed
			r.Executions.ResultsWritten = r.Executions.Succeeded + r.Executions.Failed
		})
		end("SUCCEEDED", "", "")
		x.emit(ch, Event{Type: "MapRunSucceeded"})
		x.emit(ch, Event{Type: "MapStateSucceeded"})
		return out, nil
	}
	end("SUCCEEDED", "", "")
	x.emit(ch, Event{Type: "MapRunSucceeded"})
	x.emit(ch, Event{Type: "MapStateSucceeded"})
	return results, nil
}
