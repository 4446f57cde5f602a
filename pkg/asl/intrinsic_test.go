package asl

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestIntrinsics(t *testing.T) {
	input := `{"n":3,"s":"a,b,,c","arr":[1,2,2,3,"x",{"k":1},{"k":1}],"obj":{"a":1,"b":{"c":2}},"obj2":{"b":3},"name":"w\u00f6rld","json":"{\"q\":[1,2]}"}`
	tests := []struct {
		expr, want string
	}{
		{`States.Format('Hello, {}! {} {} {}', $.name, $.n, true, null)`, `"Hello, wörld! 3 true null"`},
		{`States.Format('it\'s \{literal\} {}', 'x')`, `"it's {literal} x"`},
		{`States.Format('{}', $$.State.Name)`, `"P"`},
		{`States.StringToJson($.json)`, `{"q":[1,2]}`},
		{`States.JsonToString($.obj)`, `"{\"a\":1,\"b\":{\"c\":2}}"`},
		{`States.Array(1, 'two', $.n, States.Array())`, `[1,"two",3,[]]`},
		{`States.ArrayPartition(States.ArrayRange(1, 5, 1), 2)`, `[[1,2],[3,4],[5]]`},
		{`States.ArrayContains($.arr, 'x')`, `true`},
		{`States.ArrayContains($.arr, 9)`, `false`},
		{`States.ArrayRange(0, $.n, 1)`, `[0,1,2,3]`},
		{`States.ArrayRange(1, 9, 2)`, `[1,3,5,7,9]`},
		{`States.ArrayRange(5, 1, -2)`, `[5,3,1]`},
		{`States.ArrayRange(0, -1, 1)`, `[]`},
		{`States.ArrayGetItem($.arr, 4)`, `"x"`},
		{`States.ArrayLength($.arr)`, `7`},
		{`States.ArrayUnique($.arr)`, `[1,2,3,"x",{"k":1}]`},
		{`States.Base64Encode('Data to encode')`, `"RGF0YSB0byBlbmNvZGU="`},
		{`States.Base64Decode('RGF0YSB0byBlbmNvZGU=')`, `"Data to encode"`},
		{`States.Hash('input data', 'SHA-1')`, `"aaff4a450a104cd177d28d18d74485e8cae074b7"`},
		{`States.Hash('abc', 'SHA-256')`, `"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"`},
		{`States.Hash('abc', 'MD5')`, `"900150983cd24fb0d6963f7d28e17f72"`},
		{`States.JsonMerge($.obj, $.obj2, false)`, `{"a":1,"b":3}`},
		{`States.MathAdd($.n, -5)`, `-2`},
		// Non-integer arguments are rounded to the nearest integer
		// (https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html,
		// States.MathAdd, States.MathRandom, States.ArrayRange,
		// States.ArrayPartition).
		{`States.MathAdd(2.2, 3)`, `5`},
		{`States.MathAdd(-2.7, 0.6)`, `-2`},
		{`States.ArrayRange(0.4, 2.6, 1.2)`, `[0,1,2,3]`},
		{`States.ArrayPartition(States.Array(1, 2, 3), 1.6)`, `[[1,2],[3]]`},
		{`States.MathRandom(4.6, 5.5)`, `5`},
		{`States.StringSplit($.s, ',')`, `["a","b","c"]`},
		{`States.StringSplit('This.is+a,test=string', '.+,=')`, `["This","is","a","test","string"]`},
		{`States.ArrayLength(States.StringSplit('a b', ' '))`, `2`},
		// Ends whose distance overflows int64 (the step, too).
		{`States.ArrayRange(-9223372036854775808, 9223372036854775807, 9223372036854775807)`, `[-9223372036854775808,-1,9223372036854775806]`},
		{`States.ArrayRange(9223372036854775807, -9223372036854775808, -9223372036854775808)`, `[9223372036854775807,-1]`},
		{`States.MathAdd(9223372036854775806, 1)`, `9223372036854775807`},
		{`States.MathRandom(-9223372036854775808, -9223372036854775807)`, `-9223372036854775808`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			def, _ := json.Marshal(map[string]any{"StartAt": "P", "States": map[string]any{"P": map[string]any{
				"Type": "Pass", "Parameters": map[string]any{"v.$": tt.expr}, "OutputPath": "$.v", "End": true}}})
			out, _, err := run(t, string(def), input, nil)
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, out, tt.want)
		})
	}
}

func TestIntrinsicsRandom(t *testing.T) {
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"u.$":"States.UUID()","r.$":"States.MathRandom(1, 10)","s1.$":"States.MathRandom(0, 1000000, 7)","s2.$":"States.MathRandom(0, 1000000, 7)"},"End":true}}}`
	out, _, err := run(t, def, `{}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		U      string
		R      int
		S1, S2 int
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.U) != 36 || v.U[14] != '4' {
		t.Errorf("UUID %q is not a version 4 UUID", v.U)
	}
	if v.R < 1 || v.R >= 10 {
		t.Errorf("MathRandom(1, 10) = %d", v.R)
	}
	if v.S1 != v.S2 {
		t.Errorf("seeded MathRandom differs: %d, %d", v.S1, v.S2)
	}

	// Ends whose distance overflows int64: Int64N panicked on it,
	// taking the process down.
	def = `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"r.$":"States.MathRandom(-9223372036854775808, 9223372036854775807)"},"End":true}}}`
	if _, _, err := run(t, def, `{}`, nil); err != nil {
		t.Fatal(err)
	}
}

func TestIntrinsicFailures(t *testing.T) {
	for _, expr := range []string{
		`States.ArrayRange(0, 1000, 1)`,
		`States.ArrayRange(0, 10, 0)`,
		`States.ArrayRange(0, 'one', 1)`,
		`States.MathAdd(1, 'two')`,
		`States.Format('{} {}', 'one')`,
		`States.Format('{}', $.obj)`,
		`States.StringToJson('{bad')`,
		`States.ArrayGetItem($.arr, 9)`,
		`States.JsonMerge($.obj, $.obj, true)`,
		`States.Hash('x', 'SHA-3')`,
		`States.ArrayLength($.obj)`,
		`States.ArrayLength($.missing)`,
		`States.Base64Decode('***')`,
		`States.MathRandom(5, 1)`,
		// Overflows of int64: the range had 0 elements, the sum wrapped.
		`States.ArrayRange(-9223372036854775808, 9223372036854775807, 1)`,
		`States.ArrayRange(9223372036854775807, -9223372036854775808, -1)`,
		`States.MathAdd(9223372036854775807, 1)`,
		`States.MathAdd(-9223372036854775808, -1)`,
	} {
		t.Run(expr, func(t *testing.T) {
			def, _ := json.Marshal(map[string]any{"StartAt": "P", "States": map[string]any{"P": map[string]any{
				"Type": "Pass", "Parameters": map[string]any{"v.$": expr}, "End": true}}})
			_, _, err := run(t, string(def), `{"obj":{"a":1},"arr":[1]}`, nil)
			if ee := execErr(t, err); ee.Name != ErrRuntime || !strings.Contains(ee.Cause, "States.") && !strings.Contains(ee.Cause, "JSONPath") {
				t.Errorf("got %v, want a States.Runtime error naming the function", ee)
			}
		})
	}
}

func TestIntrinsicParseErrors(t *testing.T) {
	for _, expr := range []string{
		`States.Nope(1)`,
		`States.ArrayRange(1, 2)`,
		`States.UUID(1)`,
		`States.Format('unterminated)`,
		`States.Array(1,)`,
		`States.Array(1) trailing`,
		`States.Array(1`,
		`States.Array(@)`,
	} {
		if _, err := parseIntrinsic(expr); err == nil {
			t.Errorf("parseIntrinsic(%q) succeeded, want an error", expr)
		}
	}
}
