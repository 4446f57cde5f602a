package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// TestAwsSolutions applies cdk-nag's AwsSolutions pack: every finding is
// either fixed or suppressed in the stack with a reason specific to it.
func TestAwsSolutions(t *testing.T) {
	app := newTestApp(t, nil)
	stack := NewPipelineStack(app, "Nag", nil)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{
		Verbose: jsii.Bool(true),
		Reports: jsii.Bool(false),
	}), nil)

	annotations := assertions.Annotations_FromStack(stack)
	match := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for kind, found := range map[string]*[]*cxapi.SynthesisMessage{
		"error":   annotations.FindError(jsii.String("*"), match),
		"warning": annotations.FindWarning(jsii.String("*"), match),
	} {
		for _, m := range *found {
			t.Errorf("unsuppressed %s at %s: %v", kind, *m.Id, m.Entry.Data)
		}
	}

	// Suppressions are recorded in the template metadata: list them, and
	// refuse any without a reason that says something.
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Metadata struct {
				CdkNag struct {
					RulesToSuppress []struct {
						ID        string `json:"id"`
						Reason    string `json:"reason"`
						AppliesTo []any  `json:"applies_to"`
					} `json:"rules_to_suppress"`
				} `json:"cdk_nag"`
			}
		}
	}
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	n := 0
	for id, r := range tmpl.Resources {
		for _, s := range r.Metadata.CdkNag.RulesToSuppress {
			n++
			t.Logf("suppressed %s on %s (applies to %v): %s", s.ID, id, s.AppliesTo, s.Reason)
			if len(strings.Fields(s.Reason)) < 10 {
				t.Errorf("suppression %s on %s has no specific reason: %q", s.ID, id, s.Reason)
			}
			if s.ID == "AwsSolutions-IAM5" && len(s.AppliesTo) == 0 {
				t.Errorf("IAM5 suppression on %s is not narrowed by appliesTo", id)
			}
		}
	}
	if n == 0 {
		t.Error("no suppressions found in the template metadata: has cdk-nag's metadata format changed?")
	}
}
