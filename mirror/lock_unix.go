//go:build unix

package mirror

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive, non-blocking advisory lock on f (released when f is
// closed or the process ends, so a crash leaves no stale lock).
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
