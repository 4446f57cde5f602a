package asl

import (
	"encoding/json"
	"testing"
)

func TestChoiceRules(t *testing.T) {
	input := `{"s":"hello","n":5,"f":1.5,"b":true,"z":null,"ts":"2024-03-14T01:59:00Z","ts2":"2024-03-14T02:00:00+01:00","m":5,"file":"log*.txt"}`
	tests := []struct {
		rule string
		want bool
	}{
		{`{"Variable":"$.s","StringEquals":"hello"}`, true},
		{`{"Variable":"$.s","StringEquals":"Hello"}`, false},
		{`{"Variable":"$.n","StringEquals":"5"}`, false},
		{`{"Variable":"$.s","StringLessThan":"world"}`, true},
		{`{"Variable":"$.s","StringGreaterThanEquals":"hello"}`, true},
		{`{"Variable":"$.s","StringLessThanEquals":"hell"}`, false},
		{`{"Variable":"$.s","StringEqualsPath":"$.s"}`, true},
		{`{"Variable":"$.s","StringMatches":"h*o"}`, true},
		{`{"Variable":"$.s","StringMatches":"*ll*"}`, true},
		{`{"Variable":"$.s","StringMatches":"h*x"}`, false},
		{`{"Variable":"$.file","StringMatches":"log\\*.txt"}`, true},
		{`{"Variable":"$.s","StringMatches":"log\\*.txt"}`, false},
		{`{"Variable":"$.n","NumericEquals":5}`, true},
		{`{"Variable":"$.n","NumericEquals":5.0}`, true},
		{`{"Variable":"$.s","NumericEquals":5}`, false},
		{`{"Variable":"$.f","NumericLessThan":2}`, true},
		{`{"Variable":"$.f","NumericGreaterThan":2}`, false},
		{`{"Variable":"$.n","NumericGreaterThanEquals":5}`, true},
		{`{"Variable":"$.n","NumericLessThanEquals":4}`, false},
		{`{"Variable":"$.n","NumericEqualsPath":"$.m"}`, true},
		{`{"Variable":"$.f","NumericLessThanPath":"$.n"}`, true},
		{`{"Variable":"$.b","BooleanEquals":true}`, true},
		{`{"Variable":"$.b","BooleanEqualsPath":"$.b"}`, true},
		{`{"Variable":"$.ts","TimestampEquals":"2024-03-14T01:59:00Z"}`, true},
		{`{"Variable":"$.ts","TimestampLessThan":"2024-03-14T02:00:00Z"}`, true},
		{`{"Variable":"$.ts2","TimestampLessThanPath":"$.ts"}`, true},
		{`{"Variable":"$.ts","TimestampGreaterThanEquals":"2024-03-14T01:59:00Z"}`, true},
		{`{"Variable":"$.s","TimestampGreaterThan":"2024-03-14T01:59:00Z"}`, false},
		{`{"Variable":"$.z","IsNull":true}`, true},
		{`{"Variable":"$.s","IsNull":true}`, false},
		{`{"Variable":"$.nope","IsPresent":false}`, true},
		{`{"Variable":"$.s","IsPresent":true}`, true},
		{`{"Variable":"$.n","IsNumeric":true}`, true},
		{`{"Variable":"$.s","IsString":true}`, true},
		{`{"Variable":"$.b","IsBoolean":false}`, false},
		{`{"Variable":"$.ts","IsTimestamp":true}`, true},
		{`{"Variable":"$.s","IsTimestamp":true}`, false},
		{`{"And":[{"Variable":"$.n","NumericGreaterThan":1},{"Variable":"$.b","BooleanEquals":true}]}`, true},
		{`{"And":[{"Variable":"$.n","NumericGreaterThan":1},{"Variable":"$.b","BooleanEquals":false}]}`, false},
		{`{"Or":[{"Variable":"$.n","NumericGreaterThan":10},{"Variable":"$.b","BooleanEquals":true}]}`, true},
		{`{"Not":{"Variable":"$.s","StringEquals":"hello"}}`, false},
		{`{"Not":{"Variable":"$.nope","IsPresent":true}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			var r map[string]any
			if err := json.Unmarshal([]byte(tt.rule), &r); err != nil {
				t.Fatal(err)
			}
			r["Next"] = "Yes"
			def, _ := json.Marshal(map[string]any{"StartAt": "C", "States": map[string]any{
				"C":   map[string]any{"Type": "Choice", "Choices": []any{r}, "Default": "No"},
				"Yes": map[string]any{"Type": "Pass", "Result": true, "End": true},
				"No":  map[string]any{"Type": "Pass", "Result": false, "End": true},
			}})
			out, _, err := run(t, string(def), input, nil)
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, out, map[bool]string{true: "true", false: "false"}[tt.want])
		})
	}
}

func TestChoiceErrors(t *testing.T) {
	def := `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":1,"Next":"D"}]},"D":{"Type":"Succeed"}}}`
	_, _, err := run(t, def, `{"x":2}`, nil)
	if ee := execErr(t, err); ee.Name != ErrNoChoiceMatched {
		t.Errorf("no match: got %v", ee)
	}
	_, _, err = run(t, def, `{}`, nil)
	if ee := execErr(t, err); ee.Name != ErrRuntime {
		t.Errorf("missing variable: got %v", ee)
	}
	out, _, err := run(t, def, `{"x":1}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `{"x":1}`)
}

func TestStringMatches(t *testing.T) {
	tests := []struct {
		s, pattern string
		want       bool
	}{
		{"", "", true},
		{"", "*", true},
		{"abc", "abc", true},
		{"abc", "a*", true},
		{"abc", "*c", true},
		{"abc", "a*b*c", true},
		{"abc", "a*d", false},
		{"a*c", `a\*c`, true},
		{"abc", `a\*c`, false},
		{`a\c`, `a\\c`, true},
		{"mississippi", "*sip*", true},
		{"mississippi", "m*ss*pi", true},
	}
	for _, tt := range tests {
		if got := stringMatches(tt.s, tt.pattern); got != tt.want {
			t.Errorf("stringMatches(%q, %q) = %v, want %v", tt.s, tt.pattern, got, tt.want)
		}
	}
}
