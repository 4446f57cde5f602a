// Package lambdaenv builds a stage's dependencies from the environment, for
// the Lambda mains only.
//
// Invariant: a function that starts has a mount that exists, is a writable
// directory with room, and was logged as found; a function whose mount or
// configuration is wrong fails at cold start with one clear log line, never
// on its first job. The environment is read through the getenv the main
// passes in, never directly.
package lambdaenv
