// Package secret resolves references to a PDF's password: a Secrets
// Manager secret or an SSM SecureString parameter (by ARN) in the cloud,
// an environment variable or a file locally.
//
// Invariant: only the reference travels in state, execution input and
// history, and on the mount; the password itself exists only in the memory
// of the split stage that resolves it, and no error quotes it.
package secret
