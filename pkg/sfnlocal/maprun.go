package sfnlocal

import (
	"context"
	"strings"
)

// describeStateMachineForExecution: https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeStateMachineForExecution.html
// The definition and role are those the execution runs with, fixed at
// StartExecution, whatever updates the machine got since.
func (s *Server) describeStateMachineForExecution(_ context.Context, in executionArnIn) (any, error) {
	x, err := s.execution(in.Arn)
	if err != nil {
		return nil, err
	}
	rec := x.rec
	updated := rec.MachineUpdated
	if updated.IsZero() { // an execution recorded before the field existed
		updated = rec.Start
	}
	return struct {
		Arn        string `json:"stateMachineArn"`
		Name       string `json:"name"`
		Definition string `json:"definition"`
		RoleArn    string `json:"roleArn"`
		Updated    epoch  `json:"updateDate"`
		RevisionID string `json:"revisionId,omitempty"`
		Logging    any    `json:"loggingConfiguration"`
		Tracing    any    `json:"tracingConfiguration"`
	}{rec.MachineArn, rec.MachineArn[strings.LastIndex(rec.MachineArn, ":")+1:], rec.Definition, rec.RoleArn, epoch(updated), rec.RevisionID,
		map[string]any{"level": "OFF", "includeExecutionData": false}, map[string]any{"enabled": false}}, nil
}

// Map Runs belong to distributed Map states, which the engine refuses at
// create time: an execution here never has one.

type listMapRunsIn struct {
	Arn        string `json:"executionArn"`
	MaxResults int    `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

// listMapRuns: https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListMapRuns.html
func (s *Server) listMapRuns(_ context.Context, in listMapRunsIn) (any, error) {
	if _, err := s.execution(in.Arn); err != nil {
		return nil, err
	}
	page, next, err := paginate([]struct{}{}, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return struct {
		MapRuns   []struct{} `json:"mapRuns"`
		NextToken string     `json:"nextToken,omitempty"`
	}{page, next}, nil
}

// describeMapRun: https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeMapRun.html
func (s *Server) describeMapRun(_ context.Context, in struct {
	Arn string `json:"mapRunArn"`
}) (any, error) {
	parts := strings.Split(in.Arn, ":")
	if !strings.HasPrefix(in.Arn, "arn:") || len(parts) < 7 || parts[5] != "mapRun" {
		return nil, errorf("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", in.Arn)
	}
	return nil, errorf("ResourceNotFound", "Resource not found: '%s' (the local endpoint runs no distributed Map, so there are no Map Runs)", in.Arn)
}
