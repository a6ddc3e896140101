//go:build unix

package irr

import "syscall"

// cpuTime returns the CPU time (user and system, every thread) of the process so far,
// in seconds: on a shared machine the load benchmarks report MB of RPSL per
// CPU-second beside MB/s of wall time.
func cpuTime() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
