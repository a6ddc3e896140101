//go:build !unix

package irrcache

import "os"

// inode returns 0, 0: the identity is then path, size and modification time (and the
// content hash decides when those change).
func inode(os.FileInfo) (ino, dev uint64) { return 0, 0 }
