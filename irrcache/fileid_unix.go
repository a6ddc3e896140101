//go:build unix

package irrcache

import (
	"os"
	"syscall"
)

// inode returns the inode and device of a file (0, 0 where the platform has none).
func inode(st os.FileInfo) (ino, dev uint64) {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Ino), uint64(sys.Dev)
	}
	return 0, 0
}
