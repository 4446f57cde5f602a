// Package jsonataworker evaluates JSONata expressions in worker processes
// for serve, which runs state machine definitions its users write.
//
// Invariant: whatever an expression does, the process that asked for it
// survives: an expression that recurses without bound (Go's stack overflow
// is fatal, beyond any recover), that exhausts memory, or that is still
// running when its execution is stopped ends or is killed with its worker
// alone, and the evaluation returns an error; the next evaluation starts a
// new worker. A worker computes exactly what asl.EvalJSONata computes in
// process, so an execution's outputs, errors and causes do not depend on
// where its expressions ran.
package jsonataworker
