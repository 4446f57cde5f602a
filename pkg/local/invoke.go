package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/efspipe/efspipe/pkg/asl"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/statemachine"
)

// Hook runs before each stage invocation; an error it returns is reported as
// that invocation's error. Tests use it to fail a chosen stage or shard.
type Hook func(ctx context.Context, function string, input json.RawMessage) error

// Functions invokes stage handlers by Lambda function name or ARN, as Step
// Functions invokes Lambdas: JSON in, JSON out, errors named by type.
type Functions struct {
	handlers map[string]any
	hook     Hook
	slots    chan struct{}
}

// NewFunctions binds stage names to handler functions (any signature
// lambda.NewHandler accepts). At most four invocations per core run at once,
// as reserved concurrency caps a function in the cloud. More than one per
// core, because on a network mount a compress invocation waits on round
// trips about as long as it computes, and those waits only overlap if
// other invocations are in flight; an invocation holds one shard's
// recipes and frames, a few megabytes.
func NewFunctions(handlers map[string]any, hook Hook) *Functions {
	return &Functions{handlers: handlers, hook: hook, slots: make(chan struct{}, 4*runtime.GOMAXPROCS(0))}
}

// Invoke is an asl.TaskFunc.
func (f *Functions) Invoke(ctx context.Context, resource string, input json.RawMessage) (json.RawMessage, error) {
	name, ok := statemachine.FunctionOf(resource)
	h := f.handlers[name]
	if !ok || h == nil {
		// What Lambda answers for an unknown function.
		return nil, &asl.TaskError{Name: "Lambda.ResourceNotFoundException", Cause: fmt.Sprintf("Function not found: %s", resource)}
	}
	if f.hook != nil {
		if err := f.hook(ctx, name, input); err != nil {
			// Reported as if the stage had returned it.
			return nil, lambdaError(pipeerr.ForLambda(err))
		}
	}
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, &asl.TaskError{Name: "States.Timeout", Cause: ctx.Err().Error()}
	}
	// A handler per invocation: aws-lambda-go returns the output in a
	// buffer it has already put back in the handler's pool (harmless in
	// Lambda, one invocation at a time per process), so two concurrent
	// invocations of one handler could write into each other's output
	// before it is copied. Building one costs microseconds of reflection.
	out, err := lambda.NewHandler(h).Invoke(ctx, input)
	<-f.slots
	if err != nil {
		return nil, lambdaError(err)
	}
	// The engine keeps the output; the buffer goes back to the pool.
	return append(json.RawMessage(nil), out...), nil
}

// lambdaError reports err as Step Functions reports a Lambda function
// error: Error is the error type Lambda names (aws-lambda-go's rule: an
// InvokeResponse_Error's Type, else the Go type name), Cause is the JSON
// error payload.
func lambdaError(err error) error {
	var ie messages.InvokeResponse_Error
	if !errors.As(err, &ie) {
		t := reflect.TypeOf(err)
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		ie = messages.InvokeResponse_Error{Type: t.Name(), Message: err.Error()}
	}
	cause, _ := json.Marshal(struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}{ie.Message, ie.Type})
	return &asl.TaskError{Name: ie.Type, Cause: string(cause)}
}

// Once returns a Hook that fails the first invocation matching match with
// err, and lets every later one through.
func Once(match func(function string, input json.RawMessage) bool, err error) Hook {
	var once sync.Once
	return func(_ context.Context, function string, input json.RawMessage) error {
		var fire bool
		if match(function, input) {
			once.Do(func() { fire = true })
		}
		if fire {
			return err
		}
		return nil
	}
}
