package asl

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestWorkflowVariables follows
// https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html:
// a state's Assign sets variables that later states read as $name, in
// JSONPath (paths, Parameters, intrinsics, Choice rules) and in JSONata.
func TestWorkflowVariables(t *testing.T) {
	tests := []struct {
		name, def, input, want string
	}{
		{
			name: "JSONPath: literals, paths, intrinsics, then $name in Parameters",
			def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"productName":"product1","count":42,"available":true,"order.$":"$.order","ids.$":"States.Array($.order.id, 2)"},"Next":"B"},
				"B":{"Type":"Pass","Parameters":{"p.$":"$productName","c.$":"$count","a.$":"$available","id.$":"$order.id","first.$":"$ids[0]","s.$":"States.Format('{} x{}', $productName, $count)"},"End":true}}}`,
			input: `{"order":{"id":7}}`,
			want:  `{"p":"product1","c":42,"a":true,"id":7,"first":7,"s":"product1 x42"}`,
		},
		{
			name: "JSONata: $name in expressions",
			def: `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"x":"{% $states.input.a %}","y":[1,"{% $states.input.a * 2 %}"]},"Next":"B"},
				"B":{"Type":"Pass","Output":{"sum":"{% $x + $sum($y) %}"},"End":true}}}`,
			input: `{"a":5}`, want: `{"sum":16}`,
		},
		{
			// "Variables are assigned after the state's fields are evaluated":
			// Assign and Output see the values from state entry.
			name: "values from state entry",
			def: `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"x":1},"Next":"B"},
				"B":{"Type":"Pass","Assign":{"x":"{% $x + 1 %}","old":"{% $x %}"},"Output":{"x":"{% $x %}"},"Next":"C"},
				"C":{"Type":"Pass","Output":{"x":"{% $x %}","old":"{% $old %}","before":"{% $states.input.x %}"},"End":true}}}`,
			input: `{}`, want: `{"x":2,"old":1,"before":1}`,
		},
		{
			// JSONPath: a Task's Assign sees the result (after ResultSelector)
			// as $; ResultPath and OutputPath still shape the output.
			name: "JSONPath Task Assign sees the selected result",
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","ResultSelector":{"v.$":"$.in"},"Assign":{"got.$":"$.v"},"ResultPath":"$.r","Next":"U"},
				"U":{"Type":"Pass","Parameters":{"got.$":"$got","r.$":"$.r"},"End":true}}}`,
			input: `{"in":3}`, want: `{"got":3,"r":{"v":3}}`,
		},
		{
			name: "JSONata Task Assign sees $states.result",
			def: `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","Assign":{"got":"{% $states.result.in %}"},"Output":{},"Next":"U"},
				"U":{"Type":"Pass","Output":"{% $got %}","End":true}}}`,
			input: `{"in":3}`, want: `3`,
		},
		{
			name: "Choice Variable and *Path read variables",
			def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"limit":10,"cfg":{"mode":"fast"}},"Next":"C"},
				"C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$cfg.mode","StringEquals":"fast"},{"Variable":"$.n","NumericLessThanPath":"$limit"}],"Next":"Yes"}],"Default":"No"},
				"Yes":{"Type":"Pass","Result":"yes","End":true},"No":{"Type":"Pass","Result":"no","End":true}}}`,
			input: `{"n":3}`, want: `"yes"`,
		},
		{
			name: "variables in a JSONPath state are read by a JSONata state and back",
			def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"a.$":"$.v"},"Next":"B"},
				"B":{"Type":"Pass","QueryLanguage":"JSONata","Assign":{"b":"{% $a * 3 %}"},"Next":"C"},
				"C":{"Type":"Pass","Parameters":{"b.$":"$b"},"End":true}}}`,
			input: `{"v":2}`, want: `{"b":6}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := run(t, tt.def, tt.input, echo)
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, out, tt.want)
		})
	}
	t.Run("an unassigned variable", func(t *testing.T) {
		def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"$nope"},"End":true}}}`
		_, _, err := run(t, def, `{}`, nil)
		if ee := execErr(t, err); ee.Name != ErrRuntime {
			t.Errorf("got %v, want %s", ee, ErrRuntime)
		}
	})
}

// TestVariableScope: Map iterations and Parallel branches read the
// variables around them, and what they assign stays in them
// (workflow-variables.html, "Variable scope"; that an inner scope cannot
// assign an outer name is refused by Parse, see TestParseErrors).
func TestVariableScope(t *testing.T) {
	t.Run("Map", func(t *testing.T) {
		def := `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"factor":10},"Next":"M"},
			"M":{"Type":"Map","Items":"{% $states.input %}","ItemProcessor":{"StartAt":"I","States":{
				"I":{"Type":"Pass","Assign":{"mine":"{% $states.input * $factor %}"},"Next":"J"},
				"J":{"Type":"Pass","Output":"{% $mine %}","End":true}}},
			"Assign":{"results":"{% $states.result %}"},"Next":"After"},
			"After":{"Type":"Pass","Output":{"results":"{% $results %}","leaked":"{% $exists($mine) %}","factor":"{% $factor %}"},"End":true}}}`
		out, _, err := run(t, def, `[1,2,3]`, nil)
		if err != nil {
			t.Fatal(err)
		}
		jsonEq(t, out, `{"results":[10,20,30],"leaked":false,"factor":10}`)
	})
	t.Run("Parallel", func(t *testing.T) {
		def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"base":"b"},"Next":"P"},
			"P":{"Type":"Parallel","Branches":[
				{"StartAt":"X","States":{"X":{"Type":"Pass","Assign":{"local":1},"Next":"X2"},"X2":{"Type":"Pass","Parameters":{"base.$":"$base","local.$":"$local"},"End":true}}},
				{"StartAt":"Y","States":{"Y":{"Type":"Pass","Assign":{"local":2},"Next":"Y2"},"Y2":{"Type":"Pass","Parameters":{"local.$":"$local"},"End":true}}}],
			"Next":"After"},
			"After":{"Type":"Pass","Parameters":{"l.$":"$local"},"End":true}}}`
		_, _, err := run(t, def, `{}`, nil)
		var ee *ExecutionError
		if !errors.As(err, &ee) || ee.Name != ErrRuntime {
			t.Fatalf("reading a branch's variable after the Parallel: got %v, want %s", err, ErrRuntime)
		}
		def = `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"base":"b"},"Next":"P"},
			"P":{"Type":"Parallel","Branches":[
				{"StartAt":"X","States":{"X":{"Type":"Pass","Assign":{"local":1},"Next":"X2"},"X2":{"Type":"Pass","Parameters":{"base.$":"$base","local.$":"$local"},"End":true}}},
				{"StartAt":"Y","States":{"Y":{"Type":"Pass","Assign":{"local":2},"Next":"Y2"},"Y2":{"Type":"Pass","Parameters":{"local.$":"$local"},"End":true}}}],
			"End":true}}}`
		out, _, err := run(t, def, `{}`, nil)
		if err != nil {
			t.Fatal(err)
		}
		jsonEq(t, out, `[{"base":"b","local":1},{"local":2}]`)
	})
}

// TestAssignInChoiceAndCatch: a Choice rule's Assign applies when that rule
// matches, together with the state's Assign (state-choice.html); a
// catcher's Assign replaces the state's when the error is caught
// (workflow-variables.html, concepts-error-handling.html).
func TestAssignInChoiceAndCatch(t *testing.T) {
	t.Run("Choice rules, JSONPath", func(t *testing.T) {
		def := `{"StartAt":"C","States":{"C":{"Type":"Choice","Assign":{"seen.$":"$.n"},"Choices":[
			{"Variable":"$.n","NumericGreaterThan":5,"Assign":{"size":"big"},"Next":"Out"},
			{"Variable":"$.n","NumericGreaterThan":2,"Assign":{"size":"medium"},"Next":"Out"}],"Default":"Small"},
			"Small":{"Type":"Pass","Assign":{"size":"small"},"Next":"Out"},
			"Out":{"Type":"Pass","Parameters":{"size.$":"$size","seen.$":"$seen"},"End":true}}}`
		for in, want := range map[string]string{`{"n":9}`: `{"size":"big","seen":9}`, `{"n":3}`: `{"size":"medium","seen":3}`, `{"n":1}`: `{"size":"small","seen":1}`} {
			out, _, err := run(t, def, in, nil)
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, out, want)
		}
	})
	t.Run("Choice rules, JSONata", func(t *testing.T) {
		def := `{"QueryLanguage":"JSONata","StartAt":"C","States":{"C":{"Type":"Choice","Choices":[
			{"Condition":"{% $states.input.n > 5 %}","Assign":{"size":"big"},"Next":"Out"}],"Default":"Out","Assign":{"n":"{% $states.input.n %}"}},
			"Out":{"Type":"Pass","Output":{"size":"{% $exists($size) ? $size : 'none' %}","n":"{% $n %}"},"End":true}}}`
		for in, want := range map[string]string{`{"n":9}`: `{"size":"big","n":9}`, `{"n":1}`: `{"size":"none","n":1}`} {
			out, _, err := run(t, def, in, nil)
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, out, want)
		}
	})
	t.Run("Catch, JSONPath", func(t *testing.T) {
		def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","Assign":{"ok":true},
			"Catch":[{"ErrorEquals":["E"],"Assign":{"err.$":"$.Error","cause.$":"$.Cause"},"ResultPath":null,"Next":"H"}],"End":true},
			"H":{"Type":"Pass","Parameters":{"err.$":"$err","cause.$":"$cause","in.$":"$.in"},"End":true}}}`
		invoke, _ := failing(1, &TaskError{"E", "why"})
		out, _, err := run(t, def, `{"in":1}`, invoke)
		if err != nil {
			t.Fatal(err)
		}
		jsonEq(t, out, `{"err":"E","cause":"why","in":1}`)
		def = `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","Assign":{"ok":true},
			"Catch":[{"ErrorEquals":["E"],"Next":"H"}],"End":true},"H":{"Type":"Pass","Parameters":{"ok.$":"$ok"},"End":true}}}`
		invoke, _ = failing(1, &TaskError{"E", "why"})
		if _, _, err = run(t, def, `{}`, invoke); err == nil {
			t.Errorf("the state's Assign was applied although the error was caught")
		}
	})
	t.Run("Catch, JSONata", func(t *testing.T) {
		def := `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `",
			"Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"failure":"{% $states.errorOutput %}","input":"{% $states.input %}"},"Output":{},"Next":"H"}],"End":true},
			"H":{"Type":"Pass","Output":{"f":"{% $failure %}","i":"{% $input %}"},"End":true}}}`
		invoke, _ := failing(1, &TaskError{"E", "why"})
		out, _, err := run(t, def, `{"in":1}`, invoke)
		if err != nil {
			t.Fatal(err)
		}
		jsonEq(t, out, `{"f":{"Error":"E","Cause":"why"},"i":{"in":1}}`)
	})
}

// TestRedriveRestoresVariables: StateExited events record the variables a
// state assigned (assignedVariables, as in AWS's history), and a redrive
// gives the rerun states the values their thread had assigned: at the top
// level and inside a Map iteration.
func TestRedriveRestoresVariables(t *testing.T) {
	def := `{"StartAt":"A","States":{
	  "A":{"Type":"Pass","Assign":{"x":1,"who.$":"$.who"},"Next":"B"},
	  "B":{"Type":"Pass","Assign":{"x":2,"items":[10,20]},"Next":"M"},
	  "M":{"Type":"Map","ItemsPath":"$.items","ResultPath":"$.m","ItemProcessor":{"StartAt":"I1","States":{
	      "I1":{"Type":"Pass","Assign":{"mine.$":"$"},"Next":"I2"},
	      "I2":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:inner","Parameters":{"mine.$":"$mine","x.$":"$x"},"End":true}}},
	    "Next":"T"},
	  "T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:t","Parameters":{"x.$":"$x","who.$":"$who","m.$":"$.m"},"End":true}}}`
	m := mustParse(t, def)
	var c calls
	invoke := func(_ context.Context, res string, in json.RawMessage) (json.RawMessage, error) {
		n := c.add(res + " " + string(in))
		if n == 1 && (string(in) == `{"mine":20,"x":2}` || strings.HasSuffix(res, ":t")) {
			return nil, &TaskError{Name: "Flaky", Cause: "first try"}
		}
		return in, nil
	}
	r := newRecorder()
	var history []Event
	_, err := m.Execute(context.Background(), json.RawMessage(`{"who":"me","items":[10,20]}`), r.options(invoke))
	for attempt := 0; err != nil; attempt++ {
		if attempt == 3 {
			t.Fatalf("still failing: %v", err)
		}
		history = roundTrip(t, append(history, r.events...))
		r = newRecorder()
		_, err = m.Redrive(context.Background(), history, r.options(invoke))
	}
	// Two redrives: the first reruns the failed iteration (item 20), the
	// second the failed T; neither reruns A or B.
	entered, redriven := 0, 0
	for _, e := range append(history, r.events...) {
		if d := e.StateEnteredEventDetails; d != nil && (d.Name == "A" || d.Name == "B") {
			entered++
		}
		if e.Type == "ExecutionRedriven" {
			redriven++
		}
		if d := e.StateExitedEventDetails; d != nil && d.Name == "B" {
			if !reflect.DeepEqual(d.AssignedVariables, map[string]string{"x": "2", "items": "[10,20]"}) {
				t.Errorf("B's StateExited records %v", d.AssignedVariables)
			}
		}
	}
	if entered != 2 || redriven != 2 {
		t.Errorf("A and B entered %d times, %d redrives; want 2 and 2", entered, redriven)
	}
	if n := c.get(`arn:aws:lambda:us-east-1:1:function:inner {"mine":10,"x":2}`); n != 1 {
		t.Errorf("the iteration that succeeded ran %d times", n)
	}
	if n := c.get(`arn:aws:lambda:us-east-1:1:function:inner {"mine":20,"x":2}`); n != 2 {
		t.Errorf("the failed iteration ran %d times, want 2 with its variables", n)
	}
	last := r.events[len(r.events)-1]
	if last.Type != "ExecutionSucceeded" {
		t.Fatalf("the redrive ended in %s", last.Type)
	}
	jsonEq(t, []byte(last.ExecutionSucceededEventDetails.Output), `{"x":2,"who":"me","m":[{"mine":10,"x":2},{"mine":20,"x":2}]}`)
}

// TestRedriveRefusesUnrecordedVariables: a history whose StateExited
// events do not record what an Assign assigned (written before they were
// recorded) is not redriven with the variables missing.
func TestRedriveRefusesUnrecordedVariables(t *testing.T) {
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"x":1},"Next":"F"},"F":{"Type":"Fail","Error":"E"}}}`
	m := mustParse(t, def)
	r := newRecorder()
	if _, err := m.Execute(context.Background(), json.RawMessage(`{}`), r.options(nil)); err == nil {
		t.Fatal("the execution succeeded")
	}
	for _, e := range r.events {
		if e.StateExitedEventDetails != nil {
			e.StateExitedEventDetails.AssignedVariables = nil
		}
	}
	_, err := m.Redrive(context.Background(), r.events, r.options(nil))
	var nr *NotRedrivableError
	if !errors.As(err, &nr) || !strings.Contains(nr.Reason, "does not record") {
		t.Fatalf("Redrive: %v, want a *NotRedrivableError", err)
	}
}
