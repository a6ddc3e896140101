//go:build unix

package irr

import (
	"fmt"
	"os"
	"syscall"
)

// mapFile maps the file at path read-only into memory: opening a snapshot then costs
// what the query touches, page by page, not a read of the whole file. The mapping
// lives as long as the process (an Index has no Close). A snapshot replaced by rename
// keeps its old contents mapped; one truncated in place would fault (SIGBUS), which is
// why snapshots are only ever written to a new file and renamed (see irrcache).
func mapFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size == 0 || !st.Mode().IsRegular() {
		return readAll(f)
	}
	if size != int64(int(size)) {
		return nil, fmt.Errorf("%s: too large to map", path)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return readAll(f) // e.g. a file system without mmap
	}
	return b, nil
}

// unmapFile releases what mapFile returned for a snapshot that failed to open.
func unmapFile(b []byte) {
	if len(b) > 0 {
		_ = syscall.Munmap(b) // fails harmlessly for a slice that readAll returned
	}
}
