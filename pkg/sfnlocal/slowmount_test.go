package sfnlocal_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/efspipe/efspipe/internal/slowfs"
)

// TestStartDoesNotHoldTheServer: a StartExecution writing its execution's
// record (mkdir, create, write, fsync, rename: a round trip each on EFS)
// does not hold the server while it does: a DescribeExecution of another
// execution answers before the record is renamed into place, where it
// waited for the whole write (a median of 390 ms during a burst of starts
// on a mount of EFS's latencies, 2 ms without).
func TestStartDoesNotHoldTheServer(t *testing.T) {
	// A mount slower than EFS, on which the order of what serve does is
	// seen in the operations the mount has served.
	fs, _, mnt := slowfs.MountForTest(t, slowfs.Options{WriteLatency: 300 * time.Millisecond})
	e := newEnv(t, mnt, nil)
	created := e.create(t, "pass", passDefinition("x"))
	first, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Name: aws.String("first")})
	if err != nil {
		t.Fatal(err)
	}
	e.wait(t, *first.ExecutionArn)
	before := fs.Stats()
	started := make(chan error, 1)
	go func() {
		_, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Name: aws.String("second")})
		started <- err
	}()
	// The second execution's directory is being made: its record is
	// being written.
	waitFor(t, func() bool { return fs.Stats()[slowfs.OpMkdir] > before[slowfs.OpMkdir] })
	if _, err := e.c.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: first.ExecutionArn}); err != nil {
		t.Fatal(err)
	}
	if got := fs.Stats()[slowfs.OpRename]; got != before[slowfs.OpRename] {
		t.Errorf("DescribeExecution answered only once the starting execution's record was renamed into place (%d renames)", got-before[slowfs.OpRename])
	}
	if err := <-started; err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentStartsOfOneName: StartExecution calls of one name at
// once, as an at-least-once trigger makes them, start one execution,
// whichever writes its record first: every call that succeeds answers its
// ARN, the others are ExecutionAlreadyExists. (A start waits for another
// of its name that is writing its record, outside the server's lock.)
func TestConcurrentStartsOfOneName(t *testing.T) {
	e := newEnv(t, "", nil)
	created := e.create(t, "wait", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}`)
	// Half the calls carry another input. (newEnv's Sleep returns at
	// once, so the execution may end before some calls: those are
	// ExecutionAlreadyExists too, as in AWS.)
	type result struct {
		out *sfn.StartExecutionOutput
		err error
	}
	results := make(chan result, 20)
	for i := range 20 {
		in := `{"n":1}`
		if i%2 == 1 {
			in = `{"n":2}`
		}
		go func() {
			out, err := e.c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Name: aws.String("once"), Input: aws.String(in)})
			results <- result{out, err}
		}()
	}
	var arns []string
	for range 20 {
		r := <-results
		switch {
		case r.err == nil:
			arns = append(arns, *r.out.ExecutionArn)
		case errType(r.err) != "ExecutionAlreadyExists":
			t.Errorf("a concurrent start: %v", r.err)
		}
	}
	l, err := e.c.ListExecutions(t.Context(), &sfn.ListExecutionsInput{StateMachineArn: created.StateMachineArn})
	if err != nil || len(l.Executions) != 1 || len(arns) == 0 {
		t.Fatalf("%d executions listed (%v), %d starts answered", len(l.Executions), err, len(arns))
	}
	for _, arn := range arns {
		if arn != *l.Executions[0].ExecutionArn {
			t.Errorf("a start answered %s, the execution is %s", arn, *l.Executions[0].ExecutionArn)
		}
	}
}
