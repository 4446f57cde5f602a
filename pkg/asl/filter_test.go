package asl

import (
	"errors"
	"strings"
	"testing"
)

// TestFilterPaths checks JsonPath filters against the paths page
// (https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html)
// and, where the page is silent, Jayway JsonPath's rules (filter.go).
func TestFilterPaths(t *testing.T) {
	// The page's example input, with "items" and "obj" added for the
	// other operators.
	input := `{"foo":123,"bar":["a","b","c"],"car":{"cdr":true},"jar":[{"a":1},{"a":5},{"a":2},{"a":7},{"a":3}],
		"items":[{"name":"x","size":5},{"name":"y","size":20},{"name":"z","size":null},{"name":"it's","size":"20"},7,[1]],
		"obj":{"size":20}}`
	doc, err := decode([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, want string }{
		// The page: $.jar[?(@.a >= 5)] => [{"a": 5}, {"a": 7}].
		{"$.jar[?(@.a >= 5)]", `[{"a":5},{"a":7}]`},
		// The page: @ "does not match scalar values. It only matches objects."
		{"$.bar[?(@ == 'a')]", `[]`},
		{"$.items[?(@.size > 10)]", `[{"name":"y","size":20}]`},
		{"$.items[?(@.size > 10)].name", `["y"]`},
		{"$.items[?(@.name == 'x')]", `[{"name":"x","size":5}]`},
		{`$.items[?(@.name == "it's")].size`, `["20"]`},
		{"$.items[?(@['name'] != 'x')].name", `["y","z","it's"]`},
		{"$.items[?(@.size < 10 || @.name == 'y')].name", `["x","y"]`},
		{"$.items[?(@.size >= 5 && @.size <= 5)].name", `["x"]`},
		{"$.items[?(@.size > 1 && (@.name == 'x' || @.name == 'y'))].name", `["x","y"]`},
		{"$.items[?(!(@.size > 10))].name", `["x","z","it's"]`},
		// Existence: a null value exists; a missing one does not.
		{"$.items[?(@.size)].name", `["x","y","z","it's"]`},
		{"$.items[?(!@.size)]", `[]`},
		{"$.items[?(@.size == null)].name", `["z"]`},
		// A number and a string holding it are equal (Jayway's
		// NumberNode/StringNode); ordering needs two numbers or two strings.
		{"$.items[?(@.size == 20)].name", `["y","it's"]`},
		{"$.items[?(@.size >= 20)].name", `["y"]`},
		{"$.items[?(@.name > 'x')].name", `["y","z"]`},
		{"$.items[?(@.size == 2e1)].name", `["y","it's"]`},
		// A missing value is unequal to everything and unordered.
		{"$.jar[?(@.b != 1)].a", `[1,5,2,7,3]`},
		{"$.jar[?(@.b < 1)]", `[]`},
		// On an object the predicate tests the object itself.
		{"$.obj[?(@.size > 10)]", `[{"size":20}]`},
		{"$.obj[?(@.size > 30)]", `[]`},
		{"$.foo[?(@.a)]", `[]`},
		{"$.missing[?(@.a)]", `[]`},
		{"$..jar[?(@.a == 7)]", `[{"a":7}]`},
	} {
		t.Run(tt.path, func(t *testing.T) {
			p, err := parsePath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := p.eval(doc)
			if !ok {
				t.Fatal("no match")
			}
			jsonEq(t, marshal(got), tt.want)
		})
	}
}

func TestFilterParseErrors(t *testing.T) {
	for _, tt := range []struct{ path, msg string }{
		// The page: "Filtering by regular expression or by referencing
		// another value in the JSON structure isn't supported."
		{"$.a[?(@.x =~ /a.*/)]", "not supported"},
		{"$.a[?(@.x == $.y)]", "another value"},
		{"$.a[?(@.x in ['a'])]", `"in" is not supported`},
		{"$.a[?(@.x subsetof ['a'])]", "not supported"},
		{"$.a[?(@.x.length() > 1)]", "functions are not supported"},
		{"$.a[?(@.x[*] == 1)]", "one value"},
		{"$.a[?(@.x === 1)]", "not supported"},
		{"$.a[?(@.x == 1]", "expected ')'"},
		{"$.a[?(1)]", "literal alone"},
		{"$.a[?@.x]", "[?(...)]"},
		{"$.a[?(@.x == 'a)]", "unterminated"},
	} {
		_, err := parsePath(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("parsePath(%q) = %v, want an error with %q", tt.path, err, tt.msg)
		}
	}
	// ResultPath writes one node: no filter.
	if _, err := parseRefPath("$.a[?(@.b)]"); err == nil {
		t.Error("parseRefPath accepted a filter")
	}
}

// TestFilterInStates runs filters where a machine writes them: InputPath,
// OutputPath, Parameters (a path and an intrinsic's argument),
// ResultSelector and a Map's ItemsPath.
func TestFilterInStates(t *testing.T) {
	def := `{"StartAt":"P","States":{
	  "P":{"Type":"Pass","InputPath":"$.order","Parameters":{
	      "big.$":"$.lines[?(@.qty > 1)].sku",
	      "n.$":"States.ArrayLength($.lines[?(@.qty > 1 && @.sku != 'c')])"},
	    "ResultPath":"$.sel","Next":"M"},
	  "M":{"Type":"Map","ItemsPath":"$.order.lines[?(@.qty >= 2)]","ItemProcessor":{"StartAt":"I","States":{
	      "I":{"Type":"Pass","OutputPath":"$.sku","End":true}}},
	    "ResultPath":"$.mapped","OutputPath":"$[?(@.sel)]","End":true}}}`
	out, _, err := run(t, def, `{"order":{"lines":[{"sku":"a","qty":1},{"sku":"b","qty":2},{"sku":"c","qty":3}]}}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `[{"order":{"lines":[{"sku":"a","qty":1},{"sku":"b","qty":2},{"sku":"c","qty":3}]},"sel":{"big":["b","c"],"n":1},"mapped":["b","c"]}]`)
	for _, f := range []string{"ResultPath", "MaxConcurrencyPath"} {
		def := `{"StartAt":"M","States":{"M":{"Type":"Map","` + f + `":"$.a[?(@.b)]","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Succeed"}}},"End":true}}}`
		var de *DefinitionError
		if _, err := Parse([]byte(def)); !errors.As(err, &de) || de.Field != f {
			t.Errorf("%s with a filter: %v, want a DefinitionError naming the field", f, err)
		}
	}
}

// FuzzFilterPath checks that parsing and evaluating filters never panics.
func FuzzFilterPath(f *testing.F) {
	for _, s := range []string{"$.jar[?(@.a >= 5)]", "$.a[?(@.b == 'x' || !(@.c < 1e3))].d", `$[?(@['x y'] != "z")]`, "$..a[?(@)]"} {
		f.Add(s)
	}
	doc, err := decode([]byte(`{"jar":[{"a":1},{"a":5,"b":"x"}],"a":{"b":"x","c":2e3,"a":[{"a":null}]}}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := parsePath(s); err == nil {
			p.eval(doc)
		}
	})
}
