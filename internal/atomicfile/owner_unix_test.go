//go:build unix

package atomicfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestStageKeepsOwner: a replaced file keeps its owner and group (issue 12 item 16),
// through the build-tagged fileOwner. Changing a file's owner needs root.
func TestStageKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown to another user needs root")
	}
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	const uid, gid = 65534, 65533
	if err := os.Chown(p, uid, gid); err != nil {
		t.Fatal(err)
	}
	s, err := Stage(p, []byte("new"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if sys.Uid != uid || sys.Gid != gid || st.Mode().Perm() != 0o640 {
		t.Errorf("after Commit: owner %d:%d mode %v; want %d:%d 0640", sys.Uid, sys.Gid, st.Mode().Perm(), uid, gid)
	}
	if u, g := fileOwner(st); u != uid || g != gid {
		t.Errorf("fileOwner = %d:%d, want %d:%d", u, g, uid, gid)
	}
}
