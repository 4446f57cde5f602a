package asl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// recordInvoke echoes a fixed result and records what each Task received.
type recordInvoke struct {
	mu     sync.Mutex
	inputs []string
	names  []string
	result string // "" echoes the input
}

func (r *recordInvoke) invoke(_ context.Context, res string, in json.RawMessage) (json.RawMessage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inputs = append(r.inputs, string(in))
	r.names = append(r.names, res)
	if r.result == "" {
		return in, nil
	}
	return json.RawMessage(r.result), nil
}

// TestTransformingDataJSONata runs the fields of JSONata states as
// https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
// describes them: Arguments is what the task receives, Output what the
// state returns ($states.result by default for a Task, the input for a
// Pass), and a string is an expression only when it is entirely {% ... %}.
func TestTransformingDataJSONata(t *testing.T) {
	tests := []struct {
		name, def, input, result string
		want, wantTaskInput      string
	}{
		{
			name: "Arguments and Output",
			def: `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `",
				"Arguments":{"name":"{% $states.input.customer.name %}","total":"{% $sum($states.input.items.price) %}","note":"literal {% not %} an expression","n":1},
				"Output":{"sent":"{% $states.input.customer.name %}","got":"{% $states.result.ok %}"},"End":true}}}`,
			input: `{"customer":{"name":"Ana"},"items":[{"price":10.5},{"price":2}]}`, result: `{"ok":true}`,
			want: `{"sent":"Ana","got":true}`, wantTaskInput: `{"name":"Ana","total":12.5,"note":"literal {% not %} an expression","n":1}`,
		},
		{
			name:  "Task output defaults to the result, without Arguments the input is sent",
			def:   `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","End":true}}}`,
			input: `{"a":1}`, result: `{"r":2}`, want: `{"r":2}`, wantTaskInput: `{"a":1}`,
		},
		{
			name: "lambda:invoke Payload",
			def: `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
				"Arguments":{"FunctionName":"f","Payload":"{% $states.input %}"},"Output":"{% $states.result.Payload %}","End":true}}}`,
			input: `{"a":1}`, result: `{"done":1}`, want: `{"done":1}`, wantTaskInput: `{"a":1}`,
		},
		{
			name:  "Pass output defaults to the input",
			def:   `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
			input: `{"a":[1,2]}`, want: `{"a":[1,2]}`,
		},
		{
			name: "Output may be one expression, arrays and nested objects",
			def: `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":{"arr":["{% $states.input.a %}",2],"o":{"up":"{% $uppercase($states.input.s) %}"},
				"math":"{% $states.input.a * 2 + 0.5 %}","cond":"{% $states.input.a > 1 ? 'big' : 'small' %}"},"Next":"Q"},
				"Q":{"Type":"Pass","Output":"{% $states.input.arr %}","End":true}}}`,
			input: `{"a":3,"s":"x"}`, want: `[3,2]`,
		},
		{
			// "$states.context": the context object.
			name: "context object",
			def: `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":{"exec":"{% $states.context.Execution.Name %}",
				"state":"{% $states.context.State.Name %}","input":"{% $states.context.Execution.Input.a %}"},"End":true}}}`,
			input: `{"a":1}`, want: `{"exec":"exec-1","state":"P","input":1}`,
		},
		{
			// query-language.html: the machine is JSONPath; one state opts in.
			name: "one JSONata state in a JSONPath machine",
			def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"v.$":"$.a"},"Next":"B"},
				"B":{"Type":"Pass","QueryLanguage":"JSONata","Output":{"w":"{% $states.input.v + 1 %}"},"Next":"C"},
				"C":{"Type":"Pass","OutputPath":"$.w","End":true}}}`,
			input: `{"a":1}`, want: `2`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ri := &recordInvoke{result: tt.result}
			out, _, err := run(t, tt.def, tt.input, ri.invoke)
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, out, tt.want)
			if tt.wantTaskInput != "" {
				if len(ri.inputs) != 1 {
					t.Fatalf("task ran %d times", len(ri.inputs))
				}
				jsonEq(t, []byte(ri.inputs[0]), tt.wantTaskInput)
			}
		})
	}
	t.Run("lambda:invoke resources", func(t *testing.T) {
		def := `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"FunctionName":"f","Payload":{}},"Next":"U"},
			"U":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"FunctionName":"{% 'g' %}"},"End":true}}}`
		if got := mustParse(t, def).Resources(); !slices.Equal(got, []string{"f"}) {
			t.Errorf("Resources() = %v, want [f] (g is an expression)", got)
		}
	})
}

// TestJSONataFunctionsOfStepFunctions: the functions Step Functions adds
// to JSONata (transforming-data.html, "JSONata functions provided by Step
// Functions"), with the page's examples.
func TestJSONataFunctionsOfStepFunctions(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`$partition([1,2,3,4,5,6,7,8,9], 3)`, `[[1,2,3],[4,5,6],[7,8,9]]`},
		{`$partition([1,2,3,4], 3)`, `[[1,2,3],[4]]`},
		{`$range(0, 10, 2)`, `[0,2,4,6,8,10]`},
		{`$range(5, 1, -2)`, `[5,3,1]`},
		{`$hash('input data', 'SHA-1')`, `"aaff4a450a104cd177d28d18d74485e8cae074b7"`},
		{`$hash($states.input.content, 'SHA-256')`, `"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"`},
		{`$parse($states.input.json)`, `{"k":[1,2]}`},
		{`$random(7) = $random(7)`, `true`},
		{`$random() >= 0 and $random() < 1`, `true`},
		{`$random(7) >= 0 and $random(7) < 1`, `true`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			def, _ := json.Marshal(map[string]any{"QueryLanguage": "JSONata", "StartAt": "P", "States": map[string]any{
				"P": map[string]any{"Type": "Pass", "Output": "{% " + tt.expr + " %}", "End": true}}})
			out, _, err := run(t, string(def), `{"content":"abc","json":"{\"k\":[1,2]}"}`, nil)
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, out, tt.want)
		})
	}
	t.Run("$uuid", func(t *testing.T) {
		def := `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $uuid() %}","End":true}}}`
		out, _, err := run(t, def, `{}`, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$`).Match(out) {
			t.Errorf("$uuid() = %s, want a version 4 UUID", out)
		}
	})
}

// TestJSONataQueryEvaluationError: an expression that fails, or that
// yields no value, fails the state with States.QueryEvaluationError, which
// a Catch handles, its Output seeing $states.errorOutput
// (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html;
// transforming-data.html: "$states.errorOutput ... only available in a Catch").
func TestJSONataQueryEvaluationError(t *testing.T) {
	for name, arg := range map[string]string{
		"undefined":  `{% $states.input.missing %}`,
		"type error": `{% $states.input.s + 1 %}`,
	} {
		t.Run(name, func(t *testing.T) {
			def := `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","Arguments":{"x":"` + arg + `"},
				"Catch":[{"ErrorEquals":["States.QueryEvaluationError"],"Output":{"caught":"{% $states.errorOutput.Error %}","in":"{% $states.input.s %}"},"Next":"H"}],"End":true},
				"H":{"Type":"Pass","End":true}}}`
			caughtBeforeTask(t, def, `{"s":"str"}`, `{"caught":"States.QueryEvaluationError","in":"str"}`)
		})
	}
	t.Run("uncaught, in a Pass", func(t *testing.T) {
		def := `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $states.input.nope %}","End":true}}}`
		_, _, err := run(t, def, `{}`, nil)
		if ee := execErr(t, err); ee.Name != ErrQueryEvaluation {
			t.Errorf("got %v, want %s", ee, ErrQueryEvaluation)
		}
	})
	t.Run("catcher Output defaults to the error output", func(t *testing.T) {
		def := `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `",
			"Catch":[{"ErrorEquals":["States.ALL"],"Next":"H"}],"End":true},"H":{"Type":"Pass","End":true}}}`
		invoke, _ := failing(1, &TaskError{"E", "why"})
		out, _, err := run(t, def, `{}`, invoke)
		if err != nil {
			t.Fatal(err)
		}
		jsonEq(t, out, `{"Error":"E","Cause":"why"}`)
	})
}

// TestJSONataStates: Choice Condition, Map Items and ItemSelector,
// Parallel Arguments, Wait Seconds, Fail Error and Cause in JSONata
// (state-choice.html, state-map.html, state-parallel.html, state-wait.html,
// state-fail.html under https://docs.aws.amazon.com/step-functions/latest/dg/).
func TestJSONataStates(t *testing.T) {
	t.Run("Choice Condition", func(t *testing.T) {
		def := `{"QueryLanguage":"JSONata","StartAt":"C","States":{"C":{"Type":"Choice","Choices":[
			{"Condition":"{% $states.input.age >= 18 %}","Next":"Adult"}],"Default":"Minor","Output":{"age":"{% $states.input.age %}"}},
			"Adult":{"Type":"Pass","Output":"{% 'adult ' & $states.input.age %}","End":true},"Minor":{"Type":"Pass","Output":"minor","End":true}}}`
		for in, want := range map[string]string{`{"age":20}`: `"adult 20"`, `{"age":3}`: `"minor"`} {
			out, _, err := run(t, def, in, nil)
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, out, want)
		}
		_, _, err := run(t, `{"QueryLanguage":"JSONata","StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Condition":"{% 1 %}","Next":"D"}]},"D":{"Type":"Succeed"}}}`, `{}`, nil)
		if ee := execErr(t, err); ee.Name != ErrQueryEvaluation {
			t.Errorf("a non-boolean Condition: got %v", ee)
		}
	})
	t.Run("Map Items and ItemSelector", func(t *testing.T) {
		def := `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% $states.input.list %}",
			"ItemSelector":{"i":"{% $states.context.Map.Item.Index %}","v":"{% $states.context.Map.Item.Value %}","k":"{% $states.input.k %}"},
			"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $states.input.k & '-' & $states.input.i & '-' & $states.input.v %}","End":true}}},
			"Output":{"all":"{% $states.result %}","n":"{% $count($states.result) %}"},"End":true}}}`
		out, _, err := run(t, def, `{"k":"x","list":["a","b","c"]}`, nil)
		if err != nil {
			t.Fatal(err)
		}
		jsonEq(t, out, `{"all":["x-0-a","x-1-b","x-2-c"],"n":3}`)
		def = `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":[1,2],"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $states.input * 10 %}","End":true}}},"End":true}}}`
		if out, _, err = run(t, def, `{}`, nil); err != nil {
			t.Fatal(err)
		}
		jsonEq(t, out, `[10,20]`)
	})
	t.Run("Parallel Arguments", func(t *testing.T) {
		def := `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Parallel","Arguments":{"x":"{% $states.input.x %}"},"Branches":[
			{"StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $states.input.x + 1 %}","End":true}}},
			{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],"Output":"{% $states.result %}","End":true}}}`
		out, _, err := run(t, def, `{"x":1,"y":2}`, nil)
		if err != nil {
			t.Fatal(err)
		}
		jsonEq(t, out, `[2,{"x":1}]`)
	})
	t.Run("Wait Seconds", func(t *testing.T) {
		def := `{"QueryLanguage":"JSONata","StartAt":"W","States":{"W":{"Type":"Wait","Seconds":"{% $states.input.s * 2 %}","End":true}}}`
		out, r, err := run(t, def, `{"s":3}`, nil)
		if err != nil {
			t.Fatal(err)
		}
		jsonEq(t, out, `{"s":3}`)
		if len(r.sleeps) != 1 || r.sleeps[0].Seconds() != 6 {
			t.Errorf("sleeps %v, want [6s]", r.sleeps)
		}
	})
	t.Run("Fail Error and Cause", func(t *testing.T) {
		def := `{"QueryLanguage":"JSONata","StartAt":"F","States":{"F":{"Type":"Fail","Error":"{% $states.input.code %}","Cause":"{% 'job ' & $states.input.job & ' failed' %}"}}}`
		_, _, err := run(t, def, `{"code":"Bad","job":"j7"}`, nil)
		if ee := execErr(t, err); ee.Name != "Bad" || ee.Cause != "job j7 failed" {
			t.Errorf("got %v", ee)
		}
	})
}

// TestJSONataNumericFields: in a JSONata state the numeric fields take a
// {% %} expression where a JSONPath state has a *Path field
// (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html,
// "No more Path fields": "TimeoutSeconds": "{% $timeout %}"), and a value
// the field does not accept is States.QueryEvaluationError ("JSONata
// Runtime Errors": TimeoutSeconds given a string, ToleratedFailurePercentage
// a negative number).
func TestJSONataNumericFields(t *testing.T) {
	t.Run("TimeoutSeconds from a variable", func(t *testing.T) {
		def := `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"timeout":"{% $states.input.t %}"},"Next":"T"},
			"T":{"Type":"Task","Resource":"` + fn + `","TimeoutSeconds":"{% $timeout %}",
			"Catch":[{"ErrorEquals":["States.Timeout"],"Output":"{% $states.errorOutput %}","Next":"H"}],"End":true},"H":{"Type":"Pass","End":true}}}`
		block := func(ctx context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		out, r, err := run(t, def, `{"t":1}`, block)
		if err != nil {
			t.Fatal(err)
		}
		jsonEq(t, out, `{"Error":"States.Timeout","Cause":"Task timed out after 1 seconds."}`)
		for _, e := range r.events {
			if d := e.LambdaFunctionScheduledEventDetails; d != nil && d.TimeoutInSeconds != 1 {
				t.Errorf("LambdaFunctionScheduled TimeoutInSeconds %d, want 1", d.TimeoutInSeconds)
			}
		}
	})
	for name, tc := range map[string]struct{ field, value string }{
		"TimeoutSeconds a string":             {`"TimeoutSeconds"`, `"{% $states.input.name %}"`},
		"TimeoutSeconds zero":                 {`"TimeoutSeconds"`, `"{% 0 %}"`},
		"TimeoutSeconds undefined":            {`"TimeoutSeconds"`, `"{% $states.input.missing %}"`},
		"TimeoutSeconds not an integer":       {`"TimeoutSeconds"`, `"{% 1.5 %}"`},
		"MaxConcurrency negative":             {`"MaxConcurrency"`, `"{% -1 %}"`},
		"ToleratedFailurePercentage negative": {`"ToleratedFailurePercentage"`, `"{% -1 %}"`},
		"ToleratedFailureCount a string":      {`"ToleratedFailureCount"`, `"{% $states.input.name %}"`},
	} {
		t.Run(name, func(t *testing.T) {
			state := `"Type":"Task","Resource":"` + fn + `"`
			if tc.field != `"TimeoutSeconds"` {
				state = `"Type":"Map","Items":"{% $states.input.items %}","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
			}
			def := `{"QueryLanguage":"JSONata","StartAt":"S","States":{"S":{` + state + `,` + tc.field + `:` + tc.value + `,
				"Catch":[{"ErrorEquals":["States.QueryEvaluationError"],"Output":"{% $states.errorOutput %}","Next":"H"}],"End":true},"H":{"Type":"Pass","End":true}}}`
			ri := &recordInvoke{}
			out, _, err := run(t, def, `{"name":"n","items":[1]}`, ri.invoke)
			if err != nil {
				t.Fatal(err)
			}
			var got struct{ Error, Cause string }
			if json.Unmarshal(out, &got) != nil || got.Error != ErrQueryEvaluation || !regexp.MustCompile(`field '(TimeoutSeconds|MaxConcurrency|ToleratedFailure\w+)'`).MatchString(got.Cause) {
				t.Errorf("output %s", out)
			}
			if len(ri.inputs) != 0 {
				t.Error("the task ran")
			}
		})
	}
	t.Run("Map Run settings", func(t *testing.T) {
		def := `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% $states.input.items %}",
			"MaxConcurrency":"{% $states.input.conc %}","ToleratedFailureCount":"{% $states.input.tol %}","ToleratedFailurePercentage":"{% $states.input.pct %}",
			"ItemBatcher":{"MaxItemsPerBatch":"{% $states.input.batch %}","MaxInputBytesPerBatch":"{% 1024 * 64 %}"},
			"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"C","States":{
				"C":{"Type":"Choice","Choices":[{"Condition":"{% 3 in $states.input.Items %}","Next":"F"}],"Default":"P"},
				"F":{"Type":"Fail","Error":"Boom"},
				"P":{"Type":"Pass","Output":"{% $count($states.input.Items) %}","End":true}}},"End":true}}}`
		out, _, mr, err := runDist(t, def, `{"items":[1,2,3,4,5],"conc":2,"tol":2,"pct":40,"batch":2}`)
		if err != nil {
			t.Fatal(err)
		}
		var got []any
		if json.Unmarshal(out, &got) != nil || len(got) != 3 || got[0] != 2.0 || got[2] != 1.0 {
			t.Errorf("output %s", out)
		}
		run := mr.last(t)
		if run.MaxConcurrency != 2 || run.ToleratedFailureCount != 2 || run.ToleratedFailurePercentage != 40 ||
			run.Executions.Total != 3 || run.Items.Failed != 2 {
			t.Errorf("map run %+v", run)
		}
		// The failed batch holds 2 of 5 items: 40% is over 39.9%.
		_, _, _, err = runDist(t, def, `{"items":[1,2,3,4,5],"conc":2,"tol":5,"pct":39.9,"batch":2}`)
		if ee := execErr(t, err); ee.Name != ErrExceedToleratedFailureThreshold {
			t.Errorf("got %v, want %s", ee, ErrExceedToleratedFailureThreshold)
		}
	})
}

// TestJSONataNull: a JSON null in the input or a variable is null to an
// expression, not undefined (https://docs.jsonata.org/processing: "null"
// is a JSON value; only a missing field is undefined).
func TestJSONataNull(t *testing.T) {
	def := `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"n":"{% $states.input.t %}"},
		"Output":{"v":"{% $states.input.t %}","isNull":"{% $states.input.t = null %}","arr":"{% $states.input.a %}"},"Next":"B"},
		"B":{"Type":"Pass","Output":{"prev":"{% $states.input %}","n":"{% $n %}"},"End":true}}}`
	out, _, err := run(t, def, `{"t":null,"a":[1,null]}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `{"prev":{"v":null,"isNull":true,"arr":[1,null]},"n":null}`)
	_, _, err = run(t, `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $states.input.missing %}","End":true}}}`, `{"t":null}`, nil)
	if ee := execErr(t, err); ee.Name != ErrQueryEvaluation {
		t.Errorf("a missing field: got %v, want %s", ee, ErrQueryEvaluation)
	}
}

// TestJSONataEvaluatorPanic: where jsonata-go's evaluator panics (a
// built-in function on arguments it does not check), the state fails with
// States.QueryEvaluationError, which a Catch sees, and the next
// evaluation runs: the process is not taken down, and the lock that
// serialises evaluations is released.
func TestJSONataEvaluatorPanic(t *testing.T) {
	for _, expr := range []string{
		`$pad("a", 1e308)`,              // makeslice: len out of range
		`$pad($states.input.s, -1e300)`, // the same, with the width negative
	} {
		t.Run(expr, func(t *testing.T) {
			b, _ := json.Marshal("{% " + expr + " %}")
			def := `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","Arguments":{"x":` + string(b) + `},
				"Catch":[{"ErrorEquals":["States.QueryEvaluationError"],"Output":"{% $states.errorOutput.Error %}","Next":"Q"}],"End":true},
				"Q":{"Type":"Pass","Output":{"caught":"{% $states.input %}","next":"{% $uppercase($states.context.State.Name) %}"},"End":true}}}`
			caughtBeforeTask(t, def, `{"s":"x"}`, `{"caught":"States.QueryEvaluationError","next":"Q"}`)
		})
	}
}

// TestJSONataFormatNumberExponent: jsonata-go's $formatNumber never
// returned on a zero or negative number with an exponent in the picture
// (it scales the number by 10 toward a mantissa it never reaches), holding
// the lock every evaluation takes; those are States.QueryEvaluationError,
// and every other picture formats as before.
func TestJSONataFormatNumberExponent(t *testing.T) {
	for expr, want := range map[string]string{
		`$formatNumber(0, "0e0")`:                                      "",
		`$formatNumber(-0, "0.0e0")`:                                   "",
		`$formatNumber(-1, "0.00e00")`:                                 "",
		`$formatNumber($states.input.n, "0;0e0")`:                      "",
		`$formatNumber(0, "0x0", {"exponent-separator": "x"})`:         "",
		`$map([1, 0], $formatNumber(?, "0e0"))`:                        "",
		`$formatNumber(1234.5678, "00.000e0")`:                         `"12.346e2"`,
		`$formatNumber(0.000123, "0.0e0")`:                             `"1.2e-4"`,
		`$formatNumber($states.input.n, "0e0;0")`:                      `"5"`,  // the negative subpicture has none
		`$formatNumber(0, "e0")`:                                       `"e0"`, // "e" is a prefix here, not an exponent
		`$formatNumber(-6, "000")`:                                     `"-006"`,
		`$formatNumber(0, "0x")`:                                       `"0x"`,
		`$states.input.n.$formatNumber("0.0")`:                         `"-5.0"`,
		`$formatNumber(1234.5, "#,##0x0", {"decimal-separator": "x"})`: `"1,234x5"`,
	} {
		t.Run(expr, func(t *testing.T) { passOutput(t, expr, `{"n":-5}`, want) })
	}
}

// TestJSONataDistinct: $distinct as jsonata-js defines it (an array less
// the elements deep-equal to an earlier one, anything else as it is):
// jsonata-go panicked on array elements, merged objects whose values
// print alike, and made a number null.
func TestJSONataDistinct(t *testing.T) {
	for expr, want := range map[string]string{
		`$distinct([[1], [1], [1, 2]])`:                       `[[1],[1,2]]`,
		`$distinct([{"a": 1}, {"a": "1"}, {"a": 1}])`:         `[{"a":1},{"a":"1"}]`,
		`$distinct([{"a": 1, "b": [2]}, {"b": [2], "a": 1}])`: `[{"a":1,"b":[2]}]`,
		`$distinct([1, "1", true, null, null, true, 1])`:      `[1,"1",true,null]`,
		`$distinct($states.input.x)`:                          `[1,[2]]`,
		`$distinct(1)`:                                        `1`,
		`$distinct("abc")`:                                    `"abc"`,
		`[$distinct($states.input.missing)]`:                  `[]`,
	} {
		t.Run(expr, func(t *testing.T) { passOutput(t, expr, `{"x":[1,[2],[2]]}`, want) })
	}
}

// TestJSONataKeyOrder: $keys, $each and $spread walk an object's keys in
// sorted order, the order efspipe writes objects in, at every evaluation;
// jsonata-go's own walked Go's random map order, so 26 keys came back
// sorted about once in 4e26 evaluations.
func TestJSONataKeyOrder(t *testing.T) {
	var obj, spreadWant []string
	letters := "zyxwvutsrqponmlkjihgfedcba"
	for i, c := range letters {
		obj = append(obj, fmt.Sprintf("%q:%d", string(c), i))
	}
	for i := len(letters) - 1; i >= 0; i-- {
		spreadWant = append(spreadWant, fmt.Sprintf(`{"%c":%d}`, letters[i], i))
	}
	sorted, _ := json.Marshal(strings.Split("abcdefghijklmnopqrstuvwxyz", ""))
	input := `{"o":{` + strings.Join(obj, ",") + `},"a":[{"b":1,"a":2},null,{"d":3,"c":4}]}`
	for expr, want := range map[string]string{
		`$keys($states.input.o)`:                            string(sorted),
		`$each($states.input.o, function($v, $k) { $k })`:   string(sorted),
		`$spread($states.input.o)`:                          "[" + strings.Join(spreadWant, ",") + "]",
		`$keys($states.input.a)`:                            `["a","b","c","d"]`,
		`$spread($states.input.a)`:                          `[{"a":2},{"b":1},null,{"c":4},{"d":3}]`,
		`$each({"b": 1, "a": 2}, function($v) { $v * 10 })`: `[20,10]`,
		`$each({"a": 1}, function($v, $k, $o) { $o })`:      `{"a":1}`,
		`[$keys({})]`: `[]`,
	} {
		t.Run(expr, func(t *testing.T) {
			for range 5 {
				passOutput(t, expr, input, want)
			}
		})
	}
}

// TestJSONataFunctionResult: a function is no JSON value. As
// JSON.stringify has it, a function result is undefined (the state
// fails), a function in an array is null and a member that is one is left
// out; jsonata-go encoded each as the string "".
func TestJSONataFunctionResult(t *testing.T) {
	for expr, want := range map[string]string{
		`$sum`:                "",
		`function($x) { $x }`: "",
		`$substring(?, 1)`:    "",
		`[$sum, 1]`:           `[null,1]`,
		`{"f": $sum, "a": [1, {"g": $uppercase}]}`: `{"a":[1,{}]}`,
		`$string($sum)`: `""`, // $string itself makes a function ""
	} {
		t.Run(expr, func(t *testing.T) { passOutput(t, expr, `{}`, want) })
	}
}

// passOutput runs a JSONata Pass state whose Output is {% expr %} on input
// and checks its output against want, JSON; want "" means the state fails
// with States.QueryEvaluationError.
func passOutput(t *testing.T, expr, input, want string) {
	t.Helper()
	b, _ := json.Marshal("{% " + expr + " %}")
	def := `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":` + string(b) + `,"End":true}}}`
	out, _, err := run(t, def, input, nil)
	if want == "" {
		if ee := execErr(t, err); ee.Name != ErrQueryEvaluation {
			t.Errorf("got %v, want %s", ee, ErrQueryEvaluation)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, want)
}

// TestJSONataElsewhere runs the JSONata tests again with every expression
// evaluated through Options.JSONata, as serve's worker processes do: the
// expression and its variables cross as JSON and EvalJSONata computes the
// value, so a state's output, error and cause are the same either way.
func TestJSONataElsewhere(t *testing.T) {
	var calls atomic.Int64
	jsonataElsewhere = func(_ context.Context, expr string, vars json.RawMessage) (json.RawMessage, error) {
		calls.Add(1)
		out, err := EvalJSONata(expr, vars)
		var je *JSONataError
		if errors.As(err, &je) {
			// What a worker writes back and its caller reads.
			b, _ := json.Marshal(je)
			var back JSONataError
			if err := json.Unmarshal(b, &back); err != nil {
				return nil, err
			}
			return nil, &back
		}
		return out, err
	}
	defer func() { jsonataElsewhere = nil }()
	for name, test := range map[string]func(*testing.T){
		"TransformingData":     TestTransformingDataJSONata,
		"FunctionsOfSF":        TestJSONataFunctionsOfStepFunctions,
		"QueryEvaluationError": TestJSONataQueryEvaluationError,
		"States":               TestJSONataStates,
		"NumericFields":        TestJSONataNumericFields,
		"Null":                 TestJSONataNull,
		"EvaluatorPanic":       TestJSONataEvaluatorPanic,
		"FormatNumberExponent": TestJSONataFormatNumberExponent,
		"Distinct":             TestJSONataDistinct,
		"FunctionResult":       TestJSONataFunctionResult,
		"KeyOrder":             TestJSONataKeyOrder,
		"ValueLimit":           TestJSONataValueLimit,
		"InvalidUTF8":          TestJSONataInvalidUTF8,
	} {
		t.Run(name, test)
	}
	if calls.Load() < 50 {
		t.Errorf("%d evaluations went through Options.JSONata", calls.Load())
	}
}

// TestJSONataElsewhereFails: an evaluator that fails (a worker process that
// died) is the state's States.QueryEvaluationError, which Catch sees; one
// stopped with the execution aborts it.
func TestJSONataElsewhereFails(t *testing.T) {
	def := `{"QueryLanguage":"JSONata","StartAt":"P","States":{
		"P":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Output":"{% $states.result.n + 1 %}","End":true,
		  "Catch":[{"ErrorEquals":["States.QueryEvaluationError"],"Output":"{% $states.errorOutput %}","Next":"Caught"}]},
		"Caught":{"Type":"Pass","End":true}}}`
	m := mustParse(t, def)
	r := newRecorder()
	opts := r.options(echo)
	opts.JSONata = func(_ context.Context, expr string, vars json.RawMessage) (json.RawMessage, error) {
		if strings.Contains(expr, "+ 1") {
			return nil, errors.New("the worker process ended: stack overflow")
		}
		return EvalJSONata(expr, vars)
	}
	out, err := m.Execute(t.Context(), json.RawMessage(`{"n":1}`), opts)
	if err != nil {
		t.Fatal(err)
	}
	var caught struct{ Error, Cause string }
	if json.Unmarshal(out, &caught); caught.Error != ErrQueryEvaluation || !strings.Contains(caught.Cause, "stack overflow") {
		t.Fatalf("output %s", out)
	}

	ctx, cancel := context.WithCancel(t.Context())
	opts.JSONata = func(ctx context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
		cancel()
		<-ctx.Done()
		return nil, errors.New("the worker process was killed")
	}
	if _, err := m.Execute(ctx, json.RawMessage(`{"n":1}`), opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped during an evaluation: %v, want the execution aborted", err)
	}
}

// TestJSONataValueLimit: an expression whose value is over MaxJSONataValue
// bytes of JSON is States.DataLimitExceeded, which States.ALL does not
// catch, wherever it is evaluated: a variable may not hold one, and serve
// does not take one into its process from a worker.
func TestJSONataValueLimit(t *testing.T) {
	const def = `{"QueryLanguage":"JSONata","StartAt":"A","States":{
		"A":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{
			"B":{"Type":"Pass","Assign":{"big":"{% $pad('a', $states.input.n) %}"},"Next":"C"},
			"C":{"Type":"Pass","Output":"{% $length($big) %}","End":true}}}],
			"Output":"{% $states.result[0] %}","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],"End":true},
		"Caught":{"Type":"Succeed"}}}`
	out, _, err := run(t, def, `{"n":1000}`, nil)
	if err != nil || string(out) != "1000" {
		t.Fatalf("a small value: %s, %v", out, err)
	}
	_, _, err = run(t, def, fmt.Sprintf(`{"n":%d}`, MaxJSONataValue), nil)
	ee := execErr(t, err)
	if ee.Name != ErrDataLimitExceeded || !strings.Contains(ee.Cause, "more than 16777216 bytes") {
		t.Fatalf("a value over the limit: %v", ee)
	}
}

// TestJSONataInvalidUTF8: a string jsonata-go makes that is not valid
// UTF-8 is, for the states after it, what JSON makes of it (U+FFFD for each
// invalid byte), as when it comes back from one of serve's workers;
// before, the next state read the raw bytes in process only.
func TestJSONataInvalidUTF8(t *testing.T) {
	const def = `{"QueryLanguage":"JSONata","StartAt":"A","States":{
		"A":{"Type":"Pass","Assign":{"v":"{% $base64decode('/w==') %}"},"Output":"{% {$base64decode('/w=='): $base64decode('/w==')} %}","Next":"B"},
		"B":{"Type":"Pass","Output":"{% [$base64encode($v), $base64encode($keys($states.input)[0]), $base64encode($states.input.*)] %}","End":true}}}`
	out, _, err := run(t, def, `{}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `["77+9","77+9","77+9"]`)
}

// caughtBeforeTask runs def, a Task whose Arguments fail to evaluate and
// whose Catch handles it, and checks that its output is want and that the
// Task never ran.
func caughtBeforeTask(t *testing.T, def, input, want string) {
	t.Helper()
	ri := &recordInvoke{}
	out, _, err := run(t, def, input, ri.invoke)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, want)
	if len(ri.inputs) != 0 {
		t.Errorf("the task ran with arguments that failed")
	}
}
