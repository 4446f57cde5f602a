// Package local runs the pipeline's state machine on one machine: the
// embedded ASL definition, interpreted by package asl, invoking the five
// stage handlers in-process through the same JSON path Lambda uses.
//
// Invariant: nothing here is a copy of the cloud pipeline — the definition
// is pipeline.asl.json and the handlers are the stages' own, wrapped by
// stage.Handler exactly as their Lambda mains wrap them; only the engine and
// the mount differ.
package local
