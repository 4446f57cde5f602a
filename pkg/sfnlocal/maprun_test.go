package sfnlocal_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// TestDescribeStateMachineForExecution
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeStateMachineForExecution.html):
// the definition an execution ran with, not the machine's current one.
func TestDescribeStateMachineForExecution(t *testing.T) {
	e := newEnv(t, "", nil)
	ctx := t.Context()
	created, err := e.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("m"), Definition: aws.String(passDefinition("before")), RoleArn: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	d := e.runOutput(t, *created.StateMachineArn, "r")
	if _, err := e.c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: created.StateMachineArn, Definition: aws.String(passDefinition("after"))}); err != nil {
		t.Fatal(err)
	}
	got, err := e.c.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: d.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Definition != passDefinition("before") || *got.StateMachineArn != *created.StateMachineArn || *got.Name != "m" || *got.RoleArn != role ||
		got.UpdateDate == nil || aws.ToString(got.RevisionId) == "" {
		t.Errorf("describe machine for execution: %+v", got)
	}
	if _, err := e.c.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{
		ExecutionArn: aws.String("arn:aws:states:us-east-1:000000000000:execution:m:none")}); errType(err) != "ExecutionDoesNotExist" {
		t.Errorf("unknown execution: %v", err)
	}
}

// TestMapRuns: there is no distributed Map locally, so ListMapRuns
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListMapRuns.html)
// lists none for an execution that exists, and DescribeMapRun
// (API_DescribeMapRun.html) finds none.
func TestMapRuns(t *testing.T) {
	e := newEnv(t, "", nil)
	ctx := t.Context()
	created, err := e.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("m"), Definition: aws.String(passDefinition("x")), RoleArn: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	d := e.runOutput(t, *created.StateMachineArn, "r")
	runs, err := e.c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: d.ExecutionArn})
	if err != nil || runs.MapRuns == nil || len(runs.MapRuns) != 0 || runs.NextToken != nil {
		t.Fatalf("ListMapRuns: %+v %v", runs, err)
	}
	if _, err := e.c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:000000000000:execution:m:none")}); errType(err) != "ExecutionDoesNotExist" {
		t.Errorf("ListMapRuns of no execution: %v", err)
	}
	mapRun := "arn:aws:states:us-east-1:000000000000:mapRun:m/Map:0a1b2c3d-0000-4000-8000-000000000000"
	if _, err := e.c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: &mapRun}); errType(err) != "ResourceNotFound" {
		t.Errorf("DescribeMapRun: %v", err)
	}
	if _, err := e.c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: d.ExecutionArn}); errType(err) != "InvalidArn" {
		t.Errorf("DescribeMapRun of an execution ARN: %v", err)
	}
}
