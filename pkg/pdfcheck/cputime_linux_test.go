package pdfcheck

import (
	"golang.org/x/sys/unix"
)

// threadCPU returns the CPU time the calling thread has used, in ns, and
// true; BenchmarkPage reports it beside wall time because on a machine
// shared with other work the wall time of a single-threaded loop measures
// the other work too. The caller must hold runtime.LockOSThread.
func threadCPU() (int64, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return ts.Nano(), true
}
