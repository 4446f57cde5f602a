// Command ingest is the ingest stage as a Lambda function (provided.al2023).
// It reads s3:// sources only: an execution input naming a local path is
// refused.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/efspipe/efspipe/pkg/lambdaenv"
	"github.com/efspipe/efspipe/pkg/source"
	"github.com/efspipe/efspipe/pkg/stage"
	"github.com/efspipe/efspipe/stages/ingest"
)

func main() {
	env := lambdaenv.Main(os.Getenv, 0)
	sources := source.Buckets{Client: source.S3ClientFor(lambdaenv.Must(lambdaenv.AWS(os.Getenv)), "")}
	s := &ingest.Stage{Mount: env.Mount, Sources: sources, Settings: env.Settings, Log: env.Log}
	lambda.StartHandlerFunc(stage.Handler("ingest", env.Log, s.Handle))
}
