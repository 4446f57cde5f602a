package asl_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/efspipe/efspipe/pkg/asl"
)

func Example() {
	m, err := asl.Parse([]byte(`{
	  "StartAt": "Shards",
	  "States": {
	    "Shards": {"Type": "Pass", "Parameters": {"indexes.$": "States.ArrayRange(0, $.last, 1)"}, "Next": "Compress"},
	    "Compress": {
	      "Type": "Map", "ItemsPath": "$.indexes", "MaxConcurrency": 2,
	      "ItemProcessor": {"StartAt": "Shard", "States": {
	        "Shard": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:compress", "End": true}}},
	      "Catch": [{"ErrorEquals": ["InvalidInput"], "ResultPath": "$.failure", "Next": "Failed"}],
	      "End": true
	    },
	    "Failed": {"Type": "Fail", "ErrorPath": "$.failure.Error", "CausePath": "$.failure.Cause"}
	  }
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	invoke := func(_ context.Context, resource string, input json.RawMessage) (json.RawMessage, error) {
		if string(input) == "3" {
			return nil, &asl.TaskError{Name: "InvalidInput", Cause: "shard 3 is damaged"}
		}
		return json.RawMessage(`"shard ` + string(input) + ` done"`), nil
	}
	out, err := m.Execute(context.Background(), json.RawMessage(`{"last": 2}`), asl.Options{Invoke: invoke})
	fmt.Println(string(out), err)

	_, err = m.Execute(context.Background(), json.RawMessage(`{"last": 4}`), asl.Options{Invoke: invoke})
	var ee *asl.ExecutionError
	if errors.As(err, &ee) {
		fmt.Println(ee.Name, "-", ee.Cause)
	}
	// Output:
	// ["shard 0 done","shard 1 done","shard 2 done"] <nil>
	// InvalidInput - shard 3 is damaged
}
