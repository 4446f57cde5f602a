package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/efspipe/efspipe/pkg/jobfs"
	"github.com/efspipe/efspipe/pkg/local"
	"github.com/efspipe/efspipe/pkg/pipeerr"
	"github.com/efspipe/efspipe/stages/trigger"
)

// envStateMachine names the state machine when --state-machine-arn is not given.
const envStateMachine = "EFSPIPE_STATE_MACHINE_ARN"

// cloudConfigured reports whether replay and status talk to Step Functions:
// a state machine ARN is given by flag or environment.
func cloudConfigured(args []string) bool {
	if os.Getenv(envStateMachine) != "" {
		return true
	}
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "state-machine-arn" {
			return true
		}
	}
	return false
}

// cloud are the flags of the commands that talk to Step Functions.
type cloud struct {
	machine, endpoint, mount string
	json                     bool
}

func (c *cloud) register(fl *flag.FlagSet) {
	fl.StringVar(&c.machine, "state-machine-arn", os.Getenv(envStateMachine), "the state machine `ARN` (env "+envStateMachine+")")
	fl.StringVar(&c.endpoint, "endpoint-url", "", "Step Functions endpoint `URL` (default: the AWS config chain, AWS_ENDPOINT_URL)")
	fl.StringVar(&c.mount, "mount", envOr("EFSPIPE_MOUNT", ".efspipe"), "the shared mount `DIR`, for the checkpoint view when reachable")
	fl.BoolVar(&c.json, "json", false, "print JSON on stdout")
}

func (c *cloud) parse(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (*flag.FlagSet, error) {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	c.register(fl)
	if extra != nil {
		extra(fl)
	}
	if err := parseFlags(fl, args); err != nil {
		return nil, err
	}
	if c.machine == "" {
		return nil, usageError{name + " needs --state-machine-arn or " + envStateMachine}
	}
	if fl.NArg() != 1 {
		return nil, usageError{name + " takes exactly one argument"}
	}
	return fl, nil
}

// client builds a Step Functions client from the standard config chain.
// Against an endpoint on this machine (efspipe serve) the chain needs
// nothing: serve does not check signatures, so with no region configured
// the state machine ARN's region is used, with no credentials configured
// placeholder ones sign the requests, and the EC2 instance metadata
// service is never asked (off EC2, each ask costs seconds of retries and
// ends in an error that says nothing about the real problem).
func (c *cloud) client(ctx context.Context) (*sfn.Client, error) {
	endpoint := c.endpoint
	if endpoint == "" {
		endpoint = cmp.Or(os.Getenv("AWS_ENDPOINT_URL_SFN"), os.Getenv("AWS_ENDPOINT_URL"))
	}
	var opts []func(*config.LoadOptions) error
	if onThisMachine(endpoint) {
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if onThisMachine(endpoint) {
		if cfg.Region == "" {
			cfg.Region = cmp.Or(arnRegion(c.machine), "us-east-1")
		}
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			cfg.Credentials = credentials.NewStaticCredentialsProvider("efspipe-local", "efspipe-local", "")
		}
	}
	return sfn.NewFromConfig(cfg, func(o *sfn.Options) {
		if c.endpoint != "" {
			o.BaseEndpoint = aws.String(c.endpoint)
		}
	}), nil
}

// onThisMachine reports whether endpoint is a URL whose host is a loopback
// address or localhost.
func onThisMachine(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return false
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// arnRegion is the region field of an ARN (arn:partition:service:region:...),
// or "".
func arnRegion(arn string) string {
	if f := strings.Split(arn, ":"); len(f) > 3 && f[0] == "arn" {
		return f[3]
	}
	return ""
}

// executionARN is the ARN of the execution named name.
func (c *cloud) executionARN(name string) string {
	return strings.Replace(c.machine, ":stateMachine:", ":execution:", 1) + ":" + name
}

// cmdStart starts the execution of FILE or s3://bucket/key under its
// deterministic name: starting the same object twice is one execution.
func cmdStart(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c cloud
	var version string
	fl, err := c.parse("start", args, stderr, func(fl *flag.FlagSet) {
		fl.StringVar(&version, "version", "", "the object's version ID or ETag (default: the current object)")
	})
	if err != nil {
		return err
	}
	src := fl.Arg(0)
	sources, _, err := openSources(ctx, src)
	if err != nil {
		return err
	}
	obj, err := sources.Stat(ctx, src, version)
	if err != nil {
		return jobFailed{src, pipeerr.Reason(err)}
	}
	// The trigger's input type: an object started from here and by an
	// upload is the same execution.
	input, _ := json.Marshal(trigger.Input{Source: obj.URI, Version: obj.Version})
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	res := map[string]any{"job": obj.JobID, "executionArn": c.executionARN(obj.JobID)}
	out, err := client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(c.machine), Name: aws.String(obj.JobID), Input: aws.String(string(input)),
	})
	var exists *types.ExecutionAlreadyExists
	switch {
	case errors.As(err, &exists):
		res["existing"] = true
	case err != nil:
		return err
	default:
		res["executionArn"] = aws.ToString(out.ExecutionArn)
	}
	if c.json {
		return printJSON(stdout, res)
	}
	if res["existing"] == true {
		fmt.Fprintf(stdout, "job %s was already started: %s\n(efspipe status %s; efspipe replay %s to run it again)\n", obj.JobID, res["executionArn"], obj.JobID, obj.JobID)
		return nil
	}
	fmt.Fprintf(stdout, "job %s started: %s\n", obj.JobID, res["executionArn"])
	return nil
}

// latest finds a job's most recent execution: the job's own name, or the
// last of its replays (JOB-r1, JOB-r2, ...).
func (c *cloud) latest(ctx context.Context, client *sfn.Client, job string) (*sfn.DescribeExecutionOutput, int, error) {
	var last *sfn.DescribeExecutionOutput
	for n := 0; ; n++ {
		name := job
		if n > 0 {
			name = fmt.Sprintf("%s-r%d", job, n)
		}
		d, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(c.executionARN(name))})
		var missing *types.ExecutionDoesNotExist
		if errors.As(err, &missing) {
			if last == nil {
				return nil, 0, fmt.Errorf("job %s has no execution in %s", job, c.machine)
			}
			return last, n - 1, nil
		}
		if err != nil {
			return nil, 0, err
		}
		last = d
	}
}

func jobArg(fl *flag.FlagSet) (jobfs.Job, error) {
	job, err := jobfs.NewJob(fl.Arg(0))
	if err != nil {
		return job, usageError{err.Error()}
	}
	return job, nil
}

// openJob parses a job command's flags and finds the job's latest
// execution: what history, replay and status all start with.
func openJob(ctx context.Context, name string, args []string, stderr io.Writer) (c *cloud, job jobfs.Job, client *sfn.Client, d *sfn.DescribeExecutionOutput, replays int, err error) {
	c = &cloud{}
	fl, err := c.parse(name, args, stderr, nil)
	if err != nil {
		return
	}
	if job, err = jobArg(fl); err != nil {
		return
	}
	if client, err = c.client(ctx); err != nil {
		return
	}
	d, replays, err = c.latest(ctx, client, job.ID)
	return
}

// cmdHistory prints the events of a job's latest execution.
func cmdHistory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, _, client, d, _, err := openJob(ctx, "history", args, stderr)
	if err != nil {
		return err
	}
	var evs []types.HistoryEvent
	p := sfn.NewGetExecutionHistoryPaginator(client, &sfn.GetExecutionHistoryInput{ExecutionArn: d.ExecutionArn})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		evs = append(evs, page.Events...)
	}
	if c.json {
		type event struct {
			ID        int64     `json:"id"`
			Timestamp time.Time `json:"timestamp"`
			Type      string    `json:"type"`
			Detail    string    `json:"detail,omitempty"`
		}
		out := []event{}
		for _, e := range evs {
			out = append(out, event{e.Id, aws.ToTime(e.Timestamp), string(e.Type), eventDetail(e)})
		}
		return printJSON(stdout, map[string]any{"executionArn": aws.ToString(d.ExecutionArn), "events": out})
	}
	fmt.Fprintf(stdout, "execution %s\n", aws.ToString(d.ExecutionArn))
	for _, e := range evs {
		fmt.Fprintf(stdout, "%4d  %s  %-28s %s\n", e.Id, aws.ToTime(e.Timestamp).UTC().Format(time.RFC3339), e.Type, eventDetail(e))
	}
	return nil
}

// eventDetail is the one thing worth reading in an event.
func eventDetail(e types.HistoryEvent) string {
	switch {
	case e.StateEnteredEventDetails != nil:
		return aws.ToString(e.StateEnteredEventDetails.Name)
	case e.StateExitedEventDetails != nil:
		return aws.ToString(e.StateExitedEventDetails.Name)
	case e.ExecutionFailedEventDetails != nil:
		return aws.ToString(e.ExecutionFailedEventDetails.Error) + ": " + aws.ToString(e.ExecutionFailedEventDetails.Cause)
	case e.TaskFailedEventDetails != nil:
		return aws.ToString(e.TaskFailedEventDetails.Error) + ": " + aws.ToString(e.TaskFailedEventDetails.Cause)
	case e.LambdaFunctionFailedEventDetails != nil:
		return aws.ToString(e.LambdaFunctionFailedEventDetails.Error) + ": " + aws.ToString(e.LambdaFunctionFailedEventDetails.Cause)
	case e.MapRunFailedEventDetails != nil:
		return aws.ToString(e.MapRunFailedEventDetails.Error) + ": " + aws.ToString(e.MapRunFailedEventDetails.Cause)
	}
	return ""
}

// cmdCloudReplay resumes a job: RedriveExecution when Step Functions allows
// it (failed steps and Map iterations only), else a new execution with the
// same input under the next replay name. The stages skip whatever their
// checkpoints verify either way.
func cmdCloudReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, job, client, d, n, err := openJob(ctx, "replay", args, stderr)
	if err != nil {
		return err
	}
	if d.Status == types.ExecutionStatusRunning || d.Status == types.ExecutionStatusPendingRedrive {
		return fmt.Errorf("job %s is still running (%s): nothing to replay", job.ID, aws.ToString(d.ExecutionArn))
	}
	res := map[string]any{"job": job.ID, "executionArn": aws.ToString(d.ExecutionArn)}
	if d.RedriveStatus == types.ExecutionRedriveStatusRedrivable {
		_, err := client.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: d.ExecutionArn})
		var not *types.ExecutionNotRedrivable
		if err == nil {
			res["action"] = "redrive"
		} else if !errors.As(err, &not) {
			return err
		}
	}
	if res["action"] == nil {
		name := fmt.Sprintf("%s-r%d", job.ID, n+1)
		out, err := client.StartExecution(ctx, &sfn.StartExecutionInput{
			StateMachineArn: aws.String(c.machine), Name: aws.String(name), Input: d.Input,
		})
		if err != nil {
			return err
		}
		res["action"], res["executionArn"] = "start", aws.ToString(out.ExecutionArn)
	}
	if c.json {
		return printJSON(stdout, res)
	}
	if res["action"] == "redrive" {
		fmt.Fprintf(stdout, "job %s: redriving %s (failed steps only)\n", job.ID, res["executionArn"])
	} else {
		fmt.Fprintf(stdout, "job %s: started %s (resumes from the checkpoint)\n", job.ID, res["executionArn"])
	}
	return nil
}

// cloudStatus is the execution's view merged with the mount's.
type cloudStatus struct {
	Job          string        `json:"job"`
	ExecutionARN string        `json:"executionArn"`
	Status       string        `json:"status"`
	Replays      int           `json:"replays"`
	RedriveCount int32         `json:"redriveCount"`
	Redrive      string        `json:"redriveStatus,omitempty"`
	Error        string        `json:"error,omitempty"`
	Cause        string        `json:"cause,omitempty"`
	Started      time.Time     `json:"started"`
	Stopped      *time.Time    `json:"stopped,omitempty"`
	Checkpoint   *local.Report `json:"checkpoint,omitempty"`
	// Mount says why there is no checkpoint view.
	Mount string `json:"mount,omitempty"`
}

// cmdCloudStatus shows a job's latest execution and, when the mount is
// reachable from here, what its checkpoints say.
func cmdCloudStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, job, _, d, n, err := openJob(ctx, "status", args, stderr)
	if err != nil {
		return err
	}
	st := cloudStatus{
		Job: job.ID, ExecutionARN: aws.ToString(d.ExecutionArn), Status: string(d.Status), Replays: n,
		RedriveCount: aws.ToInt32(d.RedriveCount), Redrive: string(d.RedriveStatus),
		Error: aws.ToString(d.Error), Cause: aws.ToString(d.Cause), Started: aws.ToTime(d.StartDate), Stopped: d.StopDate,
	}
	if fi, err := os.Stat(c.mount); err != nil || !fi.IsDir() {
		st.Mount = "not reachable from here: " + c.mount
	} else if m, err := jobfs.Open(c.mount); err != nil {
		st.Mount = err.Error()
	} else {
		defer m.Close()
		if r, err := local.Inspect(m, job); err != nil {
			st.Mount = err.Error()
		} else {
			st.Checkpoint = &r
		}
	}
	if c.json {
		return printJSON(stdout, st)
	}
	fmt.Fprintf(stdout, "job        %s\nexecution  %s\nstatus     %s", st.Job, st.ExecutionARN, st.Status)
	if st.Replays > 0 || st.RedriveCount > 0 {
		fmt.Fprintf(stdout, " (replay %d, redriven %d times)", st.Replays, st.RedriveCount)
	}
	fmt.Fprintln(stdout)
	if st.Error != "" {
		fmt.Fprintf(stdout, "error      %s: %s\n", st.Error, st.Cause)
	}
	if r := st.Checkpoint; r != nil {
		printStages(stdout, r.Stages)
		fmt.Fprintf(stdout, "replay     %s\n", r.Next)
	} else {
		fmt.Fprintf(stdout, "checkpoint %s\n", st.Mount)
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
