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

// TestCommitAll: every staged file of two directories replaces its target; a rename
// that fails (the target became a non-empty directory) stops there with an error,
// and Abort then removes what was still staged.
func TestCommitAll(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	paths := []string{filepath.Join(dir, "a"), filepath.Join(sub, "b"), filepath.Join(dir, "c")}
	var staged []*Staged
	for _, p := range paths {
		s, err := Stage(p, []byte("new "+filepath.Base(p)), 0o644)
		if err != nil {
			t.Fatal(err)
		}
		staged = append(staged, s)
	}
	if err := CommitAll(staged); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if b, _ := os.ReadFile(p); string(b) != "new "+filepath.Base(p) {
			t.Errorf("%s: %q after CommitAll", p, b)
		}
	}
	if err := CommitAll(staged[:1]); err == nil {
		t.Error("CommitAll of committed files accepted")
	}

	staged = staged[:0]
	for _, p := range paths {
		s, err := Stage(p, []byte("newer"), 0o644)
		if err != nil {
			t.Fatal(err)
		}
		staged = append(staged, s)
	}
	blocked := filepath.Join(sub, "b")
	os.Remove(blocked)
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CommitAll(staged); err == nil {
		t.Fatal("CommitAll over a non-empty directory succeeded")
	}
	for _, s := range staged {
		s.Abort()
	}
	if b, _ := os.ReadFile(paths[0]); string(b) != "newer" {
		t.Errorf("the file renamed before the failure: %q", b)
	}
	if b, _ := os.ReadFile(paths[2]); string(b) != "new c" {
		t.Errorf("the file after the failure changed: %q", b)
	}
	for _, d := range []string{dir, sub} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if e.Name()[0] == '.' {
				t.Errorf("temporary file %s left in %s", e.Name(), d)
			}
		}
	}
}
