package asl

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	task := `"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f"`
	dist := `"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`
	tests := []struct {
		name, def, state, field string
	}{
		{"not JSON", `{`, "", ""},
		{"unknown top field", `{"StartAt":"A","States":{"A":{"Type":"Succeed"}},"Foo":1}`, "", "Foo"},
		{"missing StartAt", `{"States":{"A":{"Type":"Succeed"}}}`, "", "StartAt"},
		{"StartAt names nothing", `{"StartAt":"B","States":{"A":{"Type":"Succeed"}}}`, "", "StartAt"},
		{"unknown type", `{"StartAt":"A","States":{"A":{"Type":"Sleep"}}}`, "A", "Type"},
		{"typo field", `{"StartAt":"A","States":{"A":{"Type":"Pass","Resutl":1,"End":true}}}`, "A", "Resutl"},
		{"Next names nothing", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`, "A", "Next"},
		{"Next and End", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A","End":true}}}`, "A", "End"},
		{"neither Next nor End", `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`, "A", "Next"},
		{"unreachable", `{"StartAt":"A","States":{"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}}}`, "B", ""},
		{"Retry on Pass", `{"StartAt":"A","States":{"A":{"Type":"Pass","Retry":[],"End":true}}}`, "A", "Retry"},
		{"Catch on Choice", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","IsNull":true,"Next":"A"}],"Catch":[]}}}`, "A", "Catch"},
		{"States.ALL not last", `{"StartAt":"A","States":{"A":{` + task + `,"Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}],"End":true}}}`, "A", "Retry[0]"},
		{"States.ALL not alone", `{"StartAt":"A","States":{"A":{` + task + `,"Catch":[{"ErrorEquals":["States.ALL","X"],"Next":"A"}],"End":true}}}`, "A", "Catch[0]"},
		{"bad BackoffRate", `{"StartAt":"A","States":{"A":{` + task + `,"Retry":[{"ErrorEquals":["X"],"BackoffRate":0.5}],"End":true}}}`, "A", "Retry[0]"},
		{"HeartbeatSeconds", `{"StartAt":"A","States":{"A":{` + task + `,"HeartbeatSeconds":10,"End":true}}}`, "A", "HeartbeatSeconds"},
		{"waitForTaskToken", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true}}}`, "A", "Resource"},
		{"unsubstituted", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${Fn}","End":true}}}`, "A", "Resource"},
		{"lambda:invoke without FunctionName", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}`, "A", "Parameters"},
		{"unknown query language", `{"QueryLanguage":"XPath","StartAt":"A","States":{"A":{"Type":"Succeed"}}}`, "", "QueryLanguage"},
		{"JSONPath state in a JSONata machine", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Succeed","QueryLanguage":"JSONPath"}}}`, "A", "QueryLanguage"},
		// JSONata states refuse the JSONPath fields
		// (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html).
		{"JSONata InputPath", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$.x","End":true}}}`, "A", "InputPath"},
		{"JSONata Parameters", `{"StartAt":"A","States":{"A":{` + task + `,"QueryLanguage":"JSONata","Parameters":{"a":1},"End":true}}}`, "A", "Parameters"},
		{"JSONata ResultSelector", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{` + task + `,"ResultSelector":{"a":1},"End":true}}}`, "A", "ResultSelector"},
		{"JSONata ResultPath", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{` + task + `,"ResultPath":"$.r","End":true}}}`, "A", "ResultPath"},
		{"JSONata OutputPath", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Succeed","OutputPath":"$.x"}}}`, "A", "OutputPath"},
		{"JSONata catcher ResultPath", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{` + task + `,"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.e","Next":"A"}],"End":true}}}`, "A", "Catch[0]"},
		{"JSONata bad expression", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":{"x":"{% $states.input. %}"},"End":true}}}`, "A", "Output"},
		// jsonata-go v1.5.4's lexer panics on "!" before a multi-byte
		// character (found by FuzzParse); it is a syntax error here.
		{"JSONata expression the parser panics on", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% !é %}","End":true}}}`, "A", "Output"},
		{"JSONata rule with Variable", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","IsNull":true,"Next":"B"}]},"B":{"Type":"Succeed"}}}`, "A", "Choices[0]"},
		// A JSONata numeric field is a number or a whole {% %} expression;
		// its Path form belongs to JSONPath (transforming-data.html, "No more Path fields").
		{"JSONata TimeoutSeconds not an expression", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{` + task + `,"TimeoutSeconds":"5","End":true}}}`, "A", "TimeoutSeconds"},
		{"JSONata TimeoutSeconds bad expression", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{` + task + `,"TimeoutSeconds":"{% $x + %}","End":true}}}`, "A", "TimeoutSeconds"},
		{"TimeoutSeconds and its Path", `{"StartAt":"A","States":{"A":{` + task + `,"TimeoutSeconds":5,"TimeoutSecondsPath":"$.t","End":true}}}`, "A", "TimeoutSecondsPath"},
		{"MaxConcurrency negative", `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":-1,"ItemProcessor":{"StartAt":"A","States":{"A":{"Type":"Succeed"}}},"End":true}}}`, "M", "MaxConcurrency"},
		{"ItemBatcher MaxItemsPerBatchPath in JSONata", `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","ItemBatcher":{"MaxItemsPerBatchPath":"$.n"},` + dist + `,"End":true}}}`, "M", "ItemBatcher.MaxItemsPerBatchPath"},
		{"ItemBatcher MaxInputBytesPerBatch over 256 KiB", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemBatcher":{"MaxInputBytesPerBatch":262145},` + dist + `,"End":true}}}`, "M", "ItemBatcher.MaxInputBytesPerBatch"},
		{"ToleratedFailurePercentage over 100", `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailurePercentage":100.5,` + dist + `,"End":true}}}`, "M", "ToleratedFailurePercentage"},
		{"JSONata lambda:invoke without FunctionName", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"Payload":1},"End":true}}}`, "A", "Arguments"},
		{"Output in a JSONPath state", `{"StartAt":"A","States":{"A":{"Type":"Pass","Output":{},"End":true}}}`, "A", "Output"},
		{"Arguments in a JSONPath state", `{"StartAt":"A","States":{"A":{` + task + `,"Arguments":{},"End":true}}}`, "A", "Arguments"},
		// Map modes and fields (state-map-distributed.html, state-map-inline.html,
		// input-output-itembatcher.html under https://docs.aws.amazon.com/step-functions/latest/dg/).
		{"DISTRIBUTED without ExecutionType", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"A","States":{"A":{"Type":"Succeed"}}},"End":true}}}`, "M", "ItemProcessor"},
		{"DISTRIBUTED bad ExecutionType", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"FAST"},"StartAt":"A","States":{"A":{"Type":"Succeed"}}},"End":true}}}`, "M", "ItemProcessor"},
		{"ItemReader", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{},` + dist + `,"End":true}}}`, "M", "ItemReader"},
		{"ResultWriter", `{"StartAt":"M","States":{"M":{"Type":"Map","ResultWriter":{},` + dist + `,"End":true}}}`, "M", "ResultWriter"},
		// ItemReader and ResultWriter beyond what is run (input-output-itemreader.html,
		// input-output-resultwriter.html).
		{"ItemReader in INLINE", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"k"}},"ItemProcessor":{"StartAt":"A","States":{"A":{"Type":"Succeed"}}},"End":true}}}`, "M", "ItemReader"},
		{"ItemReader listObjectsV2", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket":"b"}},` + dist + `,"End":true}}}`, "M", "ItemReader"},
		{"ItemReader JSONL", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSONL"},"Parameters":{"Bucket":"b","Key":"k"}},` + dist + `,"End":true}}}`, "M", "ItemReader"},
		{"ItemReader without InputType", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key":"k"}},` + dist + `,"End":true}}}`, "M", "ItemReader"},
		{"ItemReader and ItemsPath", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.a","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"k"}},` + dist + `,"End":true}}}`, "M", "ItemsPath"},
		{"CSVHeaders with FIRST_ROW", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaders":["a"]},"Parameters":{"Bucket":"b","Key":"k"}},` + dist + `,"End":true}}}`, "M", "ItemReader"},
		{"GIVEN without CSVHeaders", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"GIVEN"},"Parameters":{"Bucket":"b","Key":"k"}},` + dist + `,"End":true}}}`, "M", "ItemReader"},
		{"CSVDelimiter", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVDelimiter":"PIPE"},"Parameters":{"Bucket":"b","Key":"k"}},` + dist + `,"End":true}}}`, "M", "ItemReader"},
		{"MaxItems 0", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON","MaxItems":0},"Parameters":{"Bucket":"b","Key":"k"}},` + dist + `,"End":true}}}`, "M", "ItemReader.ReaderConfig.MaxItems"},
		{"ItemReader unknown parameter", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"k","VersionId":"1"}},` + dist + `,"End":true}}}`, "M", "ItemReader"},
		{"ResultWriter WriterConfig", `{"StartAt":"M","States":{"M":{"Type":"Map","ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"b","Prefix":"p"},"WriterConfig":{"OutputType":"JSONL"}},` + dist + `,"End":true}}}`, "M", "ResultWriter"},
		{"ResultWriter without Parameters", `{"StartAt":"M","States":{"M":{"Type":"Map","ResultWriter":{"Resource":"arn:aws:states:::s3:putObject"},` + dist + `,"End":true}}}`, "M", "ResultWriter"},
		{"ToleratedFailureCount in INLINE", `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":1,"ItemProcessor":{"StartAt":"A","States":{"A":{"Type":"Succeed"}}},"End":true}}}`, "M", "ToleratedFailureCount"},
		{"ItemBatcher in INLINE", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemBatcher":{"MaxItemsPerBatch":2},"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"A","States":{"A":{"Type":"Succeed"}}},"End":true}}}`, "M", "ItemBatcher"},
		{"Label in INLINE", `{"StartAt":"M","States":{"M":{"Type":"Map","Label":"x","ItemProcessor":{"StartAt":"A","States":{"A":{"Type":"Succeed"}}},"End":true}}}`, "M", "Label"},
		{"Label with a space", `{"StartAt":"M","States":{"M":{"Type":"Map","Label":"a b",` + dist + `,"End":true}}}`, "M", "Label"},
		{"ToleratedFailurePercentage over 100", `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailurePercentage":101,` + dist + `,"End":true}}}`, "M", "ToleratedFailurePercentage"},
		{"ToleratedFailureCount and its Path", `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":1,"ToleratedFailureCountPath":"$.n",` + dist + `,"End":true}}}`, "M", "ToleratedFailureCountPath"},
		{"JSONata ToleratedFailureCountPath", `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCountPath":"$.n",` + dist + `,"End":true}}}`, "M", "ToleratedFailureCountPath"},
		{"empty ItemBatcher", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemBatcher":{},` + dist + `,"End":true}}}`, "M", "ItemBatcher"},
		{"ItemBatcher unknown field", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemBatcher":{"MaxItemsPerBatch":2,"Size":1},` + dist + `,"End":true}}}`, "M", "ItemBatcher"},
		{"nested bad Next", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"M"}}},"End":true}}}`, "A", "Next"},
		{"duplicate name", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"M","States":{"M":{"Type":"Succeed"}}},"End":true}}}`, "M", ""},
		{"unknown intrinsic", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope()"},"End":true}}}`, "A", "Parameters"},
		{"regex filter", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$.a[?(@.b =~ /x/)]","End":true}}}`, "A", "InputPath"},
		{"filter in ResultPath", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[?(@.b)]","End":true}}}`, "A", "ResultPath"},
		{"indefinite ResultPath", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}`, "A", "ResultPath"},
		{"non-string .$", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":1},"End":true}}}`, "A", "Parameters"},
		{"choice rule without Next", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","IsNull":true}],"Default":"B"},"B":{"Type":"Succeed"}}}`, "A", "Choices[0]"},
		{"choice bad operand", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":"1","Next":"B"}]},"B":{"Type":"Succeed"}}}`, "A", "Choices[0]"},
		{"choice unknown operator", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","StringContains":"1","Next":"B"}]},"B":{"Type":"Succeed"}}}`, "A", "Choices[0]"},
		{"Wait two fields", `{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}`, "A", "Seconds"},
		{"Wait bad timestamp", `{"StartAt":"A","States":{"A":{"Type":"Wait","Timestamp":"2024-01-01 00:00:00","End":true}}}`, "A", "Timestamp"},
		{"Fail Error and ErrorPath", `{"StartAt":"A","States":{"A":{"Type":"Fail","Error":"E","ErrorPath":"$.e"}}}`, "A", "ErrorPath"},
		// Variable names and scopes
		// (https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html).
		{"Assign not an object", `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":[1],"End":true}}}`, "A", "Assign"},
		{"variable name starts with a digit", `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"1x":1},"End":true}}}`, "A", "Assign"},
		{"variable name states", `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"states":1},"End":true}}}`, "A", "Assign"},
		{"Assign on Succeed", `{"StartAt":"A","States":{"A":{"Type":"Succeed","Assign":{"x":1}}}}`, "A", "Assign"},
		{".$ key in a JSONata Assign", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"x.$":"$.a"},"End":true}}}`, "A", "Assign"},
		{"inner scope assigns an outer variable", `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"x":1},"Next":"M"},"M":{"Type":"Map","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Assign":{"x":2},"End":true}}},"End":true}}}`, "I", "Assign"},
		{"branch catcher assigns an outer variable", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Assign":{"x":1},"Branches":[{"StartAt":"T","States":{"T":{` + task + `,"Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"x":2},"Next":"S"}],"End":true},"S":{"Type":"Succeed"}}}],"End":true}}}`, "T", "Catch[0]"},
		{"variable in ResultPath", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$x","End":true}}}`, "A", "ResultPath"},
		{"variable in InputPath", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$x","End":true}}}`, "A", "InputPath"},
		{"rule and state assign one variable", `{"StartAt":"A","States":{"A":{"Type":"Choice","Assign":{"x":1},"Choices":[{"Variable":"$.x","IsNull":true,"Assign":{"x":2},"Next":"B"}]},"B":{"Type":"Succeed"}}}`, "A", "Choices[0]"},
		{"Assign in a nested rule", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.x","IsNull":true,"Assign":{"x":2}},"Next":"B"}]},"B":{"Type":"Succeed"}}}`, "A", "Choices[0]"},
		{"Parallel bad branch", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"A":{"Type":"Succeed"}}}],"End":true}}}`, "P", "StartAt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.def))
			var de *DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("Parse error %v (%T), want a *DefinitionError", err, err)
			}
			if de.State != tt.state || de.Field != tt.field {
				t.Errorf("error names state %q field %q, want %q %q (%v)", de.State, de.Field, tt.state, tt.field, err)
			}
			if tt.state != "" && !strings.Contains(err.Error(), `"`+tt.state+`"`) {
				t.Errorf("message %q does not name the state", err)
			}
		})
	}
}

// TestNumericFieldsExact: integers past 2^53 keep their value (a float64
// would turn 2^63-1 into -2^63), and TimeoutSeconds stops at AWS's
// 99999999 (state-task.html), where a time.Duration cannot overflow.
func TestNumericFieldsExact(t *testing.T) {
	def := distMap(`"ItemsPath":"$.items","MaxConcurrency":9223372036854775807,"ToleratedFailureCountPath":"$.tol",`)
	_, _, mr, err := runDist(t, def, `{"tol":9223372036854775807,"items":[{"n":1,"fail":false},{"n":2,"fail":true}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if run := mr.last(t); run.MaxConcurrency != 9223372036854775807 || run.ToleratedFailureCount != 9223372036854775807 {
		t.Errorf("map run %+v", run)
	}
	for _, d := range []string{
		`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","TimeoutSeconds":100000000,"End":true}}}`,
		`{"TimeoutSeconds":10000000000,"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
	} {
		if _, err := Parse([]byte(d)); err == nil {
			t.Errorf("accepted %s", d)
		}
	}
	def = `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + fn + `","TimeoutSecondsPath":"$.t","End":true}}}`
	_, _, err = run(t, def, `{"t":10000000000}`, echo)
	if ee := execErr(t, err); ee.Name != ErrRuntime {
		t.Errorf("TimeoutSecondsPath past the limit: got %v, want %s", ee, ErrRuntime)
	}
	if _, _, err = run(t, def, `{"t":99999999}`, echo); err != nil {
		t.Errorf("TimeoutSecondsPath 99999999: %v", err)
	}
}

// TestParseDeepNesting: a definition nested deeply enough to overflow the
// parser's stack, which is fatal to the process (serve's, at
// CreateStateMachine and at every restart), is refused instead. Each
// expression fits serve's 4 MiB request body; without the limits the test
// binary ends with "fatal error: stack overflow".
func TestParseDeepNesting(t *testing.T) {
	const n = 4_000_000
	jsonataMachine := func(expr string) string {
		return `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% ` + expr + ` %}","End":true}}}`
	}
	for _, tc := range []struct{ name, def, msg string }{
		{"JSONata unary minus", jsonataMachine(strings.Repeat("-", n) + "1"), "at most 65536"},
		{"JSONata parentheses", jsonataMachine(strings.Repeat("(", n/2) + "1" + strings.Repeat(")", n/2)), "at most 65536"},
		{"filter", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$.a[?(` +
			strings.Repeat("!(", n/3) + "@.b" + strings.Repeat(")", n/3) + `)]","End":true}}}`, "nested more than 1000"},
		{"filter of !", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$.a[?(` + strings.Repeat("!", n) + `@.b)]","End":true}}}`, "nested more than 1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.def))
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Parse: %.300v, want an error with %q", err, tc.msg)
			}
		})
	}
	// At the limits, expressions are still accepted.
	for _, def := range []string{
		jsonataMachine(strings.Repeat("-", MaxJSONataBytes-3) + "1"), // the spaces around it count
		`{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$.a[?(` + strings.Repeat("!", maxFilterNesting-1) + `@.b)]","End":true}}}`,
	} {
		if _, err := Parse([]byte(def)); err != nil {
			t.Errorf("Parse: %.300v", err)
		}
	}
}
