package main

import (
	"slices"
	"testing"
)

func TestClassify(t *testing.T) {
	succeeded := Run{Exit: 0, Status: "SUCCEEDED", Pages: 3}
	refused := Run{Exit: 1, Status: "FAILED", Kind: "InvalidInput.Damaged"}
	split := Run{Exit: 0, Pages: 3}
	warned := Run{Exit: 3, Pages: 3, Warned: true}
	failed := Run{Exit: 2}
	panicFault := Fault{Kind: FaultPanic, Detail: "panic: runtime error: index out of range"}
	renderFault := Fault{Kind: FaultRender, Page: 2, Detail: "pixels differ"}
	tests := []struct {
		name string
		r    Record
		want Class
	}{
		{"both split", Record{Efspipe: succeeded, Qpdf: split}, OK},
		{"qpdf warned, both split", Record{Efspipe: succeeded, Qpdf: warned}, OK},
		{"efspipe refuses, qpdf splits", Record{Efspipe: refused, Qpdf: split}, Refused},
		{"efspipe refuses, qpdf splits with warnings", Record{Efspipe: refused, Qpdf: warned}, Refused},
		{"qpdf fails but wrote pages", Record{Efspipe: refused, Qpdf: Run{Exit: 2, Pages: 2}}, BothRefuse},
		{"qpdf exits 0 without pages", Record{Efspipe: refused, Qpdf: Run{Exit: 0}}, BothRefuse},
		{"both refuse", Record{Efspipe: refused, Qpdf: failed}, BothRefuse},
		{"qpdf timed out", Record{Efspipe: refused, Qpdf: Run{Exit: -1, TimedOut: true, Pages: 1}}, BothRefuse},
		{"efspipe only", Record{Efspipe: succeeded, Qpdf: failed}, EfspipeOnly},
		{"efspipe times out", Record{Efspipe: Run{Exit: -1, TimedOut: true}, Qpdf: split}, Crash},
		{"efspipe killed", Record{Efspipe: Run{Exit: -1, Signal: "killed"}, Qpdf: split}, Crash},
		{"timeout wins over a fault", Record{Efspipe: Run{Exit: -1, TimedOut: true}, Qpdf: split, Faults: []Fault{panicFault}}, Crash},
		{"a wrong page", Record{Efspipe: succeeded, Qpdf: split, Faults: []Fault{renderFault}}, SilentFault},
		{"a wrong page where qpdf fails", Record{Efspipe: succeeded, Qpdf: failed, Faults: []Fault{{Kind: FaultRestore, Page: 1}}}, SilentFault},
		{"exit 0 without SUCCEEDED", Record{Efspipe: Run{Exit: 0, Status: "FAILED"}, Qpdf: split}, SilentFault},
		{"panic text in a refusal", Record{Efspipe: refused, Qpdf: split, Faults: []Fault{panicFault}}, PanicLeaked},
		{"panic text and a wrong page", Record{Efspipe: succeeded, Qpdf: split, Faults: []Fault{panicFault, renderFault}}, SilentFault},
		{"skipped", Record{Skipped: skipLFS}, Skipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.r); got != tt.want {
				t.Errorf("classify = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSpread(t *testing.T) {
	tests := []struct {
		n, k int
		want []int
	}{
		{0, 4, nil},
		{5, 0, nil},
		{1, 4, []int{1}},
		{3, 4, []int{1, 2, 3}},
		{4, 4, []int{1, 2, 3, 4}},
		{5, 1, []int{1}},
		{5, 2, []int{1, 5}},
		{10, 4, []int{1, 4, 7, 10}},
		{3, -1, []int{1, 2, 3}},
		{100, 3, []int{1, 50, 100}},
	}
	for _, tt := range tests {
		if got := spread(tt.n, tt.k); !slices.Equal(got, tt.want) {
			t.Errorf("spread(%d, %d) = %v, want %v", tt.n, tt.k, got, tt.want)
		}
	}
	// Every n and k: k distinct pages in 1..n, increasing, first and last
	// included.
	for n := 1; n <= 60; n++ {
		for k := 2; k <= 60; k++ {
			got := spread(n, k)
			if len(got) != min(n, k) || got[0] != 1 || got[len(got)-1] != n {
				t.Fatalf("spread(%d, %d) = %v", n, k, got)
			}
			for i := 1; i < len(got); i++ {
				if got[i] <= got[i-1] {
					t.Fatalf("spread(%d, %d) = %v: not increasing", n, k, got)
				}
			}
		}
	}
}
