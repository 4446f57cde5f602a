// Package stage is the boundary every pipeline stage is called through,
// by Lambda in the cloud and by the local engine alike.
//
// Invariant: nothing leaves a stage but its output or an error whose
// reported type is the failure's ASL error name; a panic is recovered into
// pipeerr.Internal with its stack logged, never a crashed process.
package stage
