// Command infra is the CDK app that deploys efspipe to AWS: one stack holding
// the VPC, the EFS file system and its access point, the input and output
// buckets, the five stage Lambdas, the trigger Lambda and the Standard state
// machine built from statemachine/pipeline.asl.json.
//
// Invariant: the state machine in the template is the ASL file itself,
// inlined byte for byte, with every ${...}FunctionArn placeholder bound by
// DefinitionSubstitutions to a stage Lambda of this stack; and every stage
// Lambda reaches the shared mount only through the one access point
// (/efspipe, uid/gid 1000) mounted at /mnt/efs.
//
// It is a nested module so that CDK and jsii never enter the dependency graph
// of the Lambda binaries or of the root module's tests.
package main
