// Command slowfs mounts an EFS-like slow passthrough of DIR at MOUNTPOINT
// (see internal/slowfs) until SIGINT or SIGTERM, then unmounts and prints the
// operation counts on stderr. Needs root and /dev/fuse.
//
//	go run ./bench/slowfs [--read-latency 1ms] [--write-latency 2.7ms] DIR MOUNTPOINT
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/efspipe/efspipe/internal/slowfs"
)

func main() {
	rl := flag.Duration("read-latency", time.Millisecond, "latency per read-class operation")
	wl := flag.Duration("write-latency", 2700*time.Microsecond, "latency per write or metadata operation")
	ttl := flag.Duration("cache", time.Second, "kernel attribute/entry cache timeout (negative: none)")
	debug := flag.Bool("debug", false, "log every FUSE request")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: slowfs [flags] DIR MOUNTPOINT")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	s, err := slowfs.Mount(flag.Arg(0), flag.Arg(1), slowfs.Options{
		ReadLatency: *rl, WriteLatency: *wl, CacheTimeout: *ttl, Debug: *debug,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "slowfs: %s on %s (read %v, write %v)\n", flag.Arg(0), flag.Arg(1), *rl, *wl)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1)
	done := make(chan struct{})
	go func() { s.Wait(); close(done) }()
	for {
		select {
		case <-done: // unmounted from outside (umount)
			fmt.Fprintf(os.Stderr, "slowfs: ops %s\n", s.StatsString())
			return
		case v := <-sig:
			if v == syscall.SIGUSR1 { // print and reset the counters
				fmt.Fprintf(os.Stderr, "slowfs: ops %s\n", s.StatsString())
				s.ResetStats()
				continue
			}
			if err := s.Unmount(); err != nil {
				fmt.Fprintln(os.Stderr, "slowfs: unmount:", err)
				os.Exit(1)
			}
			fmt.Fprintf(os.Stderr, "slowfs: ops %s\n", s.StatsString())
			return
		}
	}
}
