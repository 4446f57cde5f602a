// Package asl is an in-process interpreter of the Amazon States Language
// as AWS Step Functions runs it, with both query languages (JSONPath and
// JSONata, per machine or per state) and workflow variables: Parse refuses,
// with a *DefinitionError, anything it would not run exactly as the cloud
// does, and Execute and Redrive record a history that mirrors the Step
// Functions HistoryEvent API.
//
// Invariant: a definition that parses runs with Step Functions' semantics,
// and a history recorded by this package (persisted as JSON or not) is
// enough to redrive its execution without rerunning a state that succeeded.
package asl
