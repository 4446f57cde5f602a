package sfnlocal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/sfnlocal"
)

// A user's machine runs against the stage functions given as Invoke (here
// a stand-in for efspipe-ingest), driven by the ordinary SDK client.
func Example() {
	dir, _ := os.MkdirTemp("", "sfnlocal-example")
	defer os.RemoveAll(dir)
	mount, _ := jobfs.Open(dir)
	defer mount.Close()
	invoke := func(_ context.Context, fn string, in json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{"id":"job-1"}`), nil
	}
	srv, _ := sfnlocal.New(sfnlocal.Config{Mount: mount, Invoke: invoke})
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()

	ctx := context.Background()
	c := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL),
		Credentials: credentials.NewStaticCredentialsProvider("any", "thing", "")})
	m, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("try"), RoleArn: aws.String("arn:aws:iam::000000000000:role/r"),
		Definition: aws.String(`{"StartAt":"Ingest","States":{"Ingest":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:efspipe-ingest","ResultPath":"$.job","End":true}}}`)})
	if err != nil {
		fmt.Println(err)
		return
	}
	x, _ := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Name: aws.String("first"), Input: aws.String(`{"source":"a.pdf"}`)})
	for {
		d, _ := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
		if d.Status != "RUNNING" {
			fmt.Println(*d.ExecutionArn)
			fmt.Println(d.Status, *d.Output)
			break
		}
		time.Sleep(time.Millisecond)
	}
	// Output:
	// arn:aws:states:us-east-1:000000000000:execution:try:first
	// SUCCEEDED {"job":{"id":"job-1"},"source":"a.pdf"}
}
