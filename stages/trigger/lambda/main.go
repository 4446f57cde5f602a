// Command trigger starts an execution per uploaded object (provided.al2023).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/efspipe/efspipe/pkg/lambdaenv"
	"github.com/efspipe/efspipe/pkg/stage"
	"github.com/efspipe/efspipe/stages/trigger"
)

func main() {
	log := lambdaenv.Logger(os.Getenv, os.Stderr)
	cfg := lambdaenv.Must(lambdaenv.AWS(os.Getenv))
	t := &trigger.Trigger{SFN: sfn.NewFromConfig(cfg), StateMachineARN: lambdaenv.Required(os.Getenv, "EFSPIPE_STATE_MACHINE_ARN"), Log: log}
	lambda.StartHandlerFunc(stage.Handler("trigger", log, t.Handle))
}
