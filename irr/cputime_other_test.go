//go:build !unix

package irr

// cpuTime is 0 where getrusage is missing (no MB/cpu-s metric).
func cpuTime() float64 { return 0 }
