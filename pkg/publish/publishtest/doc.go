// Package publishtest is the conformance suite every output target passes:
// publish.Target (folders, and buckets through gocloud) and
// s3direct.Target (buckets through the AWS SDK alone).
//
// Invariant: the suite checks only the contract finalize relies on (Put,
// Get with found=false for a missing object, URL), so an implementation
// that passes it can stand behind finalize.Output.
package publishtest
