// Package awstest serves AWS APIs to tests: a real S3 (and Step Functions)
// protocol server from moto_server, and a fake Step Functions endpoint
// whose executions a test finishes by hand.
//
// Invariant: everything started here is stopped when the test that started
// it ends, and a test never reaches a real AWS account: Env points the whole
// config chain at the given endpoint with fixed test credentials.
package awstest
