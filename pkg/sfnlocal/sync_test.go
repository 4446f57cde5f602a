package sfnlocal_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// noHostPrefix is the client option an SDK user needs for
// StartSyncExecution against a local endpoint: the SDK prefixes "sync-" to
// the endpoint's host for that action (the endpoint trait of the Step
// Functions model), BaseEndpoint or not, which turns 127.0.0.1 into a host
// that does not resolve. smithy-go's DisableEndpointHostPrefix, set on the
// context before the Finalize step, turns the prefix off.
func noHostPrefix(o *sfn.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("DisableEndpointHostPrefix",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
			}), middleware.Before)
	})
}

// hostRecorder answers nothing; it records where the SDK would send.
type hostRecorder struct{ host string }

func (h *hostRecorder) Do(r *http.Request) (*http.Response, error) {
	h.host = r.URL.Host
	return nil, errors.New("recorded")
}

// TestStartSyncExecution
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartSyncExecution.html):
// an EXPRESS machine runs to the end within the call, through the real SDK
// client; a STANDARD one is refused, as in AWS.
func TestStartSyncExecution(t *testing.T) {
	e := newEnv(t, "", nil)
	ctx := t.Context()

	// What the SDK does with BaseEndpoint: the host gets the prefix, and
	// the option takes it off.
	rec := &hostRecorder{}
	_, _ = e.c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: &e.pipeline}, func(o *sfn.Options) {
		o.HTTPClient, o.RetryMaxAttempts = rec, 1
	})
	if want := "sync-" + strings.TrimPrefix(e.http.URL, "http://"); rec.host != want {
		t.Fatalf("the SDK sent StartSyncExecution to %q, want %q", rec.host, want)
	}
	_, _ = e.c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: &e.pipeline}, noHostPrefix, func(o *sfn.Options) {
		o.HTTPClient, o.RetryMaxAttempts = rec, 1
	})
	if want := strings.TrimPrefix(e.http.URL, "http://"); rec.host != want {
		t.Fatalf("with DisableEndpointHostPrefix the SDK sent StartSyncExecution to %q, want %q", rec.host, want)
	}

	express, err := e.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("quick"), Definition: aws.String(userDefinition),
		RoleArn: aws.String(role), Type: types.StateMachineTypeExpress, Publish: true})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: express.StateMachineArn})
	if err != nil || d.Type != types.StateMachineTypeExpress {
		t.Fatalf("describe: %v %v", d.Type, err)
	}
	for _, arn := range []string{*express.StateMachineArn, *express.StateMachineVersionArn} {
		out, err := e.c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: &arn, Name: aws.String("now"), Input: input(t, writePDF(t, 1))}, noHostPrefix)
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != types.SyncExecutionStatusSucceeded || !strings.Contains(aws.ToString(out.Output), `"bytes"`) ||
			!strings.HasPrefix(aws.ToString(out.ExecutionArn), "arn:aws:states:us-east-1:000000000000:express:quick:now:") ||
			*out.StateMachineArn != *express.StateMachineArn || out.StopDate == nil || out.BillingDetails == nil || aws.ToString(out.Input) == "" {
			t.Errorf("sync execution of %s: %+v %s %s %s", arn, out, aws.ToString(out.Output), aws.ToString(out.Error), aws.ToString(out.Cause))
		}
	}

	// A failure is a 200 with the status FAILED.
	failing, err := e.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("fails"), RoleArn: aws.String(role), Type: types.StateMachineTypeExpress,
		Definition: aws.String(`{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Custom.Bad","Cause":"on purpose"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: failing.StateMachineArn, IncludedData: types.IncludedDataMetadataOnly}, noHostPrefix)
	if err != nil || out.Status != types.SyncExecutionStatusFailed || aws.ToString(out.Error) != "Custom.Bad" || aws.ToString(out.Cause) != "on purpose" || out.Input != nil {
		t.Fatalf("failing sync execution: %+v %v", out, err)
	}

	// Refusals: a STANDARD machine here; an EXPRESS one through
	// StartExecution, whose asynchronous Express executions (described
	// only in CloudWatch Logs) the endpoint does not run.
	if _, err := e.c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: &e.pipeline}, noHostPrefix); errType(err) != "StateMachineTypeNotSupported" {
		t.Errorf("sync execution of a STANDARD machine: %v", err)
	}
	if _, err := e.c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: express.StateMachineArn}); errType(err) != "StateMachineTypeNotSupported" {
		t.Errorf("StartExecution of an EXPRESS machine: %v", err)
	}
	if _, err := e.c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: express.StateMachineArn}); errType(err) != "StateMachineTypeNotSupported" {
		t.Errorf("ListExecutions of an EXPRESS machine: %v", err)
	}
	if _, err := e.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("odd"), Definition: aws.String(passDefinition("x")),
		RoleArn: aws.String(role), Type: "BATCH"}); errType(err) != "ValidationException" {
		t.Errorf("an unknown type: %v", err)
	}
}
