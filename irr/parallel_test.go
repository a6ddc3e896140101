package irr

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
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
	// gzip streams, whole, cut short and with a flipped byte: the parallel load
	// inflates with klauspost/compress, the serial one with compress/gzip, and both
	// must fail alike.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	edge, err := os.ReadFile("testdata/edge.db")
	if err != nil {
		f.Fatal(err)
	}
	zw.Write(edge)
	zw.Close()
	whole := gz.Bytes()
	flipped := bytes.Clone(whole)
	flipped[len(flipped)/2] ^= 0x40
	for _, b := range [][]byte{whole, whole[:len(whole)/2], whole[:len(whole)-4], flipped} {
		f.Add(b, uint16(100), false)
	}
	path := filepath.Join(f.TempDir(), "f.db") // one file per worker process, rewritten
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16, strict bool) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		loadBoth(t, []string{path}, LoadOptions{Strict: strict, DefaultSource: "FUZZ"}, int(chunk%512)+1)
	})
}

// TestTruncatedGzipFails: a gzip dump cut short (a download that broke off) is an
// error in both loads, after the objects before the cut: the parallel load took the
// inflater's io.ErrUnexpectedEOF for the end of the input and loaded such a dump
// without a word.
func TestTruncatedGzipFails(t *testing.T) {
	sets := peer.SharedData(t, "irr/ripe.db.as-set.gz")
	whole, err := os.ReadFile(sets)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cut.db.gz")
	if err := os.WriteFile(path, whole[:len(whole)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, serial := range []bool{false, true} {
		_, rep, err := Load(context.Background(), []string{path}, LoadOptions{serial: serial})
		if !errors.Is(err, io.ErrUnexpectedEOF) || rep.Objects["as-set"] < 1000 {
			t.Errorf("serial %v: %d as-sets, error %v; want the objects before the cut and io.ErrUnexpectedEOF", serial, rep.Objects["as-set"], err)
		}
	}
	loadBoth(t, []string{path}, LoadOptions{}, 0)
	loadBoth(t, []string{path}, LoadOptions{}, 64<<10)
}
