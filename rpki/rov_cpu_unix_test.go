//go:build unix

package rpki

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time: on a shared machine it is a
// steadier measure than wall time (which counts time the benchmark was not running).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
