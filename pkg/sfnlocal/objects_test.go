package sfnlocal_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/sfnlocal"
)

// objectsEnv is a server whose object store is a t.TempDir folder.
func objectsEnv(t *testing.T) (*env, string) {
	t.Helper()
	dir := t.TempDir()
	objs, err := jobfs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objs.Close() })
	e := newEnvWith(t, "", nil, func(c *sfnlocal.Config) { c.Objects = sfnlocal.DirObjects{Dir: objs} })
	return e, dir
}

func writeObject(t *testing.T, dir, name, data string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readerMachine is a DISTRIBUTED Map reading s3://in/<$.key> as reader
// (JSON or CSV) and exporting its results to s3://out/runs/.
func readerMachine(inputType string) string {
	return `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
		"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"` + inputType + `"},"Parameters":{"Bucket":"in","Key.$":"$.key"}},
		"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix":"runs"}},
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}`
}

// TestItemReaderResultWriter runs through the SDK a DISTRIBUTED Map that
// reads its items from an object
// (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html)
// and exports its results
// (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html),
// with s3://BUCKET/KEY the file BUCKET/KEY of the objects folder.
func TestItemReaderResultWriter(t *testing.T) {
	e, dir := objectsEnv(t)
	ctx := t.Context()
	writeObject(t, dir, "in/rows.csv", "id,name\n1,a\n2,b\n")
	m, err := e.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("csv"), Definition: aws.String(readerMachine("CSV")), RoleArn: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	start, err := e.c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Input: aws.String(`{"key":"rows.csv"}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := e.wait(t, *start.ExecutionArn)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("%s %s: %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	var out struct {
		MapRunArn           string
		ResultWriterDetails struct{ Bucket, Key string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &out); err != nil {
		t.Fatal(err)
	}
	id := out.MapRunArn[strings.LastIndexByte(out.MapRunArn, ':')+1:]
	if out.ResultWriterDetails.Bucket != "out" || out.ResultWriterDetails.Key != "runs/"+id+"/manifest.json" {
		t.Fatalf("output %s", aws.ToString(d.Output))
	}
	manifest, err := os.ReadFile(filepath.Join(dir, "out", "runs", id, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(manifest), `"Key":"runs/`+id+`/SUCCEEDED_0.json"`) {
		t.Errorf("manifest %s", manifest)
	}
	results, err := os.ReadFile(filepath.Join(dir, "out", "runs", id, "SUCCEEDED_0.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rs []struct{ Status, Output string }
	if err := json.Unmarshal(results, &rs); err != nil || len(rs) != 2 || rs[0].Output != `{"id":"1","name":"a"}` || rs[1].Status != "SUCCEEDED" {
		t.Errorf("SUCCEEDED_0.json %s (%v)", results, err)
	}
	run, err := e.c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: &out.MapRunArn})
	if err != nil || run.ItemCounts.Total != 2 || run.ItemCounts.ResultsWritten != 2 || run.Status != types.MapRunStatusSucceeded {
		t.Errorf("DescribeMapRun %+v %v", run, err)
	}
}

// TestItemReaderConfined: a missing object, a key with "..", and a
// symlink out of the objects folder all fail the Map with
// States.ItemReaderFailed (input-output-itemreader.html; the error name
// from concepts-error-handling.html).
func TestItemReaderConfined(t *testing.T) {
	e, dir := objectsEnv(t)
	ctx := t.Context()
	outside := filepath.Join(t.TempDir(), "secret.json")
	if err := os.WriteFile(outside, []byte(`[1]`), 0o644); err != nil {
		t.Fatal(err)
	}
	writeObject(t, dir, "in/ok.json", `[1]`)
	if err := os.Symlink(outside, filepath.Join(dir, "in", "link.json")); err != nil {
		t.Fatal(err)
	}
	m, err := e.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("json"), Definition: aws.String(readerMachine("JSON")), RoleArn: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"gone.json", "../in/ok.json", "/etc/passwd", "link.json"} {
		start, err := e.c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Input: aws.String(`{"key":"` + key + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
		d := e.wait(t, *start.ExecutionArn)
		if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.ItemReaderFailed" {
			t.Errorf("key %q: %s %s: %s", key, d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
	}
}

// TestItemReaderNeedsObjects: without Config.Objects, CreateStateMachine
// refuses a machine with an ItemReader and says how to configure one.
func TestItemReaderNeedsObjects(t *testing.T) {
	e := newEnv(t, "", nil)
	_, err := e.c.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String("json"), Definition: aws.String(readerMachine("JSON")), RoleArn: aws.String(role)})
	if errType(err) != "InvalidDefinition" || !strings.Contains(err.Error(), "--objects") {
		t.Fatalf("err %v", err)
	}
}
