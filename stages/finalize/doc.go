// Package finalize is the last stage: it publishes a job from its sealed
// manifest, marks the job done and removes its intermediates; on the
// failure path it marks the job failed and publishes nothing.
//
// Invariant: the published manifest is written after every page and the
// dictionary, is byte-identical to the sealed one, and a failed job has
// nothing under <out>/<job>/.
package finalize
