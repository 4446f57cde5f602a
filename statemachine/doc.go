// Package statemachine embeds pipeline.asl.json, the one definition of the
// pipeline that AWS Step Functions and the local engine both run.
//
// Invariant: the definition is used as written; the only change ever made
// to it is substituting the ${...}FunctionArn placeholders (CDK's
// DefinitionSubstitutions in the cloud, local ARNs here).
package statemachine
