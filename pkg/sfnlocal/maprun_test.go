package sfnlocal_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
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

// TestMapRuns: ListMapRuns
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListMapRuns.html)
// lists none for an execution without a DISTRIBUTED Map, and the Map Run
// of one that has it; DescribeMapRun (API_DescribeMapRun.html) reports its
// status, tolerated failures and item and child-execution counts
// (state-map-distributed.html, maprun-fail-threshold.html).
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

	// A DISTRIBUTED Map over three items, one of which fails, tolerated.
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","Label":"items","ToleratedFailureCount":1,
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"C","States":{
			"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":2,"Next":"F"}],"Default":"S"},
			"F":{"Type":"Fail","Error":"Two"},"S":{"Type":"Succeed"}}},"End":true}}}`
	dm, err := e.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("dist"), Definition: aws.String(def), RoleArn: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	start, err := e.c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: dm.StateMachineArn, Input: aws.String(`[1,2,3]`)})
	if err != nil {
		t.Fatal(err)
	}
	if d := e.wait(t, *start.ExecutionArn); d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("execution: %+v", d)
	}
	runs, err = e.c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: start.ExecutionArn})
	if err != nil || len(runs.MapRuns) != 1 {
		t.Fatalf("ListMapRuns: %+v %v", runs, err)
	}
	item := runs.MapRuns[0]
	if !strings.HasPrefix(*item.MapRunArn, "arn:aws:states:us-east-1:000000000000:mapRun:dist/items:") || *item.ExecutionArn != *start.ExecutionArn ||
		*item.StateMachineArn != *dm.StateMachineArn+"/items" || item.StartDate == nil || item.StopDate == nil {
		t.Errorf("map run list item: %+v", item)
	}
	got, err := e.c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: item.MapRunArn})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != types.MapRunStatusSucceeded || got.ToleratedFailureCount != 1 || *got.ExecutionArn != *start.ExecutionArn ||
		got.ItemCounts.Total != 3 || got.ItemCounts.Succeeded != 2 || got.ItemCounts.Failed != 1 ||
		got.ExecutionCounts.Total != 3 || got.ExecutionCounts.Failed != 1 || got.StopDate == nil {
		t.Errorf("DescribeMapRun: %+v %+v %+v", got, got.ItemCounts, got.ExecutionCounts)
	}
	// The parent's history records the Map Run.
	h, err := e.c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var started string
	for _, ev := range h.Events {
		if ev.Type == types.HistoryEventTypeMapRunStarted && ev.MapRunStartedEventDetails != nil {
			started = aws.ToString(ev.MapRunStartedEventDetails.MapRunArn)
		}
	}
	if started != *item.MapRunArn {
		t.Errorf("MapRunStarted names %q, want %q", started, *item.MapRunArn)
	}
}
