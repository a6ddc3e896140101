package synth

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

func TestWriteDeterministicAndLoadable(t *testing.T) {
	p := Params{ASNs: 100, Routes: 1000, V6Routes: 50, SubSets: 7}
	var a, b bytes.Buffer
	if err := Write(&a, p); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, p); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two runs with the same Params differ")
	}
	path := filepath.Join(t.TempDir(), "synth.db")
	if err := os.WriteFile(path, a.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ix, rep, err := irr.Load(ctx, []string{path}, irr.LoadOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Objects["as-set"] != 8 || rep.Objects["route"] != 1000 || rep.Objects["route6"] != 50 {
		t.Fatalf("objects = %v", rep.Objects)
	}
	e, err := (&irr.Resolver{Q: ix}).Expand(ctx, Root)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.ASNs) != 100 || e.ASNs[0] != 131072 || e.ASNs[99] != 131171 {
		t.Fatalf("AS-BIG expands to %d ASNs (%v..)", len(e.ASNs), e.ASNs[:1])
	}
	// Round-robin: ASN i is in sub-set i mod SubSets and owns routes i, i+100, ...
	if got := e.Paths[131072+9]; len(got) != 2 || got[1] != SubSetName(2) {
		t.Errorf("path of the 10th ASN = %v", got)
	}
	r, _ := ix.Routes(ctx, nil, []routing.ASN{131072 + 5}, false)
	if len(r[0]) != 10 || r[0][0] != Route4(5) {
		t.Errorf("routes of the 6th ASN = %v", r[0])
	}
	if Route4(0) != netip.MustParsePrefix("1.0.0.0/24") || Route4(256) != netip.MustParsePrefix("1.1.0.0/24") ||
		Route6(1) != netip.MustParsePrefix("2a00:0:1::/48") {
		t.Errorf("route numbering: %v %v %v", Route4(0), Route4(256), Route6(1))
	}
}

func TestWriteRejectsBadParams(t *testing.T) {
	for _, p := range []Params{{ASNs: 0}, {ASNs: 1, Routes: -1}, {ASNs: 10, FirstASN: 4199999995}} {
		if err := Write(&bytes.Buffer{}, p); err == nil {
			t.Errorf("Write(%+v) succeeded", p)
		}
	}
}
