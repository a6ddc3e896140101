//go:build !unix

package atomicfile

import "os"

// fileOwner reports no owner where files have no numeric uid/gid (Windows, Plan 9,
// wasm): Stage then keeps the mode only.
func fileOwner(os.FileInfo) (uid, gid int) { return -1, -1 }
