//go:build unix

package atomicfile

import (
	"os"
	"syscall"
)

// fileOwner returns the numeric owner and group of st, or -1, -1 when the platform
// does not say.
func fileOwner(st os.FileInfo) (uid, gid int) {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(sys.Uid), int(sys.Gid)
	}
	return -1, -1
}
