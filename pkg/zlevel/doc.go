// Package zlevel names the compression levels a job's settings may ask for,
// apart from the codec: the settings, the plan and the stages that only
// carry a level (ingest, checkpoint, finalize, trigger) do not link zstd,
// which keeps their Lambda bootstraps under the 10 MB budget.
//
// Invariant: a Level that passes Check is one pkg/zpage can encode at, and
// Reach never exceeds MaxDictionary.
package zlevel
