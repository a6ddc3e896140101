package irr

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/synth"
	"github.com/bgpfilter/bgpfilter/routing"
)

// synthIndex loads a synthetic registry of the given size.
func synthIndex(t testing.TB, p synth.Params) *Index {
	t.Helper()
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	if err := synth.Write(w, p); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	path := filepath.Join(t.TempDir(), "synth.db")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, _, err := Load(context.Background(), []string{path}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestSnapshotSmallQueryTouchesLittle: one sub-set of a 100k-route snapshot is
// answered from a small part of it (a lazy open decodes what the query reads only),
// and the answers equal those of the index it was made from.
func TestSnapshotSmallQueryTouchesLittle(t *testing.T) {
	p := synth.Params{ASNs: 5000, Routes: 100000, V6Routes: 5000, SubSets: 50}
	src := synthIndex(t, p)
	data := snapshotOf(t, src)
	ix, err := ReadSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sub := synth.SubSetName(0)
	got, found, err := ix.SetPrefixes(ctx, nil, sub, false)
	if err != nil || !found {
		t.Fatal(found, err)
	}
	want, _, _ := src.SetPrefixes(ctx, nil, sub, false)
	if len(got) != 2000 || !slicesEqual(got, want) {
		t.Fatalf("SetPrefixes(%s) = %d prefixes, want %d equal to the RPSL index's", sub, len(got), len(want))
	}
	total := len(ix.snap.crcs)
	if n := ix.snap.touched(); n*10 > total {
		t.Errorf("a 2000-prefix query verified %d of %d blocks", n, total)
	}
	m, _, err := ix.Members(ctx, nil, synth.Root, true)
	wm, _, _ := src.Members(ctx, nil, synth.Root, true)
	if err != nil || len(m) != 5000 || strings.Join(m, " ") != strings.Join(wm, " ") {
		t.Errorf("Members(%s,1) = %d members, %v", synth.Root, len(m), err)
	}
	asns := []routing.ASN{routing.ASN(p.ASN(0)), routing.ASN(p.ASN(4999)), 64496}
	for _, v6 := range []bool{false, true} {
		r, err := ix.Routes(ctx, nil, asns, v6)
		wr, _ := src.Routes(ctx, nil, asns, v6)
		if err != nil || len(r) != 3 || len(r[2]) != 0 {
			t.Fatalf("Routes = %v, %v", r, err)
		}
		for i := range r {
			if !slicesEqual(r[i], wr[i]) {
				t.Errorf("Routes(%s, v6 %v) = %v, want %v", asns[i], v6, r[i], wr[i])
			}
		}
	}
	if ix.texts.chunks != nil {
		t.Error("a prefix query read the object texts")
	}
	if ix.Verify() != nil || ix.snap.touched() != total {
		t.Errorf("Verify: %v, %d of %d blocks", ix.Verify(), ix.snap.touched(), total)
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSnapshotCorruptBlock: a flipped byte in a block a query reads is an error
// wrapping ErrSnapshot from that query (naming the block), never wrong data; a query
// that does not touch the block still answers; Verify finds it.
func TestSnapshotCorruptBlock(t *testing.T) {
	src := synthIndex(t, synth.Params{ASNs: 500, Routes: 20000, V6Routes: 100, SubSets: 5})
	data := snapshotOf(t, src)
	clean, err := ReadSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	// The IPv4 routes of the first origins sit at the start of their section, 160 KB
	// before the IPv6 tables.
	lz := clean.srcs["SYNTH"].lz
	routes := lz.sec[secRoutes4]
	start := len(data) - len(SnapshotMagic) - len(clean.snap.data) // the data area's offset
	b := bytes.Clone(data)
	b[start+routes.off+3] ^= 0x40
	ix, err := ReadSnapshot(b)
	if err != nil {
		t.Fatalf("open verifies the header only, got %v", err)
	}
	ctx := context.Background()
	if _, _, err := ix.SetPrefixes(ctx, nil, synth.Root, false); !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("SetPrefixes over the corrupt block: %v, want a checksum error", err)
	}
	ix, _ = ReadSnapshot(b)
	if r, err := ix.Routes(ctx, nil, []routing.ASN{routing.ASN(synth.Params{}.ASN(0))}, true); err != nil || len(r[0]) == 0 {
		t.Errorf("an IPv6 query away from the block: %v, %v", r, err)
	}
	if err := ix.Verify(); !errors.Is(err, ErrSnapshot) {
		t.Errorf("Verify = %v, want ErrSnapshot", err)
	}

	// The header and the checksum table are checked at open.
	for _, off := range []int{len(SnapshotMagic) + 9, start - 2} {
		b := bytes.Clone(data)
		b[off] ^= 1
		if _, err := ReadSnapshot(b); !errors.Is(err, ErrSnapshot) {
			t.Errorf("byte %d flipped: %v, want ErrSnapshot at open", off, err)
		}
	}
	// An older format is named as such.
	old := bytes.Clone(data)
	old[len(SnapshotMagic)-1] = 3
	if _, err := ReadSnapshot(old); !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), "version 3") {
		t.Errorf("version 3 snapshot: %v", err)
	}
}
