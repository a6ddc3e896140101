package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

// twoSources: AS-X in source A holds AS64496 (192.0.2.0/24) and in source B AS64497
// (198.51.100.0/24), so every answer says which source list it was asked with.
const twoSources = `as-set: AS-X
members: AS64496
source: A

route: 192.0.2.0/24
origin: AS64496
source: A

as-set: AS-X
members: AS64497
source: B

route: 198.51.100.0/24
origin: AS64497
source: B
`

// TestDefaultSourcesOptionalPaths: the --sources wrapper of remote IRR data passes the
// keys path (irr.KeyQuerier) and the ASN path (irr.ASNQuerier) through, with the
// job's source list when a query names none and the query's own list otherwise.
func TestDefaultSourcesOptionalPaths(t *testing.T) {
	p := filepath.Join(t.TempDir(), "two.db")
	if err := os.WriteFile(p, []byte(twoSources), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, _, err := irr.Load(context.Background(), []string{p}, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d := &defaultSources{Querier: ix, sources: []string{"B"}}
	var q irr.Querier = d
	if _, ok := q.(irr.KeyQuerier); !ok {
		t.Fatal("defaultSources hides irr.KeyQuerier")
	}
	for _, c := range []struct {
		srcs []string
		want string
		asn  uint32
	}{{nil, "198.51.100.0/24", 64497}, {[]string{"A"}, "192.0.2.0/24", 64496}} {
		keys, found, err := irr.SetPrefixKeys(ctx, q, c.srcs, "AS-X", false)
		if ps := keys.Prefixes(); err != nil || !found || len(ps) != 1 || ps[0].String() != c.want {
			t.Errorf("SetPrefixKeys(%v) = %v %v %v, want %s", c.srcs, ps, found, err, c.want)
		}
		asns, ok, err := irr.SetASNs(ctx, q, c.srcs, "AS-X")
		if err != nil || !ok || !slices.Equal(asns, []routing.ASN{routing.ASN(c.asn)}) {
			t.Errorf("SetASNs(%v) = %v %v %v, want AS%d", c.srcs, asns, ok, err, c.asn)
		}
	}
}
