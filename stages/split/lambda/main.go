// Command split is the split stage as a Lambda function (provided.al2023).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/efspipe/efspipe/pkg/lambdaenv"
	"github.com/efspipe/efspipe/pkg/secret"
	"github.com/efspipe/efspipe/pkg/stage"
	"github.com/efspipe/efspipe/stages/split"
)

func main() {
	env := lambdaenv.Main(os.Getenv, 0)
	// Only ARNs in the cloud, and only when the stack grants the role
	// some (infra: PasswordSecrets sets EFSPIPE_PASSWORD_SECRETS): without
	// a grant or a route to the service, a call would time out instead of
	// failing with a reason.
	secrets := &secret.Resolver{}
	if os.Getenv("EFSPIPE_PASSWORD_SECRETS") != "" {
		cfg := lambdaenv.Must(lambdaenv.AWS(os.Getenv))
		secrets.AWS = func(context.Context) (aws.Config, error) { return cfg, nil }
	}
	s := &split.Stage{Mount: env.Mount, Log: env.Log, Secrets: secrets}
	lambda.StartHandlerFunc(stage.Handler("split", env.Log, s.Handle))
}
