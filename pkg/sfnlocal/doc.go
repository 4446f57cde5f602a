// Package sfnlocal is a local endpoint of the AWS Step Functions API (AWS
// JSON 1.0, X-Amz-Target AWSStepFunctions.<Action>): the pipeline's own
// state machine and machines users create from their definitions run in
// the asl interpreter, their Task states invoking efspipe's stage handlers
// in-process. The AWS CLI and SDKs talk to it with --endpoint-url.
//
// Invariant: an execution's status, output, error and redrive count are
// derived from its history alone, and that history (with the machines and
// executions) is kept under sfn/ on the mount, so a restarted server lists
// what it ran and can redrive what failed. Machines and executions are
// written atomically; a history is appended to, one event a line, and
// only the events since the last flush are in memory, so a server's memory
// does not grow with the histories it keeps. An
// execution the previous process left RUNNING is closed on load as FAILED
// with States.Runtime, "interrupted by a restart", and is then redrivable:
// the stages are idempotent, so a redrive reruns only what did not finish.
package sfnlocal
