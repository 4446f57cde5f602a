package asl

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// memObjects is an in-memory Objects store keyed by "bucket/key".
type memObjects struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (o *memObjects) GetObject(_ context.Context, bucket, key string) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.m[bucket+"/"+key]
	if !ok {
		return nil, fmt.Errorf("no such object")
	}
	return b, nil
}

func (o *memObjects) PutObject(_ context.Context, bucket, key string, data []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.m[bucket+"/"+key] = data
	return nil
}

func runObjects(t *testing.T, def, input string, objs *memObjects) (json.RawMessage, error) {
	t.Helper()
	opts := newRecorder().options(echo)
	opts.Objects = objs
	return mustParse(t, def).Execute(t.Context(), json.RawMessage(input), opts)
}

// TestItemReader reads a DISTRIBUTED Map's items from an S3 object as
// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html
// describes: a JSON array's elements, or a CSV file's rows as objects of
// strings keyed by the first row or by CSVHeaders, at most MaxItems.
func TestItemReader(t *testing.T) {
	objs := &memObjects{m: map[string][]byte{
		"b/items.json": []byte(`[{"n":1},{"n":2},{"n":3}]`),
		"b/rows.csv":   []byte("n,name\n1,a\n2,\"b,c\"\n"),
		"b/bare.csv":   []byte("1,a\n2,b\n"),
		"b/obj.json":   []byte(`{"n":1}`),
	}}
	const echoProc = `"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
	mk := func(reader string) string {
		return `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":` + reader + `,` + echoProc + `,"End":true}}}`
	}
	for _, tc := range []struct {
		name, reader, input, want, err string
	}{
		{"JSON", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"items.json"}}`, `{}`, `[{"n":1},{"n":2},{"n":3}]`, ""},
		{"JSON path params and MaxItemsPath", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON","MaxItemsPath":"$.max"},"Parameters":{"Bucket.$":"$.b","Key.$":"$.k"}}`,
			`{"b":"b","k":"items.json","max":2}`, `[{"n":1},{"n":2}]`, ""},
		{"CSV first row", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"},"Parameters":{"Bucket":"b","Key":"rows.csv"}}`,
			`{}`, `[{"n":"1","name":"a"},{"n":"2","name":"b,c"}]`, ""},
		{"CSV given headers, MaxItems", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"GIVEN","CSVHeaders":["id","v"],"MaxItems":1},"Parameters":{"Bucket":"b","Key":"bare.csv"}}`,
			`{}`, `[{"id":"1","v":"a"}]`, ""},
		{"missing object", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"gone.json"}}`, `{}`, "", ErrItemReaderFailed},
		{"not an array", `{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"obj.json"}}`, `{}`, "", ErrItemReaderFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runObjects(t, mk(tc.reader), tc.input, objs)
			if tc.err != "" {
				if e := execErr(t, err); e.Name != tc.err {
					t.Fatalf("error %s: %s, want %s", e.Name, e.Cause, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, out, tc.want)
		})
	}
}

// TestItemReaderJSONata gives the object's location as JSONata Arguments
// (input-output-itemreader.html, JSONata examples).
func TestItemReaderJSONata(t *testing.T) {
	objs := &memObjects{m: map[string][]byte{"b/k.json": []byte(`[1,2]`)}}
	def := `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","End":true,
		"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Arguments":{"Bucket":"{% $states.input.b %}","Key":"k.json"}},
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $states.input * 10 %}","End":true}}}}}}`
	out, err := runObjects(t, def, `{"b":"b"}`, objs)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `[10,20]`)
	// ReaderConfig's MaxItems takes an expression too (transforming-data.html,
	// "No more Path fields").
	limited := strings.Replace(def, `"InputType":"JSON"`, `"InputType":"JSON","MaxItems":"{% $states.input.n %}"`, 1)
	if out, err = runObjects(t, limited, `{"b":"b","n":1}`, objs); err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `[10]`)
	_, err = runObjects(t, limited, `{"b":"b","n":0}`, objs)
	if ee := execErr(t, err); ee.Name != ErrQueryEvaluation {
		t.Errorf("MaxItems 0: got %v, want %s", ee, ErrQueryEvaluation)
	}
}

// TestResultWriter exports a Map Run's results as
// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
// describes: Prefix/<Map Run id>/manifest.json and SUCCEEDED_0.json /
// FAILED_0.json, and the Map's output names the manifest.
func TestResultWriter(t *testing.T) {
	objs := &memObjects{m: map[string][]byte{}}
	def := distMap(`"ToleratedFailureCount":1,"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix.$":"$$.Execution.Name"}},`)
	opts := newRecorder().options(echo)
	opts.Objects, opts.ExecutionName = objs, "run1"
	out, err := mustParse(t, def).Execute(t.Context(), json.RawMessage(`[{"n":1,"fail":false},{"n":2,"fail":true}]`), opts)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		MapRunArn           string
		ResultWriterDetails struct{ Bucket, Key string }
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	id := got.MapRunArn[strings.LastIndexByte(got.MapRunArn, ':')+1:]
	if got.ResultWriterDetails.Bucket != "out" || got.ResultWriterDetails.Key != "run1/"+id+"/manifest.json" {
		t.Fatalf("output %s", out)
	}
	var manifest struct {
		DestinationBucket, MapRunArn string
		ResultFiles                  map[string][]struct {
			Key  string
			Size int
		}
	}
	if err := json.Unmarshal(objs.m["out/run1/"+id+"/manifest.json"], &manifest); err != nil {
		t.Fatal(err)
	}
	if manifest.DestinationBucket != "out" || manifest.MapRunArn != got.MapRunArn || len(manifest.ResultFiles["PENDING"]) != 0 {
		t.Fatalf("manifest %+v", manifest)
	}
	for status, want := range map[string]string{"SUCCEEDED": `"Output":"1"`, "FAILED": `"Error":"Boom"`} {
		files := manifest.ResultFiles[status]
		if len(files) != 1 || files[0].Key != "run1/"+id+"/"+status+"_0.json" {
			t.Fatalf("%s files %+v", status, files)
		}
		data := objs.m["out/"+files[0].Key]
		if len(data) != files[0].Size || !strings.Contains(string(data), want) || !strings.Contains(string(data), `"Status":"`+status+`"`) {
			t.Errorf("%s: %s", files[0].Key, data)
		}
	}
}

// TestObjectsRequired: a machine with an ItemReader does not run without
// Options.Objects.
func TestObjectsRequired(t *testing.T) {
	def := distMap(`"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix":"p"}},`)
	m := mustParse(t, def)
	if !m.UsesObjects() {
		t.Fatal("UsesObjects false")
	}
	if _, err := m.Execute(t.Context(), json.RawMessage(`[]`), Options{}); err == nil || !strings.Contains(err.Error(), "Options.Objects") {
		t.Fatalf("err %v", err)
	}
}

// TestItemReaderFailedCaught: States.ItemReaderFailed is an ordinary
// error a Catch handles (concepts-error-handling.html).
func TestItemReaderFailedCaught(t *testing.T) {
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","Next":"Done",
		"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"gone"}},
		"Catch":[{"ErrorEquals":["States.ItemReaderFailed"],"ResultPath":"$.err","Next":"Done"}],
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}},
		"Done":{"Type":"Pass","OutputPath":"$.err.Error","End":true}}}`
	out, err := runObjects(t, def, `{}`, &memObjects{m: map[string][]byte{}})
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, out, `"States.ItemReaderFailed"`)
}
