// Package s3direct publishes a job's output to an s3://bucket/prefix with
// the AWS SDK alone, for the finalize Lambda: pkg/publish does the same
// through gocloud.dev/blob, which would add grpc, protobuf and
// OpenTelemetry to the binary and put it over Lambda's size budget.
//
// Invariant: this package never imports gocloud.dev (a test enforces it);
// each object is one PutObject, so it appears whole or not at all, at the
// key <prefix>/<rel> that publish.Target would use for the same URL.
package s3direct
