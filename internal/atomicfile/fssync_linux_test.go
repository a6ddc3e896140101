//go:build linux

package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// countSyncs replaces syncFile with a counter (and err, when set) for the test.
func countSyncs(t *testing.T, err error) *atomic.Int64 {
	var n atomic.Int64
	old := syncFile
	syncFile = func(f *os.File) error {
		n.Add(1)
		if err != nil {
			return err
		}
		return old(f)
	}
	t.Cleanup(func() { syncFile = old })
	return &n
}

func stageAll(t *testing.T, dir string, n int, content string) []*Staged {
	t.Helper()
	var out []*Staged
	for i := range n {
		s, err := Stage(filepath.Join(dir, fmt.Sprint("f", i)), []byte(content), 0o644)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestGroupSyncVouches: on a kernel whose syncfs reports errors, CommitAll makes the
// files durable with the shared syncfs round and fsyncs none of them itself.
func TestGroupSyncVouches(t *testing.T) {
	if !syncfsOK() {
		t.Skip("kernel before 5.8: syncfs does not report writeback errors, every file is fsynced")
	}
	n := countSyncs(t, nil)
	dir := t.TempDir()
	if err := CommitAll(stageAll(t, dir, 5, "x")); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 0 {
		t.Fatalf("%d files fsynced one by one; the syncfs round should vouch for all", n.Load())
	}
}

// TestGroupSyncFailedRound: a syncfs round that fails cannot vouch for the files
// written before it: each is fsynced on its own, and a failing fsync fails CommitAll
// before any rename, leaving the targets and no temporary file.
func TestGroupSyncFailedRound(t *testing.T) {
	if !syncfsOK() {
		t.Skip("kernel before 5.8")
	}
	old := syncfs
	syncfs = func(int) error { return syscall.EIO }
	t.Cleanup(func() { syncfs = old })
	n := countSyncs(t, nil)
	dir := t.TempDir()
	if err := CommitAll(stageAll(t, dir, 4, "new")); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 4 {
		t.Fatalf("%d files fsynced after a failed syncfs round, want 4", n.Load())
	}

	ioErr := errors.New("injected EIO")
	countSyncs(t, ioErr)
	staged := stageAll(t, dir, 4, "newer")
	err := CommitAll(staged)
	if !errors.Is(err, ioErr) {
		t.Fatalf("CommitAll = %v, want the fsync error", err)
	}
	for _, s := range staged {
		s.Abort()
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if b, _ := os.ReadFile(filepath.Join(dir, e.Name())); string(b) != "new" {
			t.Errorf("%s = %q after the failed CommitAll, want the previous content", e.Name(), b)
		}
	}
	if len(ents) != 4 {
		t.Errorf("%d files in the directory, want the 4 targets and no temporary file", len(ents))
	}
}

// TestGroupSyncShared: concurrent CommitAll calls share syncfs rounds (fewer rounds
// than calls), and every file has its content.
func TestGroupSyncShared(t *testing.T) {
	if !syncfsOK() {
		t.Skip("kernel before 5.8")
	}
	old := syncfs
	syncfs = func(fd int) error { time.Sleep(5 * time.Millisecond); return old(fd) }
	t.Cleanup(func() { syncfs = old })
	root := t.TempDir()
	tok := syncTokenFor(root)
	before := tok.seen
	const workers, each = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				dir := filepath.Join(root, fmt.Sprint(w, "-", k))
				if err := os.Mkdir(dir, 0o755); err != nil {
					errs <- err
					return
				}
				var staged []*Staged
				for i := range 3 {
					s, err := Stage(filepath.Join(dir, fmt.Sprint(i)), []byte(dir), 0o644)
					if err != nil {
						errs <- err
						return
					}
					staged = append(staged, s)
				}
				if err := CommitAll(staged); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rounds := syncTokenFor(root).seen - before
	if calls := uint64(2 * workers * each); rounds >= calls {
		t.Fatalf("%d syncfs rounds for %d group syncs: none shared", rounds, calls)
	}
	for w := range workers {
		for k := range each {
			dir := filepath.Join(root, fmt.Sprint(w, "-", k))
			for i := range 3 {
				if b, _ := os.ReadFile(filepath.Join(dir, fmt.Sprint(i))); string(b) != dir {
					t.Fatalf("%s/%d = %q", dir, i, b)
				}
			}
		}
	}
}
