// Package manifest defines the two documents that describe a job's pages:
// the split plan on the mount and the published manifest.
//
// Invariant: both are pure functions of the source and the job's settings —
// no wall-clock time, no host names, no run IDs — so an interrupted and
// replayed run writes the same bytes as an uninterrupted one.
package manifest
