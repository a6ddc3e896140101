//go:build unix

package peer

import "syscall"

// ownGroup starts a peer in its own process group, so a terminal's Ctrl-C reaches the
// test binary, which then stops the peer by its PID.
func ownGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
