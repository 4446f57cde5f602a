// Command checkpoint is the checkpoint stage as a Lambda function (provided.al2023).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/efspipe/efspipe/pkg/lambdaenv"
	"github.com/efspipe/efspipe/pkg/stage"
	"github.com/efspipe/efspipe/stages/checkpoint"
)

func main() {
	env := lambdaenv.Main(os.Getenv, 0)
	s := &checkpoint.Stage{Mount: env.Mount, Log: env.Log}
	lambda.StartHandlerFunc(stage.Handler("checkpoint", env.Log, s.Handle))
}
