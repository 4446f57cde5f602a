package sfnlocal_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// passDefinition runs no Task: its output says which revision ran.
func passDefinition(rev string) string {
	return `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"rev":"` + rev + `"},"End":true}}}`
}

const role = "arn:aws:iam::000000000000:role/x"

// runOutput starts arn and returns the execution's description at its end.
func (e *env) runOutput(t *testing.T, arn, name string) *sfn.DescribeExecutionOutput {
	t.Helper()
	start, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &arn, Name: &name})
	if err != nil {
		t.Fatalf("start %s: %v", arn, err)
	}
	return e.wait(t, *start.ExecutionArn)
}

// TestVersionsAndAliases follows the AWS guides on versions and aliases
// (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-state-machine-version.html,
// concepts-state-machine-alias.html) through the SDK.
func TestVersionsAndAliases(t *testing.T) {
	e := newEnv(t, "", nil)
	ctx := t.Context()
	// CreateStateMachine with publish: version 1.
	created, err := e.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("v"), Definition: aws.String(passDefinition("one")),
		RoleArn: aws.String(role), Publish: true, VersionDescription: aws.String("first")})
	if err != nil {
		t.Fatal(err)
	}
	machine := *created.StateMachineArn
	v1 := machine + ":1"
	if aws.ToString(created.StateMachineVersionArn) != v1 {
		t.Fatalf("create with publish: version %q", aws.ToString(created.StateMachineVersionArn))
	}
	// Publishing the same revision again is that version.
	pub, err := e.c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: &machine})
	if err != nil || *pub.StateMachineVersionArn != v1 {
		t.Fatalf("publish of a published revision: %v %v", pub, err)
	}
	// UpdateStateMachine with publish: version 2; a stale revisionId conflicts.
	desc, err := e.c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: &machine})
	if err != nil {
		t.Fatal(err)
	}
	upd, err := e.c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: &machine, Definition: aws.String(passDefinition("two")), Publish: true})
	if err != nil || aws.ToString(upd.StateMachineVersionArn) != machine+":2" {
		t.Fatalf("update with publish: %v %v", upd, err)
	}
	v2 := machine + ":2"
	if _, err := e.c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: &machine, RevisionId: desc.RevisionId}); errType(err) != "ConflictException" {
		t.Errorf("publish with a stale revisionId: %v", err)
	}
	// The machine moves on; the versions keep their definitions.
	if _, err := e.c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: &machine, Definition: aws.String(passDefinition("three"))}); err != nil {
		t.Fatal(err)
	}
	vd, err := e.c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: &v1})
	if err != nil || *vd.Definition != passDefinition("one") || aws.ToString(vd.Description) != "first" || *vd.StateMachineArn != v1 {
		t.Fatalf("describe version 1: %+v %v", vd, err)
	}
	list, err := e.c.ListStateMachineVersions(ctx, &sfn.ListStateMachineVersionsInput{StateMachineArn: &machine})
	if err != nil || len(list.StateMachineVersions) != 2 || *list.StateMachineVersions[0].StateMachineVersionArn != v2 {
		t.Fatalf("list versions (newest first): %+v %v", list, err)
	}

	for arn, want := range map[string]string{machine: "three", v1: "one", v2: "two"} {
		d := e.runOutput(t, arn, "run-"+want)
		if d.Status != types.ExecutionStatusSucceeded || !strings.Contains(aws.ToString(d.Output), want) {
			t.Errorf("execution of %s: %s %s", arn, d.Status, aws.ToString(d.Output))
		}
		if wantVersion := map[string]string{v1: v1, v2: v2}[arn]; aws.ToString(d.StateMachineVersionArn) != wantVersion || *d.StateMachineArn != machine {
			t.Errorf("execution of %s: machine %s version %q", arn, *d.StateMachineArn, aws.ToString(d.StateMachineVersionArn))
		}
	}

	// An alias routes to one version, then is moved to another.
	al, err := e.c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{Name: aws.String("prod"), Description: aws.String("live"),
		RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: &v1, Weight: 100}}})
	if err != nil || *al.StateMachineAliasArn != machine+":prod" {
		t.Fatalf("create alias: %+v %v", al, err)
	}
	alias := *al.StateMachineAliasArn
	if d := e.runOutput(t, alias, "via-alias-1"); !strings.Contains(aws.ToString(d.Output), "one") || aws.ToString(d.StateMachineAliasArn) != alias ||
		aws.ToString(d.StateMachineVersionArn) != v1 {
		t.Errorf("execution through the alias: %s alias %q version %q", aws.ToString(d.Output), aws.ToString(d.StateMachineAliasArn), aws.ToString(d.StateMachineVersionArn))
	}
	if _, err := e.c.UpdateStateMachineAlias(ctx, &sfn.UpdateStateMachineAliasInput{StateMachineAliasArn: &alias,
		RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: &v1, Weight: 0}, {StateMachineVersionArn: &v2, Weight: 100}}}); err != nil {
		t.Fatal(err)
	}
	if d := e.runOutput(t, alias, "via-alias-2"); !strings.Contains(aws.ToString(d.Output), "two") {
		t.Errorf("execution through the moved alias: %s", aws.ToString(d.Output))
	}
	ad, err := e.c.DescribeStateMachineAlias(ctx, &sfn.DescribeStateMachineAliasInput{StateMachineAliasArn: &alias})
	if err != nil || *ad.Name != "prod" || aws.ToString(ad.Description) != "live" || len(ad.RoutingConfiguration) != 2 || ad.UpdateDate == nil {
		t.Fatalf("describe alias: %+v %v", ad, err)
	}
	aliases, err := e.c.ListStateMachineAliases(ctx, &sfn.ListStateMachineAliasesInput{StateMachineArn: &machine})
	if err != nil || len(aliases.StateMachineAliases) != 1 || *aliases.StateMachineAliases[0].StateMachineAliasArn != alias {
		t.Fatalf("list aliases: %+v %v", aliases, err)
	}
	// ListExecutions of an alias or version lists what it started.
	byAlias, err := e.c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: &alias})
	if err != nil || len(byAlias.Executions) != 2 {
		t.Fatalf("executions of the alias: %+v %v", byAlias, err)
	}
	byV1, err := e.c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: &v1})
	if err != nil || len(byV1.Executions) != 2 {
		t.Fatalf("executions of version 1: %d %v", len(byV1.Executions), err)
	}

	// Refusals, with AWS's error names.
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"weights not 100", func() error {
			_, err := e.c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{Name: aws.String("half"),
				RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: &v1, Weight: 50}}})
			return err
		}, "ValidationException"},
		{"alias name of digits", func() error {
			_, err := e.c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{Name: aws.String("12"),
				RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: &v1, Weight: 100}}})
			return err
		}, "ValidationException"},
		{"same alias, other routing", func() error {
			_, err := e.c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{Name: aws.String("prod"),
				RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: &v1, Weight: 100}}})
			return err
		}, "ConflictException"},
		{"version an alias uses", func() error {
			_, err := e.c.DeleteStateMachineVersion(ctx, &sfn.DeleteStateMachineVersionInput{StateMachineVersionArn: &v2})
			return err
		}, "ConflictException"},
		{"update a version", func() error {
			_, err := e.c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: &v1, Definition: aws.String(passDefinition("x"))})
			return err
		}, "ValidationException"},
		{"missing alias", func() error {
			_, err := e.c.DescribeStateMachineAlias(ctx, &sfn.DescribeStateMachineAliasInput{StateMachineAliasArn: aws.String(machine + ":nope")})
			return err
		}, "ResourceNotFound"},
		{"missing version", func() error {
			_, err := e.c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(machine + ":9")})
			return err
		}, "StateMachineDoesNotExist"},
	} {
		if err := tc.call(); errType(err) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}

	// Deleting: the alias, then version 1 (twice: the second is a no-op);
	// its executions stay describable; the number is never reused.
	if _, err := e.c.DeleteStateMachineAlias(ctx, &sfn.DeleteStateMachineAliasInput{StateMachineAliasArn: &alias}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := e.c.DeleteStateMachineVersion(ctx, &sfn.DeleteStateMachineVersionInput{StateMachineVersionArn: &v1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: &v1}); errType(err) != "StateMachineDoesNotExist" {
		t.Errorf("describe a deleted version: %v", err)
	}
	if _, err := e.c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: byV1.Executions[0].ExecutionArn}); err != nil {
		t.Errorf("execution of a deleted version: %v", err)
	}
	pub, err = e.c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: &machine, Description: aws.String("third")})
	if err != nil || *pub.StateMachineVersionArn != machine+":3" {
		t.Fatalf("publish after a delete: %v %v", pub, err)
	}

	// Versions and aliases survive a restart.
	if _, err := e.c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{Name: aws.String("stable"),
		RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: &v2, Weight: 100}}}); err != nil {
		t.Fatal(err)
	}
	e.http.Close()
	e.srv.Close()
	e2 := newEnv(t, e.mountDir, nil)
	list, err = e2.c.ListStateMachineVersions(ctx, &sfn.ListStateMachineVersionsInput{StateMachineArn: &machine})
	if err != nil || len(list.StateMachineVersions) != 2 {
		t.Fatalf("versions after restart: %+v %v", list, err)
	}
	if d := e2.runOutput(t, machine+":stable", "after-restart"); !strings.Contains(aws.ToString(d.Output), "two") {
		t.Errorf("alias after restart: %s", aws.ToString(d.Output))
	}
	// Deleting the machine deletes its versions and aliases.
	if _, err := e2.c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: &machine}); err != nil {
		t.Fatal(err)
	}
	if _, err := e2.c.DescribeStateMachineAlias(ctx, &sfn.DescribeStateMachineAliasInput{StateMachineAliasArn: aws.String(machine + ":stable")}); errType(err) != "ResourceNotFound" {
		t.Errorf("alias of a deleted machine: %v", err)
	}
}
