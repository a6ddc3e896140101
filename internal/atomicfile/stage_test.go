package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStageCommitAbort: nothing reaches the target before Commit, Abort leaves it and
// no temporary file behind, and a replaced file keeps its mode.
func TestStageCommitAbort(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Stage(p, []byte("new"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("target changed before Commit: %q", b)
	}
	s.Abort()
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("target changed by Abort: %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temporary file left: %v", ents)
	}
	s, err = Stage(p, []byte("new"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if b, _ := os.ReadFile(p); string(b) != "new" || st.Mode().Perm() != 0o600 {
		t.Errorf("after Commit: %q mode %v; want new, 0600", b, st.Mode().Perm())
	}
	if err := s.Commit(); err == nil {
		t.Error("second Commit accepted")
	}
	if _, err := Stage(dir, []byte("x"), 0o644); err == nil {
		t.Error("a directory as target accepted")
	}
	if _, err := Stage(filepath.Join(dir, "no", "f"), []byte("x"), 0o644); err == nil {
		t.Error("a missing directory accepted")
	}
}
