package cli

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/synth"
)

// TestMain points the user cache directory (the default of --cache-dir for the
// snapshots of --irr files) at a temporary directory, so that tests never write to the
// real one; every test loading a dump of 1 MiB or more then goes through the cache.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bgpfilter-cli-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestIRRSnapshotCache: `--irr FILE` on a dump of a few MB writes a snapshot into the
// cache directory on the first run and answers from it on the next, with the same
// bytes; --no-snapshot-cache writes nothing; the default directory is the user cache
// directory's bgpfilter/.
func TestIRRSnapshotCache(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "synth.db")
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	if err := synth.Write(w, synth.Params{ASNs: 2000, Routes: 40000, V6Routes: 2000, SubSets: 20}); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if err := os.WriteFile(db, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		if code := Run(context.Background(), append([]string{"bgpfilter", "--verbose"}, args...), &out, &errb); code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return out.String(), errb.String()
	}
	cache := filepath.Join(dir, "cache")
	for i, q := range [][]string{{"bgpq4", "AS-BIG-1"}, {"bgpq4", "-6", "-A", "AS-BIG"}, {"bgpq4", "-f", "1", "AS-BIG-2"}} {
		want, _ := run(append([]string{"--no-snapshot-cache", "--cache-dir", cache, "--irr", db}, q...)...)
		if _, err := os.Stat(cache); err == nil && i == 0 {
			t.Fatal("--no-snapshot-cache wrote a cache")
		}
		first, log1 := run(append([]string{"--cache-dir", cache, "--irr", db}, q...)...)
		second, log2 := run(append([]string{"--cache-dir", cache, "--irr", db}, q...)...)
		if first != want || second != want || want == "" {
			t.Errorf("%v: outputs differ (parsed %d bytes, first %d, cached %d)", q, len(want), len(first), len(second))
		}
		if !strings.Contains(log2, "cache hit") || strings.Contains(log1, "cache hit") == (i == 0) {
			t.Errorf("%v: first run log %q, second %q", q, log1, log2)
		}
	}
	if snaps, _ := filepath.Glob(filepath.Join(cache, "irr-*.snap")); len(snaps) != 1 {
		t.Errorf("cache files: %v", snaps)
	}
	run("--irr", db, "bgpq4", "AS-BIG-1")
	if snaps, _ := filepath.Glob(filepath.Join(os.Getenv("XDG_CACHE_HOME"), "bgpfilter", "irr-*.snap")); len(snaps) != 1 {
		t.Errorf("default cache directory: %v", snaps)
	}
}
