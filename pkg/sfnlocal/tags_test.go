package sfnlocal_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

func tagMap(tags []types.Tag) map[string]string {
	out := map[string]string{}
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

// TestTags: the tags given to CreateStateMachine are kept, TagResource
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_TagResource.html)
// adds and overwrites, UntagResource (API_UntagResource.html) removes,
// ListTagsForResource (API_ListTagsForResource.html) lists them, and they
// survive a restart.
func TestTags(t *testing.T) {
	e := newEnv(t, "", nil)
	ctx := t.Context()
	created, err := e.c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("tagged"), Definition: aws.String(passDefinition("t")),
		RoleArn: aws.String(role), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("docs")}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := created.StateMachineArn
	list := func(c *sfn.Client) map[string]string {
		t.Helper()
		out, err := c.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: arn})
		if err != nil {
			t.Fatal(err)
		}
		return tagMap(out.Tags)
	}
	if got := list(e.c); fmt.Sprint(got) != "map[team:docs]" {
		t.Fatalf("tags from create: %v", got)
	}
	if _, err := e.c.TagResource(ctx, &sfn.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{
		{Key: aws.String("team"), Value: aws.String("ops")}, {Key: aws.String("env"), Value: aws.String("")}}}); err != nil {
		t.Fatal(err)
	}
	if got := list(e.c); fmt.Sprint(got) != "map[env: team:ops]" {
		t.Fatalf("after TagResource: %v", got)
	}
	if _, err := e.c.UntagResource(ctx, &sfn.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"env", "absent"}}); err != nil {
		t.Fatal(err)
	}
	e.http.Close()
	e.srv.Close()
	e2 := newEnv(t, e.mountDir, nil)
	if got := list(e2.c); fmt.Sprint(got) != "map[team:ops]" {
		t.Fatalf("after UntagResource and a restart: %v", got)
	}

	many := make([]types.Tag, 51)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")}
	}
	for _, tc := range []struct {
		name string
		arn  string
		tags []types.Tag
		want string
	}{
		{"over 50 tags", *arn, many, "TooManyTags"},
		{"aws: prefix", *arn, []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}, "ValidationException"},
		{"no such machine", "arn:aws:states:us-east-1:000000000000:stateMachine:none", []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}, "ResourceNotFound"},
		{"an activity", "arn:aws:states:us-east-1:000000000000:activity:a", []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}, "InvalidArn"},
	} {
		if _, err := e2.c.TagResource(ctx, &sfn.TagResourceInput{ResourceArn: &tc.arn, Tags: tc.tags}); errType(err) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
	if got := list(e2.c); fmt.Sprint(got) != "map[team:ops]" {
		t.Errorf("a refused TagResource changed the tags: %v", got)
	}
}
