// Command finalize is the finalize stage as a Lambda function (provided.al2023).
// It publishes through s3direct, not pkg/publish: gocloud would put the
// binary over the size budget.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/efspipe/efspipe/pkg/lambdaenv"
	"github.com/efspipe/efspipe/pkg/publish/s3direct"
	"github.com/efspipe/efspipe/pkg/source"
	"github.com/efspipe/efspipe/pkg/stage"
	"github.com/efspipe/efspipe/stages/finalize"
)

func main() {
	env := lambdaenv.Main(os.Getenv, lambdaenv.Output)
	client := source.S3ClientFor(lambdaenv.Must(lambdaenv.AWS(os.Getenv)), "")
	out := lambdaenv.Must(s3direct.Open(client, env.OutURL))
	s := &finalize.Stage{Mount: env.Mount, Out: out, Log: env.Log}
	lambda.StartHandlerFunc(stage.Handler("finalize", env.Log, s.Handle))
}
