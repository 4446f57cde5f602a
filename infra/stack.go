package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsefs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// MountPath is where every stage Lambda sees the shared file system; the
// stages read it from EFSPIPE_MOUNT.
const MountPath = "/mnt/efs"

// Access point identity: every file the stages create is owned by this
// POSIX user, whatever the Lambda runs as, and the root of the access point
// is created 0750 on first mount.
const (
	accessPointPath = "/efspipe"
	posixID         = "1000"
	rootPermissions = "750"
)

// NewPipelineStack defines the whole cloud deployment of efspipe.
func NewPipelineStack(scope constructs.Construct, id string, props *PipelineStackProps) awscdk.Stack {
	if props == nil {
		props = &PipelineStackProps{}
	}
	sprops := props.StackProps
	stack := awscdk.NewStack(scope, &id, &sprops)
	p := props.resolve(stack)

	def, err := loadDefinition(p.ASLPath)
	if err != nil {
		panic("efspipe: " + err.Error())
	}
	for _, name := range append(slices.Clone(Stages), Trigger) {
		bootstrap := filepath.Join(p.BuildDir, name, "bootstrap")
		if _, err := os.Stat(bootstrap); err != nil {
			panic(fmt.Sprintf("efspipe: %s missing: run `make build` first, or pass -c buildDir=DIR (%v)", bootstrap, err))
		}
	}

	removal := awscdk.RemovalPolicy_RETAIN
	if p.DestroyOnRemoval {
		removal = awscdk.RemovalPolicy_DESTROY
	}
	retention := retentionDays[p.LogRetentionDays]
	logGroup := func(id string, name *string) awslogs.LogGroup {
		return awslogs.NewLogGroup(stack, jsii.String(id), &awslogs.LogGroupProps{
			LogGroupName:  name,
			Retention:     retention,
			RemovalPolicy: removal,
		})
	}

	// ---- Buckets -------------------------------------------------------

	accessLogs := awss3.NewBucket(stack, jsii.String("AccessLogs"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED, // the only encryption S3 server access logging delivers to
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     removal,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-access-logs"),
			Expiration: awscdk.Duration_Days(jsii.Number(float64(p.LogRetentionDays))),
		}},
	})

	input := awss3.NewBucket(stack, jsii.String("Input"), &awss3.BucketProps{
		BucketName:             optString(p.InputBucketName),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:              jsii.Bool(true), // a job is named after the source's version ID
		ServerAccessLogsBucket: accessLogs,
		ServerAccessLogsPrefix: jsii.String("input/"),
		RemovalPolicy:          removal,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-sources"),
			Expiration:                          days(p.InputRetentionDays),
			NoncurrentVersionExpiration:         days(7),
			AbortIncompleteMultipartUploadAfter: days(1),
		}},
	})
	// S3 -> EventBridge is a bucket property in CloudFormation. The L2
	// eventBridgeEnabled prop would instead deploy a custom-resource Lambda
	// to call PutBucketNotificationConfiguration, so set it directly.
	input.Node().DefaultChild().(awss3.CfnBucket).AddPropertyOverride(
		jsii.String("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled"), jsii.Bool(true))

	outputRule := &awss3.LifecycleRule{
		Id:                                  jsii.String("abort-incomplete-uploads"),
		AbortIncompleteMultipartUploadAfter: days(1), // finalize may not abort its own multipart uploads
	}
	if p.OutputRetentionDays > 0 {
		outputRule.Expiration = days(p.OutputRetentionDays)
	}
	output := awss3.NewBucket(stack, jsii.String("Output"), &awss3.BucketProps{
		BucketName:             optString(p.OutputBucketName),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: accessLogs,
		ServerAccessLogsPrefix: jsii.String("output/"),
		RemovalPolicy:          removal,
		LifecycleRules:         &[]*awss3.LifecycleRule{outputRule},
	})
	prefix := strings.Trim(p.OutputPrefix, "/")
	outputURL := awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("s3://"), output.BucketName(), jsii.String("/" + prefix)})
	inputObjects := input.ArnForObjects(jsii.String("*"))
	outputObjects := output.ArnForObjects(jsii.String(prefix + "/*"))

	// ---- Network -------------------------------------------------------

	isolated := &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		MaxAzs:      jsii.Number(2),
		NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
			Name:       jsii.String("stages"),
			SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED,
			CidrMask:   jsii.Number(24),
		}},
		// true would deploy a custom-resource Lambda to empty the default
		// security group; nothing here uses that group.
		RestrictDefaultSecurityGroup: jsii.Bool(false),
		FlowLogs: &map[string]*awsec2.FlowLogOptions{
			"All": {
				Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(logGroup("FlowLogs", nil), nil),
				TrafficType: awsec2.FlowLogTrafficType_ALL,
			},
		},
	})
	// ingest and finalize reach S3 through this endpoint, without a NAT.
	// Its policy admits only what those two do, whatever the caller's role.
	s3Endpoint := vpc.AddGatewayEndpoint(jsii.String("S3"), &awsec2.GatewayVpcEndpointOptions{
		Service: awsec2.GatewayVpcEndpointAwsService_S3(),
		Subnets: &[]*awsec2.SubnetSelection{isolated},
	})
	s3Endpoint.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:GetObject", "s3:GetObjectVersion"),
		Resources:  &[]*string{inputObjects},
	}))
	s3Endpoint.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    finalizeS3Actions(),
		Resources:  &[]*string{outputObjects},
	}))

	stageSG := awsec2.NewSecurityGroup(stack, jsii.String("StageSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("efspipe stage Lambdas: NFS to the file system, HTTPS to S3"),
		AllowAllOutbound: jsii.Bool(false),
	})
	// The isolated subnets route nowhere but the VPC and the S3 gateway
	// endpoint, so "anywhere on 443" reaches S3 only. (S3's prefix list ID
	// differs per region and has no CloudFormation lookup.)
	stageSG.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)),
		jsii.String("HTTPS to S3 through the gateway endpoint"), nil)
	efsSG := awsec2.NewSecurityGroup(stack, jsii.String("FileSystemSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("efspipe file system mount targets: NFS from the stage Lambdas only"),
		AllowAllOutbound: jsii.Bool(false),
	})

	// ---- File system ---------------------------------------------------

	fs := awsefs.NewFileSystem(stack, jsii.String("FileSystem"), &awsefs.FileSystemProps{
		Vpc:             vpc,
		VpcSubnets:      isolated,
		SecurityGroup:   efsSG,
		Encrypted:       jsii.Bool(true),
		PerformanceMode: awsefs.PerformanceMode_GENERAL_PURPOSE,
		// Bursting throttles a pipeline once its credits run out; Elastic
		// bills per byte moved and never throttles below the request rate.
		ThroughputMode: awsefs.ThroughputMode_ELASTIC,
		// Intermediates of a job are read back within minutes; anything
		// left a week is cold (finalize's retention removes most of it).
		LifecyclePolicy:             awsefs.LifecyclePolicy_AFTER_7_DAYS,
		OutOfInfrequentAccessPolicy: awsefs.OutOfInfrequentAccessPolicy_AFTER_1_ACCESS,
		RemovalPolicy:               removal,
		// With a file system policy in place EFS authorizes every mount with
		// IAM: only principals of this account whose own policy allows it
		// (the stage roles, through the access point), only through a mount
		// target and an access point, and never as root. Anonymous NFS
		// clients match no statement and are refused.
		FileSystemPolicy: awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
			Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
				Actions:    jsii.Strings("elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"),
				Resources:  jsii.Strings("*"), // in a resource policy "*" is this file system
				Conditions: &map[string]any{
					"Bool": map[string]any{"elasticfilesystem:AccessedViaMountTarget": "true"},
					"StringLike": map[string]any{"elasticfilesystem:AccessPointArn": stack.FormatArn(&awscdk.ArnComponents{
						Service: jsii.String("elasticfilesystem"), Resource: jsii.String("access-point"), ResourceName: jsii.String("fsap-*"),
					})},
				},
			})},
		}),
		// true only stops CDK from appending its own statement, which would
		// grant ClientWrite and ClientRootAccess to any principal; the policy
		// above already refuses anonymous access.
		AllowAnonymousAccess: jsii.Bool(true),
	})
	ap := fs.AddAccessPoint(jsii.String("AccessPoint"), &awsefs.AccessPointOptions{
		Path:      jsii.String(accessPointPath),
		PosixUser: &awsefs.PosixUser{Uid: jsii.String(posixID), Gid: jsii.String(posixID)},
		CreateAcl: &awsefs.Acl{OwnerUid: jsii.String(posixID), OwnerGid: jsii.String(posixID), Permissions: jsii.String(rootPermissions)},
	})

	// ---- Functions -----------------------------------------------------

	newFunction := func(name string, env map[string]string, reserved int, inVPC bool) awslambda.Function {
		id := strings.ToUpper(name[:1]) + name[1:]
		size := p.Sizes[name]
		logs := logGroup(id+"Logs", nil)
		role := awsiam.NewRole(stack, jsii.String(id+"Role"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("efspipe " + name + " Lambda"),
		})
		// Written out instead of the AWS managed Lambda policies, which allow
		// writing to every log group in the account.
		logs.GrantWrite(role)

		env["EFSPIPE_MEMORY_LIMIT_MIB"] = strconv.Itoa(memoryLimitMiB(size.MemoryMiB))
		fp := &awslambda.FunctionProps{
			Description:  jsii.String("efspipe " + name),
			Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
			Architecture: awslambda.Architecture_ARM_64(),
			Handler:      jsii.String("bootstrap"),
			Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(p.BuildDir, name)), nil),
			MemorySize:   jsii.Number(float64(size.MemoryMiB)),
			Timeout:      awscdk.Duration_Seconds(jsii.Number(size.Timeout.Seconds())),
			Role:         role,
			LogGroup:     logs,
			Environment:  jsiiMap(env),
		}
		if reserved > 0 && !p.NoReservedConcurrency {
			fp.ReservedConcurrentExecutions = jsii.Number(float64(reserved))
		}
		if inVPC {
			fp.Vpc = vpc
			fp.VpcSubnets = isolated
			fp.SecurityGroups = &[]awsec2.ISecurityGroup{stageSG}
			fp.Filesystem = awslambda.FileSystem_FromEfsAccessPoint(ap, jsii.String(MountPath))
			// What AWSLambdaVPCAccessExecutionRole grants: Lambda creates and
			// deletes the function's network interfaces with the execution
			// role, and EC2 has no resource-level permissions for Describe*.
			role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings(
					"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
					"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"),
				Resources: jsii.Strings("*"),
			}))
			cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
				Id: jsii.String("AwsSolutions-IAM5"),
				Reason: jsii.String("Resource * on two statements AWS requires so: the EC2 network-interface actions a VPC Lambda's role needs " +
					"(Describe* has no resource-level permissions; the ENI IDs do not exist at deploy time), and elasticfilesystem:ClientMount " +
					"as lambda.FileSystem.fromEfsAccessPoint grants it, conditioned on elasticfilesystem:AccessPointArn being this stack's access point."),
				AppliesTo: &[]any{jsii.String("Resource::*")},
			}}, jsii.Bool(true))
		}
		return awslambda.NewFunction(stack, jsii.String(id+"Function"), fp)
	}

	jobs := p.MaxConcurrentJobs
	mountEnv := func() map[string]string { return map[string]string{"EFSPIPE_MOUNT": MountPath} }
	fns := map[string]awslambda.Function{}
	for _, name := range Stages {
		env := mountEnv()
		reserved := jobs
		if name == Compress {
			// Every job may have the whole Map in flight at once.
			reserved = jobs * max(1, def.mapConcurrency)
		}
		fns[name] = newFunction(name, env, reserved, true)
	}
	// A token (the bucket name), so added after construction.
	fns[Finalize].AddEnvironment(jsii.String("EFSPIPE_OUT"), outputURL, nil)

	// ingest reads versioned sources; finalize publishes under its prefix
	// only. Nothing else in the pipeline touches S3.
	fns[Ingest].AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:GetObject", "s3:GetObjectVersion"),
		Resources: &[]*string{inputObjects},
	}))
	fns[Finalize].AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   finalizeS3Actions(),
		Resources: &[]*string{outputObjects},
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(fns[Ingest].Role(), &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("ingest reads whichever object was uploaded: s3:GetObject and s3:GetObjectVersion on the input bucket's objects (any key, read only) are the narrowest grant that allows it."),
		AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<Input[0-9A-F]+\.Arn>\/\*$/`)}},
	}}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(fns[Finalize].Role(), &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("finalize writes one key per page of each job under the output prefix, and reads and withdraws what it published there before (a replay mends a publication): s3:PutObject, s3:GetObject and s3:DeleteObject on <output bucket>/" + prefix + "/* only."),
		AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<Output[0-9A-F]+\.Arn>\/` + regexQuote(prefix) + `\/\*$/`)}},
	}}, jsii.Bool(true))

	// split resolves an execution's passwordSecretArn itself, so the
	// password never travels in state: it may read the secrets and
	// parameters named in PasswordSecrets, through interface endpoints
	// (the isolated subnets have no route to the services otherwise).
	if len(p.PasswordSecrets) > 0 {
		fns[Split].AddEnvironment(jsii.String("EFSPIPE_PASSWORD_SECRETS"), jsii.String("1"), nil)
		byService := map[string][]*string{}
		wildcard := false
		for _, a := range p.PasswordSecrets {
			byService[secretService(a)] = append(byService[secretService(a)], jsii.String(a))
			wildcard = wildcard || strings.Contains(a, "*")
		}
		for svc, action := range map[string]string{"secretsmanager": "secretsmanager:GetSecretValue", "ssm": "ssm:GetParameter"} {
			if arns := byService[svc]; len(arns) > 0 {
				fns[Split].AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Actions: jsii.Strings(action), Resources: &arns,
				}))
			}
		}
		for id, svc := range map[string]awsec2.InterfaceVpcEndpointAwsService{
			"SecretsManager": awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER(),
			"Ssm":            awsec2.InterfaceVpcEndpointAwsService_SSM(),
		} {
			vpc.AddInterfaceEndpoint(jsii.String(id), &awsec2.InterfaceVpcEndpointOptions{
				Service: svc, Subnets: isolated, PrivateDnsEnabled: jsii.Bool(true),
			})
		}
		if wildcard {
			cdknag.NagSuppressions_AddResourceSuppressions(fns[Split].Role(), &[]*cdknag.NagPackSuppression{{
				Id:     jsii.String("AwsSolutions-IAM5"),
				Reason: jsii.String("split reads the PDF passwords under the prefixes the operator named in passwordSecrets (read only, one action per service)."),
			}}, jsii.Bool(true))
		}
	}

	// ---- State machine -------------------------------------------------

	subs := map[string]*string{}
	for _, name := range Stages {
		subs[substitutionKey(name)] = fns[name].FunctionArn()
	}
	machine := awsstepfunctions.NewStateMachine(stack, jsii.String("Pipeline"), &awsstepfunctions.StateMachineProps{
		StateMachineType:        awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:          awsstepfunctions.DefinitionBody_FromString(jsii.String(def.text)),
		DefinitionSubstitutions: &subs,
		Logs: &awsstepfunctions.LogOptions{
			// Under /aws/vendedlogs/ CloudWatch Logs needs no resource policy
			// entry per log group, whose size is capped per account.
			Destination:          logGroup("PipelineLogs", jsii.String("/aws/vendedlogs/states/"+*stack.StackName()+"-pipeline")),
			Level:                awsstepfunctions.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(true), // inputs are job IDs and paths on the mount, never document bytes
		},
		TracingEnabled: jsii.Bool(true),
		RemovalPolicy:  removal,
	})
	// The ASL names the unqualified function ARNs, so no version or alias
	// (ARN:*) grant is needed, unlike Function.grantInvoke.
	fnArns := make([]*string, 0, len(Stages))
	for _, name := range Stages {
		fnArns = append(fnArns, fns[name].FunctionArn())
	}
	machine.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &fnArns,
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(machine.Role(), &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Resource * only where AWS requires it: Step Functions' vended logging (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, " +
			"ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, " +
			"GetSamplingRules, GetSamplingTargets) support no resource-level permissions."),
		AppliesTo: &[]any{jsii.String("Resource::*")},
	}}, jsii.Bool(true))

	// ---- Trigger -------------------------------------------------------

	// Outside the VPC: it only calls the Step Functions API. S3 delivers
	// events at least once; the trigger names each execution after the
	// source's identity, so a duplicate starts nothing new.
	trigger := newFunction(Trigger, map[string]string{}, 0, false)
	trigger.AddEnvironment(jsii.String("EFSPIPE_STATE_MACHINE_ARN"), machine.StateMachineArn(), nil)
	machine.GrantStartExecution(trigger)
	awsevents.NewRule(stack, jsii.String("InputObjectCreated"), &awsevents.RuleProps{
		Description: jsii.String("efspipe: start the pipeline for every object created in the input bucket"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.s3"),
			DetailType: jsii.Strings("Object Created"),
			Detail:     &map[string]any{"bucket": map[string]any{"name": []*string{input.BucketName()}}},
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(trigger, &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(8),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(6)),
		})},
	})

	// ---- Outputs -------------------------------------------------------

	out := func(id string, value *string, desc string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
	}
	out("InputBucketName", input.BucketName(), "Upload a PDF here to start a job")
	out("OutputBucketName", output.BucketName(), "Published outputs land under OutputLocation")
	out("OutputLocation", outputURL, "finalize's EFSPIPE_OUT")
	out("StateMachineArn", machine.StateMachineArn(), "For aws stepfunctions start-execution / redrive-execution")
	out("FileSystemId", fs.FileSystemId(), "The shared EFS file system")
	out("AccessPointId", ap.AccessPointId(), "The access point every stage mounts at "+MountPath)

	awscdk.Tags_Of(stack).Add(jsii.String("project"), jsii.String("efspipe"), nil)
	return stack
}

func days(n int) awscdk.Duration { return awscdk.Duration_Days(jsii.Number(float64(n))) }

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func jsiiMap(m map[string]string) *map[string]*string {
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = jsii.String(v)
	}
	return &out
}

// regexQuote escapes s for the ECMAScript regex of a cdk-nag suppression.
func regexQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\^$.|?*+()[]{}/`, r) {
			b.WriteRune('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// finalizeS3Actions are what finalize does under the output prefix: put
// pages and manifests; get a manifest and HEAD pages to find a job already
// published (a retry, a duplicate trigger, a replay that mends a
// publication); delete a manifest it withdraws before republishing a job
// with other settings. Without s3:GetObject a HEAD or GET answers 403,
// not 404, and finalize could not tell a new job from a published one.
func finalizeS3Actions() *[]*string {
	return jsii.Strings("s3:PutObject", "s3:GetObject", "s3:DeleteObject")
}
