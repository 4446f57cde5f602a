package asl

import (
	"testing"
)

func TestPathEval(t *testing.T) {
	input := `{"a":{"b":1,"c d":[10,20,30]},"arr":[{"x":1},{"x":2},{"y":3}],"s":"str","n":null}`
	doc, err := decode([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want string // "" means: no match
	}{
		{"$", input},
		{"$.a.b", `1`},
		{"$['a']['b']", `1`},
		{`$["a"]["c d"][1]`, `20`},
		{"$.a['c d'][-1]", `30`},
		{"$.arr[1].x", `2`},
		{"$.n", `null`},
		{"$.arr[*].x", `[1,2]`},
		{"$.arr[0:2]", `[{"x":1},{"x":2}]`},
		{"$..x", `[1,2]`},
		{"$.a.*", `[1,[10,20,30]]`},
		{"$.missing[*]", `[]`},
		{"$.missing", ""},
		{"$.a.b.c", ""},
		{"$.arr[5]", ""},
		{"$.s[0]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, err := parsePath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := p.eval(doc)
			if tt.want == "" {
				if ok {
					t.Fatalf("matched %s, want no match", marshal(got))
				}
				return
			}
			if !ok {
				t.Fatal("no match")
			}
			jsonEq(t, marshal(got), tt.want)
		})
	}
}

func TestPathParseErrors(t *testing.T) {
	for _, s := range []string{"", "a.b", "$.", "$.a[", "$.a[?(@.x =~ /1/)]", "$.a[(@.length-1)]", "$.a[0,1]", "$..", "$.a]", "$['a"} {
		if _, err := parsePath(s); err == nil {
			t.Errorf("parsePath(%q) succeeded, want an error", s)
		}
	}
	for _, s := range []string{"$.a[*]", "$$.Execution.Id", "$..a"} {
		if _, err := parseRefPath(s); err == nil {
			t.Errorf("parseRefPath(%q) succeeded, want an error", s)
		}
	}
}

func TestResultPath(t *testing.T) {
	tests := []struct {
		name, resultPath, input, want string
	}{
		{"default replaces", ``, `{"a":1}`, `{"r":true}`},
		{"dollar replaces", `"ResultPath":"$",`, `{"a":1}`, `{"r":true}`},
		{"null discards", `"ResultPath":null,`, `{"a":1}`, `{"a":1}`},
		{"creates", `"ResultPath":"$.x.y",`, `{"a":1}`, `{"a":1,"x":{"y":{"r":true}}}`},
		{"merges", `"ResultPath":"$.x.y",`, `{"a":1,"x":{"z":2}}`, `{"a":1,"x":{"z":2,"y":{"r":true}}}`},
		{"overwrites", `"ResultPath":"$.a",`, `{"a":1}`, `{"a":{"r":true}}`},
		{"array element", `"ResultPath":"$.l[1]",`, `{"l":[0,1]}`, `{"l":[0,{"r":true}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"r":true},` + tt.resultPath + `"End":true}}}`
			out, _, err := run(t, def, tt.input, nil)
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, out, tt.want)
		})
	}
	t.Run("not an object", func(t *testing.T) {
		def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"ResultPath":"$.a.b","End":true}}}`
		_, _, err := run(t, def, `{"a":"s"}`, nil)
		if ee := execErr(t, err); ee.Name != ErrRuntime {
			t.Errorf("error %q, want %s", ee.Name, ErrRuntime)
		}
	})
}

func TestInputOutputPaths(t *testing.T) {
	tests := []struct {
		name, fields, input, want, wantErr string
	}{
		{"InputPath", `"InputPath":"$.a",`, `{"a":{"b":1}}`, `{"b":1}`, ""},
		{"InputPath null", `"InputPath":null,`, `{"a":1}`, `{}`, ""},
		{"OutputPath", `"OutputPath":"$.b",`, `{"a":1,"b":[2]}`, `[2]`, ""},
		{"OutputPath null", `"OutputPath":null,`, `{"a":1}`, `{}`, ""},
		{"Parameters", `"Parameters":{"x.$":"$.a","lit":"y","nested":{"z.$":"$.b[0]"},"list":[{"w.$":"$.a"}]},`, `{"a":1,"b":[2]}`, `{"x":1,"lit":"y","nested":{"z":2},"list":[{"w":1}]}`, ""},
		{"Parameters context", `"Parameters":{"id.$":"$$.Execution.Id","name.$":"$$.State.Name","sm.$":"$$.StateMachine.Name","in.$":"$$.Execution.Input.a","t.$":"$$.Execution.StartTime"},`, `{"a":1}`,
			`{"id":"arn:aws:states:us-east-1:123456789012:execution:local:exec-1","name":"P","sm":"local","in":1,"t":"2025-01-02T03:04:05.000Z"}`, ""},
		{"InputPath missing", `"InputPath":"$.nope",`, `{"a":1}`, ``, ErrRuntime},
		{"Parameters missing", `"Parameters":{"x.$":"$.nope"},`, `{"a":1}`, ``, ErrRuntime},
		{"OutputPath missing", `"OutputPath":"$.nope",`, `{"a":1}`, ``, ErrRuntime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := `{"StartAt":"P","States":{"P":{"Type":"Pass",` + tt.fields + `"End":true}}}`
			out, _, err := run(t, def, tt.input, nil)
			if tt.wantErr != "" {
				if ee := execErr(t, err); ee.Name != tt.wantErr {
					t.Errorf("error %q, want %q", ee.Name, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, out, tt.want)
		})
	}
}
