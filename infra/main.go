package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	NewPipelineStack(app, "EfsPipe", &PipelineStackProps{
		StackProps: awscdk.StackProps{
			Description: jsii.String("efspipe: PDF pipeline of five Go Lambdas sharing one EFS mount, driven by Step Functions"),
		},
	})
	app.Synth(nil)
}
