package sfnlocal

import (
	"context"
	"strings"

	"github.com/efspipe/efspipe/pkg/asl"
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

// recordMapRun keeps the latest state of a Map Run of x.
func (s *Server) recordMapRun(x *execution, r asl.MapRun) {
	s.mu.Lock()
	s.mapRuns[r.Arn] = x
	s.mu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	for i := range x.runs {
		if x.runs[i].Arn == r.Arn {
			x.runs[i] = r
			return
		}
	}
	x.runs = append(x.runs, r)
}

// Map Runs are those of the DISTRIBUTED Map states of executions started
// since the endpoint started: they are kept in memory, not on the mount.

type listMapRunsIn struct {
	Arn        string `json:"executionArn"`
	MaxResults int    `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

type mapRunListItem struct {
	ExecutionArn    string `json:"executionArn"`
	MapRunArn       string `json:"mapRunArn"`
	StateMachineArn string `json:"stateMachineArn"`
	Start           epoch  `json:"startDate"`
	Stop            *epoch `json:"stopDate,omitempty"`
}

// mapRunMachine is the ARN AWS gives the state machine a Map Run's child
// executions run: the parent's, with "/<label>" after its name.
func mapRunMachine(r asl.MapRun) string {
	parts := strings.Split(r.Arn, ":")
	return strings.Join(append(parts[:5:5], "stateMachine", parts[6]), ":")
}

func stopOf(r asl.MapRun) *epoch {
	if r.Stop.IsZero() {
		return nil
	}
	e := epoch(r.Stop)
	return &e
}

// listMapRuns: https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListMapRuns.html
func (s *Server) listMapRuns(_ context.Context, in listMapRunsIn) (any, error) {
	x, err := s.execution(in.Arn)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	items := make([]mapRunListItem, 0, len(x.runs))
	for _, r := range x.runs {
		items = append(items, mapRunListItem{r.ExecutionArn, r.Arn, mapRunMachine(r), epoch(r.Start), stopOf(r)})
	}
	x.mu.Unlock()
	page, next, err := paginate(items, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return struct {
		MapRuns   []mapRunListItem `json:"mapRuns"`
		NextToken string           `json:"nextToken,omitempty"`
	}{page, next}, nil
}

type mapRunCounts struct {
	Pending               int64 `json:"pending"`
	Running               int64 `json:"running"`
	Succeeded             int64 `json:"succeeded"`
	Failed                int64 `json:"failed"`
	TimedOut              int64 `json:"timedOut"`
	Aborted               int64 `json:"aborted"`
	Total                 int64 `json:"total"`
	ResultsWritten        int64 `json:"resultsWritten"`
	FailuresNotRedrivable int64 `json:"failuresNotRedrivable"`
	PendingRedrive        int64 `json:"pendingRedrive"`
}

func countsOf(c asl.MapRunCounts) mapRunCounts {
	return mapRunCounts{Pending: c.Pending, Running: c.Running, Succeeded: c.Succeeded, Failed: c.Failed,
		TimedOut: c.TimedOut, Aborted: c.Aborted, Total: c.Total, ResultsWritten: c.ResultsWritten}
}

// mapRunChildren is the error of ListExecutions for the child executions
// of the Map Run arn: InvalidArn or ResourceNotFound as DescribeMapRun
// says, and otherwise that this endpoint keeps no child executions (a Map
// Run's counts are in DescribeMapRun, its iterations' events in the
// parent's history).
func (s *Server) mapRunChildren(arn string) error {
	if _, err := s.mapRun(arn); err != nil {
		return err
	}
	return errorf("ValidationException", "the local endpoint keeps no child executions of Map Run '%s': DescribeMapRun counts them, and the parent execution's history has their events", arn)
}

// mapRun is the latest state of the Map Run arn.
func (s *Server) mapRun(arn string) (asl.MapRun, error) {
	parts := strings.Split(arn, ":")
	if !strings.HasPrefix(arn, "arn:") || len(parts) < 7 || parts[5] != "mapRun" {
		return asl.MapRun{}, errorf("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", arn)
	}
	s.mu.Lock()
	x := s.mapRuns[arn]
	s.mu.Unlock()
	if x != nil {
		x.mu.Lock()
		defer x.mu.Unlock()
		for _, run := range x.runs {
			if run.Arn == arn {
				return run, nil
			}
		}
	}
	return asl.MapRun{}, errorf("ResourceNotFound", "Resource not found: '%s'", arn)
}

// describeMapRun: https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeMapRun.html
func (s *Server) describeMapRun(_ context.Context, in struct {
	Arn string `json:"mapRunArn"`
}) (any, error) {
	r, err := s.mapRun(in.Arn)
	if err != nil {
		return nil, err
	}
	return struct {
		MapRunArn       string       `json:"mapRunArn"`
		ExecutionArn    string       `json:"executionArn"`
		Status          string       `json:"status"`
		Start           epoch        `json:"startDate"`
		Stop            *epoch       `json:"stopDate,omitempty"`
		MaxConcurrency  int64        `json:"maxConcurrency"`
		TolPct          float64      `json:"toleratedFailurePercentage"`
		TolCnt          int64        `json:"toleratedFailureCount"`
		ItemCounts      mapRunCounts `json:"itemCounts"`
		ExecutionCounts mapRunCounts `json:"executionCounts"`
		RedriveCount    int          `json:"redriveCount"`
	}{r.Arn, r.ExecutionArn, r.Status, epoch(r.Start), stopOf(r), r.MaxConcurrency, r.ToleratedFailurePercentage, r.ToleratedFailureCount,
		countsOf(r.Items), countsOf(r.Executions), 0}, nil
}
