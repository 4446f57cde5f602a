// Package pipeerr names every way a pipeline stage can fail.
//
// Invariant: each failure leaves a stage as exactly one Kind, and a Kind's
// name is the ASL error name the state machine retries or catches. Callers
// branch on the Kind (KindOf), never on the message. The conversion into the
// value Lambda reports happens once, at the handler boundary (ForLambda).
package pipeerr
