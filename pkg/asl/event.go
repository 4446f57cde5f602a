package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Event is one entry of an execution history. Its JSON form is that of the
// Step Functions GetExecutionHistory HistoryEvent, with the timestamp in
// epoch seconds and milliseconds as the API sends it; timestamps are
// truncated to milliseconds when events are made, so the JSON round-trips
// exactly.
type Event struct {
	Timestamp       time.Time `json:"-"`
	Type            string    `json:"type"`
	ID              int64     `json:"id"`
	PreviousEventID int64     `json:"previousEventId"`

	ExecutionStartedEventDetails   *ExecutionStartedEventDetails   `json:"executionStartedEventDetails,omitempty"`
	ExecutionSucceededEventDetails *ExecutionSucceededEventDetails `json:"executionSucceededEventDetails,omitempty"`
	ExecutionFailedEventDetails    *ErrorDetails                   `json:"executionFailedEventDetails,omitempty"`
	ExecutionAbortedEventDetails   *ErrorDetails                   `json:"executionAbortedEventDetails,omitempty"`
	ExecutionTimedOutEventDetails  *ErrorDetails                   `json:"executionTimedOutEventDetails,omitempty"`
	ExecutionRedrivenEventDetails  *ExecutionRedrivenEventDetails  `json:"executionRedrivenEventDetails,omitempty"`

	StateEnteredEventDetails *StateEnteredEventDetails `json:"stateEnteredEventDetails,omitempty"`
	StateExitedEventDetails  *StateExitedEventDetails  `json:"stateExitedEventDetails,omitempty"`

	TaskScheduledEventDetails *TaskScheduledEventDetails `json:"taskScheduledEventDetails,omitempty"`
	TaskStartedEventDetails   *TaskStartedEventDetails   `json:"taskStartedEventDetails,omitempty"`
	TaskSucceededEventDetails *TaskSucceededEventDetails `json:"taskSucceededEventDetails,omitempty"`
	TaskFailedEventDetails    *TaskFailedEventDetails    `json:"taskFailedEventDetails,omitempty"`
	TaskTimedOutEventDetails  *TaskFailedEventDetails    `json:"taskTimedOutEventDetails,omitempty"`

	LambdaFunctionScheduledEventDetails *LambdaFunctionScheduledEventDetails `json:"lambdaFunctionScheduledEventDetails,omitempty"`
	LambdaFunctionSucceededEventDetails *LambdaFunctionSucceededEventDetails `json:"lambdaFunctionSucceededEventDetails,omitempty"`
	LambdaFunctionFailedEventDetails    *ErrorDetails                        `json:"lambdaFunctionFailedEventDetails,omitempty"`
	LambdaFunctionTimedOutEventDetails  *ErrorDetails                        `json:"lambdaFunctionTimedOutEventDetails,omitempty"`

	MapStateStartedEventDetails       *MapStateStartedEventDetails `json:"mapStateStartedEventDetails,omitempty"`
	MapIterationStartedEventDetails   *MapIterationEventDetails    `json:"mapIterationStartedEventDetails,omitempty"`
	MapIterationSucceededEventDetails *MapIterationEventDetails    `json:"mapIterationSucceededEventDetails,omitempty"`
	MapIterationFailedEventDetails    *MapIterationEventDetails    `json:"mapIterationFailedEventDetails,omitempty"`
	MapIterationAbortedEventDetails   *MapIterationEventDetails    `json:"mapIterationAbortedEventDetails,omitempty"`

	MapRunStartedEventDetails *MapRunStartedEventDetails `json:"mapRunStartedEventDetails,omitempty"`
	MapRunFailedEventDetails  *ErrorDetails              `json:"mapRunFailedEventDetails,omitempty"`
}

// DataDetails is HistoryEventExecutionDataDetails.
type DataDetails struct {
	Truncated bool `json:"truncated"`
}

// ExecutionStartedEventDetails describes the start of an execution.
type ExecutionStartedEventDetails struct {
	Input        string       `json:"input"`
	InputDetails *DataDetails `json:"inputDetails,omitempty"`
	RoleArn      string       `json:"roleArn,omitempty"`
}

// ExecutionSucceededEventDetails holds the output of an execution.
type ExecutionSucceededEventDetails struct {
	Output        string       `json:"output"`
	OutputDetails *DataDetails `json:"outputDetails,omitempty"`
}

// ErrorDetails is the {error, cause} pair of the failure, abort and
// timeout events of executions and Lambda functions.
type ErrorDetails struct {
	Error string `json:"error,omitempty"`
	Cause string `json:"cause,omitempty"`
}

// ExecutionRedrivenEventDetails counts the redrives of an execution.
type ExecutionRedrivenEventDetails struct {
	RedriveCount int `json:"redriveCount"`
}

// StateEnteredEventDetails describes a state being entered.
type StateEnteredEventDetails struct {
	Name         string       `json:"name"`
	Input        string       `json:"input"`
	InputDetails *DataDetails `json:"inputDetails,omitempty"`
}

// StateExitedEventDetails describes a state being exited. AssignedVariables
// holds, as JSON text, the variables the state assigned; a redrive
// restores them from there.
type StateExitedEventDetails struct {
	Name                     string            `json:"name"`
	Output                   string            `json:"output"`
	OutputDetails            *DataDetails      `json:"outputDetails,omitempty"`
	AssignedVariables        map[string]string `json:"assignedVariables,omitempty"`
	AssignedVariablesDetails *DataDetails      `json:"assignedVariablesDetails,omitempty"`
}

// TaskScheduledEventDetails describes a service integration being scheduled.
type TaskScheduledEventDetails struct {
	ResourceType     string `json:"resourceType"`
	Resource         string `json:"resource"`
	Region           string `json:"region"`
	Parameters       string `json:"parameters"`
	TimeoutInSeconds int64  `json:"timeoutInSeconds,omitempty"`
}

// TaskStartedEventDetails describes a service integration being started.
type TaskStartedEventDetails struct {
	ResourceType string `json:"resourceType"`
	Resource     string `json:"resource"`
}

// TaskSucceededEventDetails holds the result of a service integration.
type TaskSucceededEventDetails struct {
	ResourceType  string       `json:"resourceType"`
	Resource      string       `json:"resource"`
	Output        string       `json:"output"`
	OutputDetails *DataDetails `json:"outputDetails,omitempty"`
}

// TaskFailedEventDetails describes a failed or timed-out service integration.
type TaskFailedEventDetails struct {
	ResourceType string `json:"resourceType"`
	Resource     string `json:"resource"`
	Error        string `json:"error,omitempty"`
	Cause        string `json:"cause,omitempty"`
}

// LambdaFunctionScheduledEventDetails describes a Lambda function (plain
// ARN resource) being scheduled.
type LambdaFunctionScheduledEventDetails struct {
	Resource         string       `json:"resource"`
	Input            string       `json:"input"`
	InputDetails     *DataDetails `json:"inputDetails,omitempty"`
	TimeoutInSeconds int64        `json:"timeoutInSeconds,omitempty"`
}

// LambdaFunctionSucceededEventDetails holds a Lambda function's result.
type LambdaFunctionSucceededEventDetails struct {
	Output        string       `json:"output"`
	OutputDetails *DataDetails `json:"outputDetails,omitempty"`
}

// MapStateStartedEventDetails gives the number of items of a Map state.
type MapStateStartedEventDetails struct {
	Length int `json:"length"`
}

// MapRunStartedEventDetails names the Map Run a DISTRIBUTED Map started.
type MapRunStartedEventDetails struct {
	MapRunArn string `json:"mapRunArn"`
}

// MapIterationEventDetails names a Map state and one of its iterations.
type MapIterationEventDetails struct {
	Name  string `json:"name"`
	Index int    `json:"index"`
}

type eventJSON Event

// MarshalJSON writes the timestamp as the API does: seconds since the
// epoch with a fraction in milliseconds.
func (e Event) MarshalJSON() ([]byte, error) {
	body, err := json.Marshal(eventJSON(e))
	if err != nil {
		return nil, err
	}
	ms := e.Timestamp.UnixMilli()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"timestamp":%s%d.%03d,`, sign, ms/1000, ms%1000)
	b.Write(body[1:])
	return b.Bytes(), nil
}

// UnmarshalJSON accepts the timestamp as epoch seconds (the API) or as an
// RFC 3339 string (the AWS CLI's rendering).
func (e *Event) UnmarshalJSON(data []byte) error {
	var aux struct {
		eventJSON
		Timestamp json.RawMessage `json:"timestamp"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	*e = Event(aux.eventJSON)
	ts := strings.TrimSpace(string(aux.Timestamp))
	switch {
	case ts == "" || ts == "null":
	case ts[0] == '"':
		var s string
		if err := json.Unmarshal(aux.Timestamp, &s); err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("asl: event %d: bad timestamp: %w", e.ID, err)
		}
		e.Timestamp = t
	default:
		t, err := parseEpoch(ts)
		if err != nil {
			return fmt.Errorf("asl: event %d: bad timestamp %s", e.ID, ts)
		}
		e.Timestamp = t
	}
	return nil
}

// parseEpoch parses decimal epoch seconds exactly (no float rounding),
// with or without an exponent.
func parseEpoch(s string) (time.Time, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || e > 30 || e < -30 {
			return time.Time{}, fmt.Errorf("bad exponent in %q", s)
		}
		s, exp = s[:i], e
	}
	intPart, frac, _ := strings.Cut(s, ".")
	digits := intPart + frac
	point := len(intPart) + exp
	for point < 0 {
		digits, point = "0"+digits, point+1
	}
	for point > len(digits) {
		digits += "0"
	}
	secs, fracDigits := digits[:point], digits[point:]
	if secs == "" {
		secs = "0"
	}
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	fracDigits = (fracDigits + "000000000")[:9]
	ns, err := strconv.ParseInt(fracDigits, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	if neg {
		sec, ns = -sec, -ns
	}
	return time.Unix(sec, ns).UTC(), nil
}
