package sfnlocal_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/efspipe/efspipe/internal/awstest"
)

var update = flag.Bool("update", false, "rewrite testdata/conformance/*.want.json from this endpoint")

// outcome is what the conformance suite compares: the end of an execution.
type outcome struct {
	Events []string `json:"-"` // the history's event types, in order
	Status string   `json:"status"`
	Output any      `json:"output,omitempty"`
	Error  string   `json:"error,omitempty"`
	Cause  string   `json:"cause,omitempty"`
}

type conformanceCase struct {
	name, definition, input string
	want                    outcome
}

func conformanceCases(t *testing.T) []conformanceCase {
	t.Helper()
	defs, err := filepath.Glob("testdata/conformance/*.asl.json")
	if err != nil || len(defs) == 0 {
		t.Fatalf("no definitions: %v", err)
	}
	sort.Strings(defs)
	var out []conformanceCase
	for _, d := range defs {
		name := strings.TrimSuffix(filepath.Base(d), ".asl.json")
		def, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		in, err := os.ReadFile(strings.TrimSuffix(d, ".asl.json") + ".input.json")
		if err != nil {
			t.Fatal(err)
		}
		c := conformanceCase{name: name, definition: string(def), input: strings.TrimSpace(string(in))}
		if b, err := os.ReadFile(strings.TrimSuffix(d, ".asl.json") + ".want.json"); err == nil {
			if err := json.Unmarshal(b, &c.want); err != nil {
				t.Fatalf("%s.want.json: %v", name, err)
			}
		} else if !*update {
			t.Fatalf("%s: %v (run with -update to write it, then review it against the AWS documentation)", name, err)
		}
		out = append(out, c)
	}
	return out
}

// runCase creates the machine, runs the input once, and waits for the end.
func runCase(ctx context.Context, c *sfn.Client, prefix string, tc conformanceCase) (outcome, error) {
	created, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(prefix + tc.name),
		Definition: aws.String(tc.definition), RoleArn: aws.String("arn:aws:iam::123456789012:role/conformance")})
	if err != nil {
		return outcome{}, fmt.Errorf("create: %w", err)
	}
	start, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn,
		Name: aws.String("run-" + tc.name), Input: aws.String(tc.input)})
	if err != nil {
		return outcome{}, fmt.Errorf("start: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: start.ExecutionArn})
		if err != nil {
			return outcome{}, err
		}
		if d.Status != types.ExecutionStatusRunning {
			o := outcome{Status: string(d.Status), Error: aws.ToString(d.Error), Cause: aws.ToString(d.Cause)}
			p := sfn.NewGetExecutionHistoryPaginator(c, &sfn.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return outcome{}, err
				}
				for _, ev := range page.Events {
					o.Events = append(o.Events, string(ev.Type))
				}
			}
			if d.Output != nil {
				if err := json.Unmarshal([]byte(*d.Output), &o.Output); err != nil {
					o.Output = "not JSON: " + *d.Output
				}
			}
			return o, nil
		}
		if time.Now().After(deadline) {
			return outcome{}, fmt.Errorf("still RUNNING after 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sameOutcome compares two ends. The cause of a States.Runtime error is
// free text in AWS, so only its name is compared.
func sameOutcome(a, b outcome) bool {
	a.Events, b.Events = nil, nil
	if a.Error == "States.Runtime" && b.Error == "States.Runtime" {
		a.Cause, b.Cause = "", ""
	}
	return reflect.DeepEqual(a, b)
}

func sameEvents(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// motoDeviations are the cases where moto 5.2 disagrees with the AWS
// documentation; for them the documented behaviour (the .want.json) is
// asserted on this endpoint and moto's answer is only logged.
var motoDeviations = map[string]string{
	// The States Language's error names: "States.NoChoiceMatched: A Choice
	// state failed to match the input to any Choice Rule and no Default
	// was given". moto fails with States.Runtime and a Python repr.
	"choice-nomatch": "States.Runtime instead of States.NoChoiceMatched",
	// Step Functions evaluates paths with Jayway JsonPath: a definite path
	// (single names and indexes only, such as $.items[0].sku or
	// $[1].branch) yields the value itself; only indefinite paths ([*],
	// filters, slices) yield an array. moto's jsonpath-ng wraps the value
	// of any path with an index in an array.
	"pass-paths": "a definite path with an index yields [value] instead of value",
	"parallel":   "a definite path with an index yields [value] instead of value",
	// DescribeExecution's output is "the JSON output data of the
	// execution": a string result is "all", quoted. moto returns all.
	"choice-types": "a string output is not JSON-encoded",
}

// TestConformance runs every definition in testdata/conformance through
// this endpoint and checks the documented outcome (.want.json); with
// moto_server installed, it runs them through moto's interpreter too and
// reports where the two agree.
func TestConformance(t *testing.T) {
	cases := conformanceCases(t)
	e := newEnv(t, "", nil)
	ours := map[string]outcome{}
	for _, tc := range cases {
		got, err := runCase(t.Context(), e.c, "", tc)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		ours[tc.name] = got
		if *update {
			b, _ := json.MarshalIndent(got, "", "  ")
			if err := os.WriteFile(filepath.Join("testdata/conformance", tc.name+".want.json"), append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got.Events = nil; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
	if *update {
		return
	}

	t.Run("moto", func(t *testing.T) {
		if testing.Short() {
			t.Skip("moto_server's interpreter, for comparison: run without -short (make test)")
		}
		url := startMoto(t)
		if len(cases) > len(motoRegions) {
			t.Fatalf("%d cases, %d regions for moto: add regions", len(cases), len(motoRegions))
		}
		agree, sameHistory := 0, 0
		var differ []string
		for i, tc := range cases {
			c := sfn.New(sfn.Options{Region: motoRegions[i], BaseEndpoint: aws.String(url),
				Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local-secret", "")})
			got, err := runCase(t.Context(), c, "", tc)
			if err != nil {
				got = outcome{Status: "REFUSED", Cause: err.Error()}
			}
			// Concurrent Map iterations and Parallel branches interleave
			// differently in each engine, so histories are compared as
			// multisets of event types; a failure that aborts iterations
			// still running depends on timing, so this is reported, not
			// asserted.
			if sameEvents(got.Events, ours[tc.name].Events) {
				sameHistory++
			} else {
				t.Logf("%s: history event types differ:\nmoto %v\nhere %v", tc.name, got.Events, ours[tc.name].Events)
			}
			switch {
			case sameOutcome(got, ours[tc.name]):
				agree++
				if reason, ok := motoDeviations[tc.name]; ok {
					t.Errorf("%s: moto now agrees; drop the deviation (%s)", tc.name, reason)
				}
			case motoDeviations[tc.name] != "":
				differ = append(differ, tc.name)
				t.Logf("%s: moto deviates from AWS (%s): moto %+v", tc.name, motoDeviations[tc.name], got)
			default:
				differ = append(differ, tc.name)
				t.Errorf("%s: moto %+v\nhere %+v", tc.name, got, ours[tc.name])
			}
		}
		t.Logf("conformance: %d definitions, %d agree with moto, known moto deviations: %v; %d histories with the same event types",
			len(cases), agree, differ, sameHistory)
	})
}

// motoRegions gives each case its own region. moto 5.2 (a moto bug, not
// AWS behaviour) deep-copies the state machine on StartExecution, and the
// copy reaches, through the region's backend, the executions already
// running there, whose locks cannot be copied: a second StartExecution in
// a region fails with HTTP 500 once one execution has run.
var motoRegions = []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3",
	"eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "sa-east-1", "eu-south-1", "ap-east-1", "me-south-1", "af-south-1"}

// startMoto starts moto_server with its Step Functions interpreter
// switched on, and returns its URL.
func startMoto(t *testing.T) string {
	t.Helper()
	url := awstest.StartMoto(t)
	// Without this, moto's executions stay RUNNING for ever.
	resp, err := http.Post(url+"/moto-api/config", "application/json", strings.NewReader(`{"stepfunctions": {"execute_state_machine": true}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("moto_server refused its Step Functions config: %s", resp.Status)
	}
	return url
}
