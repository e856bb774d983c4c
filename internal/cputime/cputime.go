//go:build unix

// Package cputime reads the CPU time the process has used, for benchmarks that report CPU
// time per operation beside wall time (on a loaded machine, wall time says little).
package cputime

import (
	"syscall"
	"time"
)

// Used is the user and system CPU time of the process so far (every thread, the GC's too).
func Used() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
