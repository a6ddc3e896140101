package irrcache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/irr"
)

// logRecorder keeps the messages of a slog.Logger.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Level.String()+" "+r.Message)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.msgs
	l.msgs = nil
	return out
}

func has(msgs []string, sub string) bool {
	return slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, sub) })
}

// registry writes an RPSL file of n route objects of AS64496 (and one malformed
// object, whose warning must repeat on cached runs).
func registry(t *testing.T, path string, n int, descr string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("as-set: AS-CUST\nmembers: AS64496\nsource: TEST\n\nroute: 192.0.2.0/33\norigin: AS64496\nsource: TEST\n\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "route: 10.%d.%d.0/24\ndescr: %s\norigin: AS64496\nsource: TEST\n\n", i>>8&255, i&255, descr)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

type snapRun struct {
	t   *testing.T
	dir string
	rec *logRecorder
}

// load loads path through the cache, closes the index (waiting for the background
// write) and returns the number of AS-CUST prefixes, the report and the log.
func (r snapRun) load(path string) (int, *irr.LoadReport, []string, error) {
	r.t.Helper()
	ix, rep, err := LoadFiles(context.Background(), []string{path}, irr.LoadOptions{},
		SnapshotOptions{Dir: r.dir, MinSize: 1, Logger: slog.New(r.rec)})
	if err != nil {
		return 0, rep, r.rec.take(), err
	}
	defer ix.Close()
	p, _, err := ix.SetPrefixes(context.Background(), nil, "AS-CUST", false)
	ix.Close()
	return len(p), rep, r.rec.take(), err
}

func TestSnapshotCache(t *testing.T) {
	dir := t.TempDir()
	r := snapRun{t: t, dir: filepath.Join(dir, "cache"), rec: &logRecorder{}}
	path := filepath.Join(dir, "reg.db")
	registry(t, path, 300, "first")

	n, rep, msgs, err := r.load(path)
	if err != nil || n != 300 || !has(msgs, "cache miss") || rep.Skipped != 1 {
		t.Fatalf("first run: %d prefixes, %v, %v, report %+v", n, err, msgs, rep)
	}
	snaps, _ := filepath.Glob(filepath.Join(r.dir, "irr-*.snap"))
	if len(snaps) != 1 {
		t.Fatalf("cache holds %v", snaps)
	}
	n, rep, msgs, err = r.load(path)
	if err != nil || n != 300 || !has(msgs, "cache hit") || rep.Skipped != 1 || len(rep.Malformed) != 1 {
		t.Fatalf("second run: %d prefixes, %v, %v, report %+v (the malformed count must repeat)", n, err, msgs, rep)
	}

	t.Run("content changed", func(t *testing.T) {
		registry(t, path, 301, "first")
		n, _, msgs, err := r.load(path)
		if err != nil || n != 301 || !has(msgs, "cache miss") {
			t.Fatalf("after a change: %d prefixes, %v, %v", n, err, msgs)
		}
		if n, _, msgs, _ := r.load(path); n != 301 || !has(msgs, "cache hit") {
			t.Fatalf("the rebuilt entry: %d, %v", n, msgs)
		}
	})
	t.Run("same size, other content, same mtime", func(t *testing.T) {
		st, _ := os.Stat(path)
		registry(t, path, 301, "other") // same length
		os.Chtimes(path, st.ModTime(), st.ModTime())
		if st2, _ := os.Stat(path); st2.Size() != st.Size() {
			t.Fatal("sizes differ")
		}
		// The inode is the same and so is the mtime: only the hash could tell, and a
		// run with a matching identity does not read the files (documented). A new
		// file (rename over) has another inode.
		tmp := path + ".new"
		registry(t, tmp, 301, "third")
		os.Chtimes(tmp, st.ModTime(), st.ModTime())
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
		if _, _, msgs, _ := r.load(path); !has(msgs, "cache miss") {
			t.Errorf("a file renamed into place with the same size and mtime: %v", msgs)
		}
	})
	t.Run("touched", func(t *testing.T) {
		later := time.Now().Add(time.Hour)
		os.Chtimes(path, later, later)
		n, _, msgs, err := r.load(path)
		if err != nil || n != 301 || !has(msgs, "same content") || !has(msgs, "cache hit") {
			t.Fatalf("touched file: %d, %v, %v", n, err, msgs)
		}
		if _, _, msgs, _ := r.load(path); !has(msgs, "cache hit") || has(msgs, "same content") {
			t.Errorf("the record was not updated: %v", msgs)
		}
	})
	t.Run("corrupt snapshot header", func(t *testing.T) {
		snap, _ := filepath.Glob(filepath.Join(r.dir, "irr-*.snap"))
		b, _ := os.ReadFile(snap[0])
		b[20] ^= 0xff
		os.WriteFile(snap[0], b, 0o644)
		n, _, msgs, err := r.load(path)
		if err != nil || n != 301 || !has(msgs, "WARN ignoring a corrupt") || !has(msgs, "cache miss") {
			t.Fatalf("corrupt snapshot: %d, %v, %v", n, err, msgs)
		}
		if _, _, msgs, _ := r.load(path); !has(msgs, "cache hit") {
			t.Errorf("not rebuilt: %v", msgs)
		}
	})
	t.Run("corrupt snapshot block", func(t *testing.T) {
		snap, _ := filepath.Glob(filepath.Join(r.dir, "irr-*.snap"))
		b, _ := os.ReadFile(snap[0])
		// A byte of the data area (the checksum table is valid): the first query
		// meeting it fails, and the entry is removed for the next run.
		i := len(b) - len(irr.SnapshotMagic) - 5000
		b[i] ^= 0xff
		// Replace by rename, as the cache itself writes: the mapped file must not
		// change in place.
		os.WriteFile(snap[0]+".x", b, 0o644)
		os.Rename(snap[0]+".x", snap[0])
		ix, _, err := LoadFiles(context.Background(), []string{path}, irr.LoadOptions{}, SnapshotOptions{Dir: r.dir, MinSize: 1, Logger: slog.New(r.rec)})
		if err != nil {
			t.Fatal(err)
		}
		if err := ix.Verify(); !errors.Is(err, irr.ErrSnapshot) {
			t.Fatalf("Verify = %v", err)
		}
		ix.Close()
		if msgs := r.rec.take(); !has(msgs, "removed a corrupt") {
			t.Errorf("log: %v", msgs)
		}
		if _, err := os.Stat(snap[0]); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the corrupt snapshot is still there: %v", err)
		}
		if n, _, msgs, err := r.load(path); err != nil || n != 301 || !has(msgs, "cache miss") {
			t.Errorf("next run: %d, %v, %v", n, err, msgs)
		}
	})
	t.Run("corrupt record", func(t *testing.T) {
		recs, _ := filepath.Glob(filepath.Join(r.dir, "irr-*.json"))
		os.WriteFile(recs[0], []byte("{not json"), 0o644)
		if n, _, msgs, err := r.load(path); err != nil || n != 301 || !has(msgs, "WARN ignoring a corrupt IRR snapshot cache record") {
			t.Errorf("corrupt record: %d, %v, %v", n, err, msgs)
		}
	})
	t.Run("gone files are evicted", func(t *testing.T) {
		other := filepath.Join(dir, "other.db")
		registry(t, other, 10, "x")
		r.load(other)
		os.Remove(other)
		registry(t, path, 302, "first")
		r.load(path) // a write evicts
		if recs, _ := filepath.Glob(filepath.Join(r.dir, "irr-*.json")); len(recs) != 1 {
			t.Errorf("records after eviction: %v", recs)
		}
	})
}

// TestSnapshotCacheUnwritable: a cache directory that cannot be created or written is
// a warning; the run gets its answer from the files. (Root ignores permission bits, so
// the directory is made impossible by putting it under a regular file.)
func TestSnapshotCacheUnwritable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "reg.db")
	registry(t, path, 50, "x")
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o644)
	r := snapRun{t: t, dir: filepath.Join(blocker, "cache"), rec: &logRecorder{}}
	for i := 0; i < 2; i++ {
		if n, _, msgs, err := r.load(path); err != nil || n != 50 || !has(msgs, "WARN cannot write the IRR snapshot cache") {
			t.Fatalf("run %d: %d, %v, %v", i, n, err, msgs)
		}
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		r := snapRun{t: t, dir: ro, rec: &logRecorder{}}
		if n, _, msgs, err := r.load(path); err != nil || n != 50 || !has(msgs, "WARN cannot write") {
			t.Fatalf("read-only dir: %d, %v, %v", n, err, msgs)
		}
	}
}

// TestSnapshotCacheSmallFiles: files below MinSize are parsed every time, with no
// cache files.
func TestSnapshotCacheSmallFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "reg.db")
	registry(t, path, 5, "x")
	cache := filepath.Join(dir, "cache")
	ix, _, err := LoadFiles(context.Background(), []string{path}, irr.LoadOptions{}, SnapshotOptions{Dir: cache})
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
	if _, err := os.Stat(cache); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a small file made a cache: %v", err)
	}
}
