package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// newTestApp returns an app with cdk.json's context (so tests synthesize
// what `cdk synth` does), a build dir of placeholder bootstraps (the
// assertions check the template, not the code), and extra context on top.
func newTestApp(t testing.TB, extra map[string]any) awscdk.App {
	t.Helper()
	raw, err := os.ReadFile("cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct{ Context map[string]any }
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	build := t.TempDir()
	for _, name := range append(slices.Clone(Stages), Trigger) {
		dir := filepath.Join(build, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("#!/bin/sh\n# placeholder for "+name+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx := cfg.Context
	ctx["buildDir"] = build
	for k, v := range extra {
		ctx[k] = v
	}
	return awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(t.TempDir())})
}

// cfn is a synthesized template as plain JSON values.
type cfn struct {
	assert    assertions.Template
	Resources map[string]resource
	Outputs   map[string]any
}

type resource struct {
	Type           string
	Properties     map[string]any
	DeletionPolicy string
}

func synth(t testing.TB, extra map[string]any) *cfn {
	t.Helper()
	stack := NewPipelineStack(newTestApp(t, extra), "Test", nil)
	tmpl := assertions.Template_FromStack(stack, nil)
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	c := &cfn{assert: tmpl}
	if err := json.Unmarshal(raw, c); err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	defaultOnce     sync.Once
	defaultTemplate *cfn
)

// template is the default stack, synthesized once for every test that only
// reads it: a synth costs seconds.
func template(t *testing.T) *cfn {
	t.Helper()
	defaultOnce.Do(func() { defaultTemplate = synth(t, nil) })
	if defaultTemplate == nil {
		t.Fatal("default stack failed to synthesize")
	}
	return defaultTemplate
}

// has runs a CDK assertion, which throws (panics in Go) on mismatch.
func has(t *testing.T, what string, assert func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	assert()
}

// ofType returns the logical IDs of the resources of type typ.
func (c *cfn) ofType(typ string) []string {
	var ids []string
	for id, r := range c.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// one returns the logical ID of the only resource of type typ whose
// logical ID starts with prefix.
func (c *cfn) one(t *testing.T, typ, prefix string) string {
	t.Helper()
	var found []string
	for _, id := range c.ofType(typ) {
		if strings.HasPrefix(id, prefix) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s named %s*, have %v", typ, prefix, found)
	}
	return found[0]
}

func getAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

func ref(id string) map[string]any { return map[string]any{"Ref": id} }

// js renders v as compact JSON for comparisons and messages.
func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func stageID(name string) string { return strings.ToUpper(name[:1]) + name[1:] }

func TestAccessPoint(t *testing.T) {
	c := template(t)
	has(t, "access point", func() {
		c.assert.ResourceCountIs(jsii.String("AWS::EFS::AccessPoint"), jsii.Number(1))
		c.assert.HasResourceProperties(jsii.String("AWS::EFS::AccessPoint"), map[string]any{
			"PosixUser": map[string]any{"Uid": "1000", "Gid": "1000"},
			"RootDirectory": map[string]any{
				"Path":         "/efspipe",
				"CreationInfo": map[string]any{"OwnerUid": "1000", "OwnerGid": "1000", "Permissions": "750"},
			},
		})
	})
}

func TestStageFunctions(t *testing.T) {
	c := template(t)
	ap := c.one(t, "AWS::EFS::AccessPoint", "FileSystemAccessPoint")
	stageSG := c.one(t, "AWS::EC2::SecurityGroup", "StageSecurityGroup")
	subnets := c.ofType("AWS::EC2::Subnet")
	if len(subnets) != 2 {
		t.Fatalf("want 2 subnets, have %v", subnets)
	}
	for _, name := range Stages {
		t.Run(name, func(t *testing.T) {
			p := c.Resources[c.one(t, "AWS::Lambda::Function", stageID(name)+"Function")].Properties
			for key, want := range map[string]any{
				"Runtime":       "provided.al2023",
				"Architectures": []any{"arm64"},
				"Handler":       "bootstrap",
				"MemorySize":    float64(defaultSizes[name].MemoryMiB),
				"Timeout":       defaultSizes[name].Timeout.Seconds(),
				"FileSystemConfigs": []any{map[string]any{
					"LocalMountPath": "/mnt/efs",
					"Arn": map[string]any{"Fn::Join": []any{"", []any{
						"arn:", ref("AWS::Partition"), ":elasticfilesystem:", ref("AWS::Region"), ":",
						ref("AWS::AccountId"), ":access-point/", ref(ap),
					}}},
				}},
			} {
				if js(p[key]) != js(want) {
					t.Errorf("%s = %s, want %s", key, js(p[key]), js(want))
				}
			}
			vpc, _ := p["VpcConfig"].(map[string]any)
			if js(vpc["SecurityGroupIds"]) != js([]any{getAtt(stageSG, "GroupId")}) {
				t.Errorf("VpcConfig.SecurityGroupIds = %s, want only the stage security group", js(vpc["SecurityGroupIds"]))
			}
			var want []any
			for _, s := range subnets {
				want = append(want, ref(s))
			}
			if js(vpc["SubnetIds"]) != js(want) {
				t.Errorf("VpcConfig.SubnetIds = %s, want the isolated subnets %s", js(vpc["SubnetIds"]), js(want))
			}
			env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
			if env["EFSPIPE_MOUNT"] != "/mnt/efs" {
				t.Errorf("EFSPIPE_MOUNT = %v", env["EFSPIPE_MOUNT"])
			}
			if got, want := env["EFSPIPE_MEMORY_LIMIT_MIB"], fmt.Sprint(memoryLimitMiB(defaultSizes[name].MemoryMiB)); got != want {
				t.Errorf("EFSPIPE_MEMORY_LIMIT_MIB = %v, want %v", got, want)
			}
			wantReserved := 4.0
			if name == Compress {
				wantReserved = 4 * 8 // 4 jobs times the Compress Map's MaxConcurrency in the ASL
			}
			if p["ReservedConcurrentExecutions"] != wantReserved {
				t.Errorf("ReservedConcurrentExecutions = %v, want %v", p["ReservedConcurrentExecutions"], wantReserved)
			}
			if _, ok := p["LoggingConfig"].(map[string]any)["LogGroup"]; !ok {
				t.Errorf("no LoggingConfig.LogGroup: log retention would be unset")
			}
		})
	}
	env := c.Resources[c.one(t, "AWS::Lambda::Function", "FinalizeFunction")].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	out := c.one(t, "AWS::S3::Bucket", "Output")
	if want := js(map[string]any{"Fn::Join": []any{"", []any{"s3://", ref(out), "/published"}}}); js(env["EFSPIPE_OUT"]) != want {
		t.Errorf("finalize EFSPIPE_OUT = %s, want %s", js(env["EFSPIPE_OUT"]), want)
	}
}

func TestLogGroupsHaveRetention(t *testing.T) {
	c := template(t)
	ids := c.ofType("AWS::Logs::LogGroup")
	if len(ids) != 8 { // six functions, the state machine, the flow logs
		t.Errorf("want 8 log groups, have %d", len(ids))
	}
	for _, id := range ids {
		if c.Resources[id].Properties["RetentionInDays"] != 30.0 {
			t.Errorf("%s RetentionInDays = %v, want 30", id, c.Resources[id].Properties["RetentionInDays"])
		}
	}
}

func TestTriggerOutsideVPC(t *testing.T) {
	c := template(t)
	p := c.Resources[c.one(t, "AWS::Lambda::Function", "TriggerFunction")].Properties
	for _, key := range []string{"VpcConfig", "FileSystemConfigs", "ReservedConcurrentExecutions"} {
		if v, ok := p[key]; ok {
			t.Errorf("trigger has %s = %s", key, js(v))
		}
	}
	if p["Runtime"] != "provided.al2023" || js(p["Architectures"]) != `["arm64"]` {
		t.Errorf("trigger runtime %v %v", p["Runtime"], p["Architectures"])
	}
	env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
	if js(env["EFSPIPE_STATE_MACHINE_ARN"]) != js(ref(c.one(t, "AWS::StepFunctions::StateMachine", "Pipeline"))) {
		t.Errorf("EFSPIPE_STATE_MACHINE_ARN = %s", js(env["EFSPIPE_STATE_MACHINE_ARN"]))
	}

	rule := c.Resources[c.one(t, "AWS::Events::Rule", "InputObjectCreated")].Properties
	wantPattern := map[string]any{
		"source":      []any{"aws.s3"},
		"detail-type": []any{"Object Created"},
		"detail":      map[string]any{"bucket": map[string]any{"name": []any{ref(c.one(t, "AWS::S3::Bucket", "Input"))}}},
	}
	if js(rule["EventPattern"]) != js(wantPattern) {
		t.Errorf("EventPattern = %s, want %s", js(rule["EventPattern"]), js(wantPattern))
	}
	targets := rule["Targets"].([]any)
	if len(targets) != 1 || js(targets[0].(map[string]any)["Arn"]) != js(getAtt(c.one(t, "AWS::Lambda::Function", "TriggerFunction"), "Arn")) {
		t.Errorf("rule targets = %s, want the trigger only", js(targets))
	}
}

// The issue asks for S3 -> EventBridge without a custom-resource Lambda:
// only the six functions exist, and nothing is a custom resource.
func TestNoCustomResources(t *testing.T) {
	c := template(t)
	for id, r := range c.Resources {
		if strings.HasPrefix(r.Type, "Custom::") || r.Type == "AWS::CloudFormation::CustomResource" {
			t.Errorf("%s is a custom resource (%s)", id, r.Type)
		}
	}
	if n := len(c.ofType("AWS::Lambda::Function")); n != 6 {
		t.Errorf("want 6 Lambda functions, have %d", n)
	}
}

func TestFileSystem(t *testing.T) {
	c := template(t)
	has(t, "file system", func() {
		c.assert.ResourceCountIs(jsii.String("AWS::EFS::FileSystem"), jsii.Number(1))
		c.assert.HasResourceProperties(jsii.String("AWS::EFS::FileSystem"), map[string]any{
			"Encrypted":         true,
			"ThroughputMode":    "elastic",
			"LifecyclePolicies": assertions.Match_ArrayWith(&[]any{map[string]any{"TransitionToIA": "AFTER_7_DAYS"}}),
		})
		c.assert.ResourceCountIs(jsii.String("AWS::EFS::MountTarget"), jsii.Number(2))
	})
	fsSG := c.one(t, "AWS::EC2::SecurityGroup", "FileSystemSecurityGroup")
	stageSG := c.one(t, "AWS::EC2::SecurityGroup", "StageSecurityGroup")
	for _, id := range c.ofType("AWS::EFS::MountTarget") {
		if js(c.Resources[id].Properties["SecurityGroups"]) != js([]any{getAtt(fsSG, "GroupId")}) {
			t.Errorf("mount target %s security groups = %s", id, js(c.Resources[id].Properties["SecurityGroups"]))
		}
	}
	// Every ingress rule of the file system's group: NFS, from the stage group.
	if inline, ok := c.Resources[fsSG].Properties["SecurityGroupIngress"]; ok {
		t.Errorf("file system security group has inline ingress %s", js(inline))
	}
	var ingress int
	for _, id := range c.ofType("AWS::EC2::SecurityGroupIngress") {
		p := c.Resources[id].Properties
		if js(p["GroupId"]) != js(getAtt(fsSG, "GroupId")) {
			continue
		}
		ingress++
		if p["IpProtocol"] != "tcp" || p["FromPort"] != 2049.0 || p["ToPort"] != 2049.0 ||
			js(p["SourceSecurityGroupId"]) != js(getAtt(stageSG, "GroupId")) || p["CidrIp"] != nil {
			t.Errorf("file system ingress %s = %s, want tcp 2049 from the stage security group only", id, js(p))
		}
	}
	if ingress != 1 {
		t.Errorf("want 1 ingress rule on the file system security group, have %d", ingress)
	}
	// IAM is enforced (a file system policy exists), and never for root.
	pol := js(c.Resources[c.one(t, "AWS::EFS::FileSystem", "FileSystem")].Properties["FileSystemPolicy"])
	if !strings.Contains(pol, "elasticfilesystem:AccessedViaMountTarget") || strings.Contains(pol, "ClientRootAccess") || strings.Contains(pol, `"AWS":"*"`) {
		t.Errorf("FileSystemPolicy = %s", pol)
	}
}

func TestNetwork(t *testing.T) {
	c := template(t)
	for _, typ := range []string{"AWS::EC2::InternetGateway", "AWS::EC2::NatGateway"} {
		if ids := c.ofType(typ); len(ids) != 0 {
			t.Errorf("isolated VPC has %s %v", typ, ids)
		}
	}
	for _, id := range c.ofType("AWS::EC2::Subnet") {
		if c.Resources[id].Properties["MapPublicIpOnLaunch"] == true {
			t.Errorf("subnet %s maps public IPs", id)
		}
	}
	has(t, "VPC", func() {
		c.assert.HasResourceProperties(jsii.String("AWS::EC2::VPCEndpoint"), map[string]any{
			"VpcEndpointType": "Gateway",
			"ServiceName":     map[string]any{"Fn::Join": []any{"", []any{"com.amazonaws.", ref("AWS::Region"), ".s3"}}},
		})
		c.assert.HasResourceProperties(jsii.String("AWS::EC2::FlowLog"), map[string]any{
			"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs",
		})
	})
}

func TestBuckets(t *testing.T) {
	c := template(t)
	buckets := c.ofType("AWS::S3::Bucket")
	if len(buckets) != 3 {
		t.Fatalf("want 3 buckets (input, output, access logs), have %v", buckets)
	}
	for _, id := range buckets {
		p := c.Resources[id].Properties
		if js(p["BucketEncryption"]) != `{"ServerSideEncryptionConfiguration":[{"ServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}` {
			t.Errorf("%s BucketEncryption = %s", id, js(p["BucketEncryption"]))
		}
		if js(p["PublicAccessBlockConfiguration"]) != `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}` {
			t.Errorf("%s PublicAccessBlockConfiguration = %s", id, js(p["PublicAccessBlockConfiguration"]))
		}
		if _, ok := p["LifecycleConfiguration"]; !ok {
			t.Errorf("%s has no lifecycle rules", id)
		}
	}
	// enforceSSL: each bucket's policy denies requests without TLS.
	for _, id := range c.ofType("AWS::S3::BucketPolicy") {
		doc := js(c.Resources[id].Properties["PolicyDocument"])
		if !strings.Contains(doc, `"Condition":{"Bool":{"aws:SecureTransport":"false"}},"Effect":"Deny"`) {
			t.Errorf("%s does not deny insecure transport: %s", id, doc)
		}
	}
	if n := len(c.ofType("AWS::S3::BucketPolicy")); n != 3 {
		t.Errorf("want 3 bucket policies, have %d", n)
	}
	in := c.Resources[c.one(t, "AWS::S3::Bucket", "Input")].Properties
	if js(in["VersioningConfiguration"]) != `{"Status":"Enabled"}` {
		t.Errorf("input VersioningConfiguration = %s", js(in["VersioningConfiguration"]))
	}
	if js(in["NotificationConfiguration"]) != `{"EventBridgeConfiguration":{"EventBridgeEnabled":true}}` {
		t.Errorf("input NotificationConfiguration = %s", js(in["NotificationConfiguration"]))
	}
}

var placeholderRef = regexp.MustCompile(`\$\{([^}]*)\}`)

func TestStateMachine(t *testing.T) {
	c := template(t)
	id := c.one(t, "AWS::StepFunctions::StateMachine", "Pipeline")
	p := c.Resources[id].Properties
	if p["StateMachineType"] != "STANDARD" {
		t.Errorf("StateMachineType = %v", p["StateMachineType"])
	}
	def, ok := p["DefinitionString"].(string)
	if !ok {
		t.Fatalf("DefinitionString is not an inline string: %s", js(p["DefinitionString"]))
	}
	if _, ok := p["DefinitionS3Location"]; ok {
		t.Error("definition is an S3 asset, want it inline")
	}
	file, err := os.ReadFile("../statemachine/pipeline.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	if def != string(file) {
		t.Error("DefinitionString differs from statemachine/pipeline.asl.json")
	}
	subs, _ := p["DefinitionSubstitutions"].(map[string]any)
	for _, m := range placeholderRef.FindAllStringSubmatch(def, -1) {
		if _, ok := subs[m[1]]; !ok {
			t.Errorf("%s in the definition has no substitution", m[0])
		}
	}
	if len(subs) != len(Stages) {
		t.Errorf("want %d substitutions, have %s", len(Stages), js(subs))
	}
	for _, name := range Stages {
		key := substitutionKey(name)
		if want := getAtt(c.one(t, "AWS::Lambda::Function", stageID(name)+"Function"), "Arn"); js(subs[key]) != js(want) {
			t.Errorf("substitution %s = %s, want %s", key, js(subs[key]), js(want))
		}
	}
	logging, _ := p["LoggingConfiguration"].(map[string]any)
	if logging["Level"] != "ALL" || logging["IncludeExecutionData"] != true || logging["Destinations"] == nil {
		t.Errorf("LoggingConfiguration = %s, want Level ALL to a log group", js(logging))
	}
	if js(p["TracingConfiguration"]) != `{"Enabled":true}` {
		t.Errorf("TracingConfiguration = %s", js(p["TracingConfiguration"]))
	}
}

// statement is one IAM policy statement with Action and Resource as lists.
type statement struct {
	Effect    string
	Actions   []string
	Resources []string // JSON of each resource
	Condition any
}

// policies returns the statements granted to each role, by role logical ID.
func (c *cfn) policies(t *testing.T) map[string][]statement {
	t.Helper()
	parse := func(doc any) []statement {
		var out []statement
		stmts, _ := doc.(map[string]any)["Statement"].([]any)
		for _, s := range stmts {
			m := s.(map[string]any)
			st := statement{Effect: fmt.Sprint(m["Effect"]), Condition: m["Condition"]}
			for _, a := range list(m["Action"]) {
				st.Actions = append(st.Actions, fmt.Sprint(a))
			}
			for _, r := range list(m["Resource"]) {
				st.Resources = append(st.Resources, js(r))
			}
			out = append(out, st)
		}
		return out
	}
	byRole := map[string][]statement{}
	for _, id := range c.ofType("AWS::IAM::Policy") {
		p := c.Resources[id].Properties
		for _, r := range list(p["Roles"]) {
			role := r.(map[string]any)["Ref"].(string)
			byRole[role] = append(byRole[role], parse(p["PolicyDocument"])...)
		}
	}
	for _, id := range c.ofType("AWS::IAM::Role") {
		p := c.Resources[id].Properties
		if mp, ok := p["ManagedPolicyArns"]; ok {
			t.Errorf("role %s has managed policies %s: every grant here is written out", id, js(mp))
		}
		for _, ip := range list(p["Policies"]) {
			byRole[id] = append(byRole[id], parse(ip.(map[string]any)["PolicyDocument"])...)
		}
	}
	if ids := c.ofType("AWS::IAM::ManagedPolicy"); len(ids) != 0 {
		t.Errorf("unexpected managed policies %v", ids)
	}
	return byRole
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// grants returns the resources (as JSON) on which role may do action.
func grants(stmts []statement, action string) []string {
	var out []string
	for _, s := range stmts {
		if s.Effect == "Allow" && slices.Contains(s.Actions, action) {
			out = append(out, s.Resources...)
		}
	}
	return out
}

func TestLeastPrivilege(t *testing.T) {
	c := template(t)
	byRole := c.policies(t)
	roleOf := func(fn string) string {
		return c.Resources[c.one(t, "AWS::Lambda::Function", fn)].Properties["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
	}
	machine := c.one(t, "AWS::StepFunctions::StateMachine", "Pipeline")
	machineRole := c.Resources[machine].Properties["RoleArn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)

	for role, stmts := range byRole {
		for _, s := range stmts {
			for _, a := range s.Actions {
				if a == "*" || strings.HasSuffix(a, ":*") {
					t.Errorf("role %s allows %q", role, a)
				}
			}
			// Resource "*" only for the actions AWS offers no resource-level
			// permission for, or conditioned to this stack's access point.
			if slices.Contains(s.Resources, `"*"`) {
				for _, a := range s.Actions {
					if !wildcardOK(a, s.Condition) {
						t.Errorf("role %s allows %s on Resource *", role, a)
					}
				}
			}
		}
	}

	input := c.one(t, "AWS::S3::Bucket", "Input")
	output := c.one(t, "AWS::S3::Bucket", "Output")
	inputObjects := js(map[string]any{"Fn::Join": []any{"", []any{getAtt(input, "Arn"), "/*"}}})
	outputPrefix := js(map[string]any{"Fn::Join": []any{"", []any{getAtt(output, "Arn"), "/published/*"}}})
	want := map[string]map[string][]string{
		roleOf("IngestFunction"): {
			"s3:GetObject":        {inputObjects},
			"s3:GetObjectVersion": {inputObjects},
		},
		roleOf("FinalizeFunction"): {"s3:PutObject": {outputPrefix}, "s3:GetObject": {outputPrefix}, "s3:DeleteObject": {outputPrefix}},
		roleOf("TriggerFunction"):  {"states:StartExecution": {js(ref(machine))}},
		machineRole: {"lambda:InvokeFunction": func() []string {
			var arns []string
			for _, name := range []string{"Checkpoint", "Compress", "Finalize", "Ingest", "Split"} {
				arns = append(arns, js(getAtt(c.one(t, "AWS::Lambda::Function", name+"Function"), "Arn")))
			}
			return arns
		}()},
	}
	// Every S3, Step Functions and Lambda grant in the stack is one of those.
	for role, stmts := range byRole {
		for _, s := range stmts {
			for _, a := range s.Actions {
				if !strings.HasPrefix(a, "s3:") && !strings.HasPrefix(a, "states:") && !strings.HasPrefix(a, "lambda:") {
					continue
				}
				if _, ok := want[role][a]; !ok {
					t.Errorf("role %s unexpectedly allows %s on %v", role, a, s.Resources)
				}
			}
		}
	}
	for role, actions := range want {
		for action, resources := range actions {
			got := grants(byRole[role], action)
			slices.Sort(got)
			slices.Sort(resources)
			if !slices.Equal(got, resources) {
				t.Errorf("role %s: %s on %v, want %v", role, action, got, resources)
			}
		}
	}

	// Each stage may mount the file system only through the access point.
	ap := c.one(t, "AWS::EFS::AccessPoint", "FileSystemAccessPoint")
	for _, name := range Stages {
		role := roleOf(stageID(name) + "Function")
		var mount []statement
		for _, s := range byRole[role] {
			if slices.Contains(s.Actions, "elasticfilesystem:ClientMount") {
				mount = append(mount, s)
			}
		}
		if len(mount) != 1 || !strings.Contains(js(mount[0].Condition), js(ref(ap))) {
			t.Errorf("%s: ClientMount statements %+v, want one conditioned on the access point", name, mount)
		}
		if g := grants(byRole[role], "elasticfilesystem:ClientRootAccess"); len(g) != 0 {
			t.Errorf("%s may mount as root: %v", name, g)
		}
	}
}

// wildcardOK reports whether action may be granted on Resource "*": AWS
// supports no narrower resource for it, or the statement is conditioned.
func wildcardOK(action string, condition any) bool {
	switch {
	case action == "elasticfilesystem:ClientMount":
		return strings.Contains(js(condition), "elasticfilesystem:AccessPointArn")
	case strings.HasPrefix(action, "ec2:"):
		return slices.Contains([]string{
			"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
			"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
		}, action)
	case strings.HasPrefix(action, "xray:"):
		return true
	case strings.HasPrefix(action, "logs:"):
		return slices.Contains([]string{
			"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
			"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
		}, action)
	}
	return false
}

func TestOutputs(t *testing.T) {
	c := template(t)
	for _, name := range []string{"InputBucketName", "OutputBucketName", "StateMachineArn", "OutputLocation", "FileSystemId"} {
		if _, ok := c.Outputs[name]; !ok {
			t.Errorf("no output %s", name)
		}
	}
}

func TestContextOverrides(t *testing.T) {
	c := synth(t, map[string]any{
		"outputPrefix":           "out/v1",
		"inputBucketName":        "efspipe-in-test",
		"logRetentionDays":       "7", // as `-c logRetentionDays=7` passes it
		"maxConcurrentJobs":      2.0,
		"splitMemoryMiB":         "4096",
		"compressTimeoutSeconds": 120.0,
		"destroyOnRemoval":       "true",
	})
	split := c.Resources[c.one(t, "AWS::Lambda::Function", "SplitFunction")]
	if split.Properties["MemorySize"] != 4096.0 || split.Properties["ReservedConcurrentExecutions"] != 2.0 {
		t.Errorf("split MemorySize %v ReservedConcurrentExecutions %v", split.Properties["MemorySize"], split.Properties["ReservedConcurrentExecutions"])
	}
	compress := c.Resources[c.one(t, "AWS::Lambda::Function", "CompressFunction")].Properties
	if compress["Timeout"] != 120.0 || compress["ReservedConcurrentExecutions"] != 16.0 {
		t.Errorf("compress Timeout %v ReservedConcurrentExecutions %v", compress["Timeout"], compress["ReservedConcurrentExecutions"])
	}
	in := c.Resources[c.one(t, "AWS::S3::Bucket", "Input")].Properties
	if in["BucketName"] != "efspipe-in-test" {
		t.Errorf("input BucketName = %v", in["BucketName"])
	}
	finalize := c.Resources[c.one(t, "AWS::Lambda::Function", "FinalizeFunction")].Properties
	if !strings.Contains(js(finalize["Environment"]), `"/out/v1"`) {
		t.Errorf("finalize environment %s lacks the /out/v1 prefix", js(finalize["Environment"]))
	}
	for _, id := range c.ofType("AWS::Logs::LogGroup") {
		if c.Resources[id].Properties["RetentionInDays"] != 7.0 {
			t.Errorf("%s RetentionInDays = %v, want 7", id, c.Resources[id].Properties["RetentionInDays"])
		}
	}
	raw, _ := json.Marshal(c.assert.ToJSON())
	if !strings.Contains(string(raw), `"/out/v1/*"`) {
		t.Error("finalize's grant does not follow outputPrefix")
	}
	for _, typ := range []string{"AWS::EFS::FileSystem", "AWS::S3::Bucket", "AWS::Logs::LogGroup"} {
		for _, id := range c.ofType(typ) {
			if c.Resources[id].DeletionPolicy != "Delete" {
				t.Errorf("destroyOnRemoval: %s DeletionPolicy = %q", id, c.Resources[id].DeletionPolicy)
			}
		}
	}
}

func TestMissingBuildFailsSynth(t *testing.T) {
	app := newTestApp(t, map[string]any{"buildDir": filepath.Join(t.TempDir(), "absent")})
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "make build") {
			t.Errorf("synth without build output: recovered %v, want a hint to run make build", r)
		}
	}()
	NewPipelineStack(app, "Test", nil)
}

func TestLoadDefinition(t *testing.T) {
	for _, tc := range []struct {
		name, asl string
		wantErr   string
		wantMap   int
	}{
		{"the project's file", "", "", 8},
		{"not JSON", `{"StartAt": `, "unexpected end", 0},
		{"unknown placeholder", `{"States": {"A": {"Type": "Task", "Resource": "${IngestFunctionArm}"}}}`, "${IngestFunctionArm}", 0},
		{"unbounded map", `{"States": {"M": {"Type": "Map", "ItemProcessor": {"States": {}}}}}`, "", 40},
		{"nested map", `{"States": {"P": {"Type": "Parallel", "Branches": [{"States": {"M": {"Type": "Map", "MaxConcurrency": 3}}}]}}}`, "", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "../statemachine/pipeline.asl.json"
			if tc.asl != "" {
				path = filepath.Join(t.TempDir(), "asl.json")
				if err := os.WriteFile(path, []byte(tc.asl), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			def, err := loadDefinition(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if def.mapConcurrency != tc.wantMap {
				t.Errorf("mapConcurrency = %d, want %d", def.mapConcurrency, tc.wantMap)
			}
		})
	}
}

// Password secrets: none by default (no grant, no endpoint, split told
// to refuse ARNs); with passwordSecrets, split alone may read exactly
// those, one read action per service, through interface endpoints.
func TestPasswordSecrets(t *testing.T) {
	secretsOf := func(c *cfn) (grants map[string][]string, endpoints int, env string) {
		grants = map[string][]string{}
		for role, stmts := range c.policies(t) {
			for _, s := range stmts {
				for _, a := range s.Actions {
					if strings.HasPrefix(a, "secretsmanager:") || strings.HasPrefix(a, "ssm:") || strings.HasPrefix(a, "kms:") {
						grants[role+" "+a] = append(grants[role+" "+a], s.Resources...)
					}
				}
			}
		}
		for _, id := range c.ofType("AWS::EC2::VPCEndpoint") {
			if c.Resources[id].Properties["VpcEndpointType"] == "Interface" {
				endpoints++
			}
		}
		env = js(c.Resources[c.one(t, "AWS::Lambda::Function", "SplitFunction")].Properties["Environment"])
		return grants, endpoints, env
	}
	if g, n, env := secretsOf(template(t)); len(g) != 0 || n != 0 || strings.Contains(env, "EFSPIPE_PASSWORD_SECRETS") {
		t.Errorf("default: grants %v, %d interface endpoints, split env %s", g, n, env)
	}
	sm := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:efspipe/*"
	param := "arn:aws:ssm:eu-west-1:123456789012:parameter/efspipe/report"
	c := synth(t, map[string]any{"passwordSecrets": sm + ", " + param})
	g, n, env := secretsOf(c)
	split := c.Resources[c.one(t, "AWS::Lambda::Function", "SplitFunction")].Properties["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
	want := map[string][]string{
		split + " secretsmanager:GetSecretValue": {js(sm)},
		split + " ssm:GetParameter":              {js(param)},
	}
	if js(g) != js(want) || n != 2 || !strings.Contains(env, `"EFSPIPE_PASSWORD_SECRETS":"1"`) {
		t.Errorf("grants %v (want %v), %d interface endpoints, split env %s", g, want, n, env)
	}
	for _, bad := range []string{"arn:aws:s3:::bucket/*", "efspipe/report"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("passwordSecrets %q accepted", bad)
				}
			}()
			synth(t, map[string]any{"passwordSecrets": bad})
		}()
	}
}
