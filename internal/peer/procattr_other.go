//go:build !unix

package peer

import "syscall"

// ownGroup: no process groups here (the peers these tests start are Unix programs).
func ownGroup() *syscall.SysProcAttr { return nil }
