//go:build unix

package analysis_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used, on every thread (the garbage collector's
// included): on a loaded machine the wall time says little, the CPU time is what a run costs.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
