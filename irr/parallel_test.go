package irr

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// loadBoth loads paths with the serial scanner and in parallel (chunk bytes per chunk)
// and fails unless the indexes (compared as their snapshots, which encode every table
// and text in a deterministic layout), the reports and the errors are identical.
func loadBoth(t testing.TB, paths []string, opt LoadOptions, chunk int) *Index {
	t.Helper()
	ctx := context.Background()
	ser := opt
	ser.serial = true
	par := opt
	par.chunk = chunk
	a := NewIndex()
	repA, errA := a.LoadFiles(ctx, paths, ser)
	b := NewIndex()
	repB, errB := b.LoadFiles(ctx, paths, par)
	if fmt.Sprint(errA) != fmt.Sprint(errB) {
		t.Fatalf("errors differ: serial %v, parallel %v", errA, errB)
	}
	if diff := cmp.Diff(repA, repB); diff != "" {
		t.Fatalf("reports differ (-serial +parallel):\n%s", diff)
	}
	if errA != nil {
		return nil
	}
	if !bytes.Equal(snapshotOf(t, a), snapshotOf(t, b)) {
		t.Fatalf("indexes differ (chunk %d)", chunk)
	}
	return b
}

// TestParallelLoadMatchesSerial: the real RIPE dumps (gzip) and the edge fixture load to
// the same index, report and errors serially and in parallel, with the default chunk
// size and with small chunks (hundreds of cuts).
func TestParallelLoadMatchesSerial(t *testing.T) {
	sets := peer.SharedData(t, "irr/ripe.db.as-set.gz")
	dir := filepath.Dir(sets)
	ripe := []string{sets, filepath.Join(dir, "ripe-nonauth.db.route.gz"), filepath.Join(dir, "ripe-nonauth.db.route6.gz"), filepath.Join(dir, "ripe-nonauth.db.aut-num.gz")}
	if raceEnabled {
		// Four loads of 65 MB under the race detector take minutes: the smaller
		// dumps only (25k as-sets, 1.4k route6, 2.1k aut-nums with megabyte objects).
		ripe = []string{sets, filepath.Join(dir, "ripe-nonauth.db.route6.gz"), filepath.Join(dir, "ripe-nonauth.db.aut-num.gz")}
	}
	if ix := loadBoth(t, ripe, LoadOptions{}, 0); ix == nil {
		t.Fatal("RIPE dumps did not load")
	}
	if !raceEnabled {
		loadBoth(t, ripe, LoadOptions{Strict: true}, 0)
		loadBoth(t, ripe, LoadOptions{}, 64<<10)
	}
	for _, chunk := range []int{0, 1, 7, 100, 4096} {
		loadBoth(t, []string{"testdata/edge.db", multiDB}, LoadOptions{}, chunk)
		loadBoth(t, []string{"testdata/edge.db"}, LoadOptions{Strict: true}, chunk)
		loadBoth(t, []string{multiDB}, LoadOptions{Strict: true, DefaultSource: "X"}, chunk)
	}
}

// FuzzParallelLoad: on any input, a parallel load with small chunks equals the serial
// one (objects, texts, line numbers of errors, report).
func FuzzParallelLoad(f *testing.F) {
	for _, p := range []string{"testdata/edge.db", multiDB} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint16(50), false)
	}
	f.Add([]byte("route: 192.0.2.0/24\norigin: AS64496\n\n\n\r\n \nroute: 192.0.2.0/24\n+\norigin: AS1\n% c\n\n#x\n\n\x1f\x8b\n"), uint16(3), true)
	path := filepath.Join(f.TempDir(), "f.db") // one file per worker process, rewritten
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16, strict bool) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		loadBoth(t, []string{path}, LoadOptions{Strict: strict, DefaultSource: "FUZZ"}, int(chunk%512)+1)
	})
}
