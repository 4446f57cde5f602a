package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/pipeerr"
)

// Starter is the part of the Step Functions client the trigger uses.
type Starter interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
}

// Trigger is the trigger function.
type Trigger struct {
	SFN             Starter
	StateMachineARN string
	Log             *slog.Logger
}

// Object is one uploaded object, its key decoded.
type Object struct {
	Bucket, Key string
	// Version is the version ID, or the ETag for an unversioned bucket.
	Version string
}

// Input is the execution input: what ingest reads.
type Input struct {
	Source  string `json:"source"`
	Version string `json:"version,omitempty"`
}

// Out lists the executions, one per object.
type Out struct {
	Executions []Execution `json:"executions"`
}

// Execution is one object's execution.
type Execution struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	// Existing is true when a duplicate delivery found the execution
	// already started.
	Existing bool   `json:"existing,omitempty"`
	ARN      string `json:"arn,omitempty"`
}

// Handle starts an execution for every object in the event, which is an
// S3 notification ({"Records": [...]}) or an EventBridge "Object Created"
// event. A failure to start one is returned (Lambda retries the event; the
// ones already started are then duplicates, which are harmless).
func (t *Trigger) Handle(ctx context.Context, raw json.RawMessage) (Out, error) {
	objs, err := Objects(raw)
	if err != nil {
		return Out{}, err
	}
	var out Out
	for _, o := range objs {
		ex, err := t.start(ctx, o)
		if err != nil {
			return out, err
		}
		out.Executions = append(out.Executions, ex)
	}
	return out, nil
}

func (t *Trigger) start(ctx context.Context, o Object) (Execution, error) {
	name := o.Name()
	src := "s3://" + o.Bucket + "/" + o.Key
	input, err := json.Marshal(Input{Source: src, Version: o.Version})
	if err != nil {
		return Execution{}, err
	}
	ex := Execution{Name: name, Source: src}
	res, err := t.SFN.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(t.StateMachineARN),
		Name:            aws.String(name),
		Input:           aws.String(string(input)),
	})
	var exists *types.ExecutionAlreadyExists
	switch {
	case errors.As(err, &exists):
		// A duplicate delivery of an object whose execution has finished
		// (while it runs, the same name and input succeed instead).
		ex.Existing = true
		t.log().Info("already started", "job", name, "source", src, "detail", exists.ErrorMessage())
		return ex, nil
	case err != nil:
		return ex, pipeerr.Wrap(pipeerr.IO, err, "start execution %s for %s", name, src)
	}
	ex.ARN = aws.ToString(res.ExecutionArn)
	t.log().Info("started", "job", name, "source", src, "execution", ex.ARN)
	return ex, nil
}

func (t *Trigger) log() *slog.Logger {
	if t.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Log
}

// eventBridgeDetail is the detail of an EventBridge "Object Created" event.
type eventBridgeDetail struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key       string `json:"key"`
		ETag      string `json:"etag"`
		VersionID string `json:"version-id"`
	} `json:"object"`
}

// Objects extracts the created objects from either event shape. Keys come
// URL-encoded as S3 sends them ("red+flower.jpg", "%C3%9C"); they are
// decoded here, and nowhere else.
func Objects(raw json.RawMessage) ([]Object, error) {
	var probe struct {
		Records    json.RawMessage `json:"Records"`
		DetailType string          `json:"detail-type"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, pipeerr.Wrap(pipeerr.BadRequest, err, "the event is not JSON")
	}
	var objs []Object
	switch {
	case probe.Records != nil:
		var ev events.S3Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, pipeerr.Wrap(pipeerr.BadRequest, err, "S3 notification")
		}
		for _, r := range ev.Records {
			if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
				continue
			}
			o, err := object(r.S3.Bucket.Name, r.S3.Object.Key, r.S3.Object.VersionID, r.S3.Object.ETag)
			if err != nil {
				return nil, err
			}
			objs = append(objs, o)
		}
	case probe.DetailType != "":
		if probe.DetailType != "Object Created" {
			return nil, nil
		}
		var ev events.EventBridgeEvent
		var d eventBridgeDetail
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, pipeerr.Wrap(pipeerr.BadRequest, err, "EventBridge event")
		}
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return nil, pipeerr.Wrap(pipeerr.BadRequest, err, "EventBridge event detail")
		}
		o, err := object(d.Bucket.Name, d.Object.Key, d.Object.VersionID, d.Object.ETag)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	default:
		return nil, pipeerr.New(pipeerr.BadRequest, "the event is neither an S3 notification nor an EventBridge event")
	}
	return objs, nil
}

func object(bucket, rawKey, versionID, etag string) (Object, error) {
	key, err := url.QueryUnescape(rawKey)
	if err != nil {
		return Object{}, pipeerr.Wrap(pipeerr.BadRequest, err, "object key %q", rawKey)
	}
	version := versionID
	if version == "" || version == "null" {
		version = strings.Trim(etag, `"`)
	}
	if bucket == "" || key == "" || version == "" {
		return Object{}, pipeerr.New(pipeerr.BadRequest, "event names no object: bucket %q key %q version %q", bucket, key, version)
	}
	return Object{Bucket: bucket, Key: key, Version: version}, nil
}

// Name is the object's execution name, which is also its job ID.
func (o Object) Name() string { return jobfs.ObjectJobID(o.Bucket, o.Key, o.Version) }
