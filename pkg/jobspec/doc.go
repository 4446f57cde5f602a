// Package jobspec holds a job's settings and source identity.
//
// Invariant: a job's settings are fixed when it is ingested and written to
// jobs/<job>/job.json; every later stage and every replay reads them from
// there, so stages configured differently can never disagree within one job
// and a replay reproduces the original bytes.
package jobspec
