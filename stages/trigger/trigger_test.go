package trigger_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/efspipe/efspipe/internal/awstest"
	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/stages/trigger"
)

const machine = "arn:aws:states:us-east-1:123456789012:stateMachine:efspipe"

func notification(bucket, rawKey, version, etag string) string {
	return fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
	"eventTime":"2026-11-27T10:00:00.000Z","eventName":"ObjectCreated:Put",
	"s3":{"s3SchemaVersion":"1.0","bucket":{"name":%q,"arn":"arn:aws:s3:::%s"},
	"object":{"key":%q,"size":1024,"eTag":%q,"versionId":%q,"sequencer":"0055AED6DCD90281E5"}}}]}`, bucket, bucket, rawKey, etag, version)
}

func eventBridge(bucket, rawKey, version, etag string) string {
	return fmt.Sprintf(`{"version":"0","id":"17793124-05d4-b198-2fde-7ededc63b103","detail-type":"Object Created",
	"source":"aws.s3","account":"123456789012","time":"2026-11-27T10:00:00Z","region":"us-east-1",
	"resources":["arn:aws:s3:::%s"],"detail":{"version":"0","bucket":{"name":%q},
	"object":{"key":%q,"size":1024,"etag":%q,"version-id":%q,"sequencer":"00617F08299329D189"},
	"request-id":"N4N7GDK58NMKJ12R","requester":"123456789012","reason":"PutObject"}}`, bucket, bucket, rawKey, etag, version)
}

func TestObjectsDecodesKeys(t *testing.T) {
	const etag = "d41d8cd98f00b204e9800998ecf8427e"
	for _, tc := range []struct{ raw, want string }{
		{"plain.pdf", "plain.pdf"},
		{"red+flower.pdf", "red flower.pdf"},
		{"a%20b.pdf", "a b.pdf"},
		{"c%2B%2B+notes.pdf", "c++ notes.pdf"},
		{"dir/%C3%9Cberweisung+%E2%80%93+%E6%97%A5%E6%9C%AC.pdf", "dir/Überweisung – 日本.pdf"},
		{"100%25.pdf", "100%.pdf"},
	} {
		for shape, ev := range map[string]func(b, k, v, e string) string{"notification": notification, "eventbridge": eventBridge} {
			t.Run(shape+"/"+tc.raw, func(t *testing.T) {
				objs, err := trigger.Objects(json.RawMessage(ev("in", tc.raw, "", etag)))
				if err != nil {
					t.Fatal(err)
				}
				if len(objs) != 1 || objs[0] != (trigger.Object{Bucket: "in", Key: tc.want, Version: etag}) {
					t.Fatalf("objects %+v, want key %q", objs, tc.want)
				}
			})
		}
	}
	objs, err := trigger.Objects(json.RawMessage(notification("in", "k.pdf", "3HL4kqtJvjVBH40Nrjfkd", etag)))
	if err != nil || objs[0].Version != "3HL4kqtJvjVBH40Nrjfkd" {
		t.Fatalf("a version ID wins over the ETag: %+v, %v", objs, err)
	}
	for _, bad := range []string{`[]`, `{"hello":1}`, notification("in", "%zz", "", etag), notification("in", "k", "", "")} {
		if _, err := trigger.Objects(json.RawMessage(bad)); pipeerr.KindOf(err) != pipeerr.BadRequest {
			t.Errorf("%.40s: %v", bad, err)
		}
	}
	other := strings.Replace(eventBridge("in", "k", "", etag), "Object Created", "Object Deleted", 1)
	if objs, err := trigger.Objects(json.RawMessage(other)); err != nil || len(objs) != 0 {
		t.Fatalf("Object Deleted: %+v, %v", objs, err)
	}
}

func newTrigger(t *testing.T, url string) *trigger.Trigger {
	client := sfn.New(sfn.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  aws.AnonymousCredentials{},
	})
	return &trigger.Trigger{SFN: client, StateMachineARN: machine}
}

func TestDuplicateDeliveriesStartOneExecution(t *testing.T) {
	f := awstest.NewFakeSFN(t)
	tr := newTrigger(t, f.URL)
	const etag = "9b2cf535f27731c974343645a3985328"
	want := jobfs.ObjectJobID("in", "my report.pdf", etag)

	// The same upload delivered three times, in both shapes, while the
	// execution runs and after it has finished.
	for i, ev := range []string{
		notification("in", "my+report.pdf", "", etag),
		eventBridge("in", "my%20report.pdf", "", etag),
		"finish",
		notification("in", "my+report.pdf", "", etag),
	} {
		if ev == "finish" {
			f.Finish(awstest.ExecutionARN(machine, want), "SUCCEEDED", "NOT_REDRIVABLE")
			continue
		}
		out, err := tr.Handle(t.Context(), json.RawMessage(ev))
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
		if len(out.Executions) != 1 || out.Executions[0].Name != want || out.Executions[0].Source != "s3://in/my report.pdf" {
			t.Fatalf("delivery %d: %+v", i, out)
		}
		if existing := out.Executions[0].Existing; existing != (i == 3) {
			t.Fatalf("delivery %d: existing = %v", i, existing)
		}
	}
	if f.Starts() != 1 || len(f.Executions()) != 1 {
		t.Fatalf("%d executions started, want 1", f.Starts())
	}
	var in trigger.Input
	if err := json.Unmarshal([]byte(f.Executions()[awstest.ExecutionARN(machine, want)].Input), &in); err != nil || in != (trigger.Input{Source: "s3://in/my report.pdf", Version: etag}) {
		t.Fatalf("execution input %+v, %v", in, err)
	}

	// A new version of the same key is a new job.
	if _, err := tr.Handle(t.Context(), json.RawMessage(notification("in", "my+report.pdf", "v2", etag))); err != nil {
		t.Fatal(err)
	}
	if f.Starts() != 2 {
		t.Fatalf("a new version did not start an execution")
	}
}

func TestStartFailureIsRetryable(t *testing.T) {
	f := awstest.NewFakeSFN(t)
	tr := newTrigger(t, f.URL)
	tr.StateMachineARN = "arn:aws:states:us-east-1:123456789012:stateMachine:efspipe" // valid
	f.Close()
	_, err := tr.Handle(t.Context(), json.RawMessage(notification("in", "k.pdf", "", "9b2cf535f27731c974343645a3985328")))
	if k := pipeerr.KindOf(err); !k.Retryable() {
		t.Fatalf("unreachable Step Functions: %v (%s), want a retryable kind", err, k)
	}
}
