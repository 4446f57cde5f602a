package asl

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkTransitions measures the engine's overhead per state transition:
// a chain of Task states (with Parameters and ResultPath, like the
// pipeline's) whose TaskFunc does nothing.
func BenchmarkTransitions(b *testing.B) {
	const n = 50
	var sb strings.Builder
	sb.WriteString(`{"StartAt":"S0","States":{`)
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		next := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == n-1 {
			next = `"End":true`
		}
		fmt.Fprintf(&sb, `"S%d":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Parameters":{"job.$":"$.job.id","i":%d},"ResultPath":"$.r",%s}`, i, i, next)
	}
	sb.WriteString("}}")
	m := mustParse(b, sb.String())
	noop := func(context.Context, string, json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{"ok":true}`), nil
	}
	input := json.RawMessage(`{"job":{"id":"job1","source":"jobs/job1/source.pdf"},"split":{"manifest":"m.json","lastShard":7}}`)
	for _, events := range []bool{false, true} {
		b.Run(fmt.Sprintf("events=%v", events), func(b *testing.B) {
			opts := Options{Invoke: noop, ExecutionName: "bench"}
			if events {
				opts.OnEvent = func(Event) {}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Execute(context.Background(), input, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/transition")
		})
	}
}
