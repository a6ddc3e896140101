package irr

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/google/go-cmp/cmp"
)

const multiDB = "testdata/multiorigin.db"

func pfx(ss ...string) []netip.Prefix {
	out := []netip.Prefix{}
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// checkMulti checks the answers of testdata/multiorigin.db (derived by hand, listed in
// the file's header) for every query a filter is built from.
func checkMulti(t *testing.T, what string, q Querier) {
	t.Helper()
	ctx := context.Background()
	asns := []routing.ASN{64496, 64497, 64498}
	want4 := [][]netip.Prefix{pfx("192.0.2.0/24"), pfx("192.0.2.0/24", "198.51.100.0/24"), pfx("203.0.113.0/24")}
	want6 := [][]netip.Prefix{pfx(), pfx("2001:db8::/32"), pfx("2001:db8::/32")}
	for i, v6 := range []bool{false, true} {
		got, err := q.Routes(ctx, nil, asns, v6)
		if err != nil {
			t.Fatalf("%s: Routes: %v", what, err)
		}
		if diff := cmp.Diff([][][]netip.Prefix{want4, want6}[i], got, answerOpts); diff != "" {
			t.Errorf("%s: Routes v6=%v (-want +got):\n%s", what, v6, diff)
		}
	}
	for v6, want := range map[bool][]netip.Prefix{false: pfx("192.0.2.0/24", "203.0.113.0/24"), true: pfx("2001:db8::/32")} {
		got, found, err := q.SetPrefixes(ctx, nil, "AS-MULTI", v6)
		if err != nil || !found {
			t.Fatalf("%s: SetPrefixes: %v %v", what, found, err)
		}
		if diff := cmp.Diff(want, got, answerOpts); diff != "" {
			t.Errorf("%s: !a AS-MULTI v6=%v (-want +got):\n%s", what, v6, diff)
		}
	}
	m, _, err := q.Members(ctx, nil, "RS-MULTI", true)
	if want := []string{"192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"}; err != nil || !cmp.Equal(m, want) {
		t.Errorf("%s: !iRS-MULTI,1 = %v, %v; want %v", what, m, err, want)
	}
	// The native resolver, through non-recursive queries.
	r := &Resolver{Q: q}
	e, err := r.Expand(ctx, "AS-MULTI")
	if err != nil {
		t.Fatal(err)
	}
	all, err := e.AllPrefixes(ctx, q, nil, false)
	if err != nil || len(all) != 2 || all[0].Prefix.String() != "192.0.2.0/24" || all[1].Prefix.String() != "203.0.113.0/24" {
		t.Errorf("%s: Resolver AS-MULTI = %v, %v", what, all, err)
	}
	e, _ = r.Expand(ctx, "RS-MULTI")
	all, err = e.AllPrefixes(ctx, q, nil, true)
	if err != nil || len(all) != 1 || all[0].Prefix.String() != "2001:db8::/32" {
		t.Errorf("%s: Resolver RS-MULTI v6 = %v, %v", what, all, err)
	}
}

func TestMultiOriginRoutes(t *testing.T) {
	ctx := context.Background()
	ix, rep, err := Load(ctx, []string{multiDB}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 203.0.113.0/24 repeats one origin: that is one origin, not a multi-origin object.
	if rep.MultiOrigin != 2 || rep.Skipped != 0 || rep.FirstMultiOrigin == nil || rep.FirstMultiOrigin.Line != 20 {
		t.Errorf("report: %d multi-origin (first %v), %d skipped", rep.MultiOrigin, rep.FirstMultiOrigin, rep.Skipped)
	}
	checkMulti(t, "RPSL", ix)

	// Strict refuses the first one, naming it.
	_, _, err = Load(ctx, []string{multiDB}, LoadOptions{Strict: true})
	var oe *ObjectError
	if !errors.As(err, &oe) || oe.Line != 20 || !strings.Contains(err.Error(), "2 origin attributes") {
		t.Errorf("strict: %v", err)
	}

	// A plain lookup and !r list the object once; FindRoutes has one route per origin.
	if objs := ix.Lookup(nil, "192.0.2.0/24"); len(objs) != 1 || len(objs[0].GetAll("origin")) != 2 {
		t.Errorf("Lookup = %v", objs)
	}
	if rs := ix.FindRoutes(nil, netip.MustParsePrefix("192.0.2.0/24"), Exact); len(rs) != 2 || rs[0].Origin != 64496 || rs[1].Origin != 64497 {
		t.Errorf("FindRoutes = %v", rs)
	}
	if got := ix.RouteSources(netip.MustParsePrefix("192.0.2.0/24"), 64497); !cmp.Equal(got, []string{"DN42"}) {
		t.Errorf("RouteSources = %v", got)
	}

	// A snapshot keeps every origin.
	snap, err := ReadSnapshot(snapshotOf(t, ix))
	if err != nil {
		t.Fatal(err)
	}
	checkMulti(t, "snapshot", snap)
	path := filepath.Join(t.TempDir(), "m.snap")
	os.WriteFile(path, snapshotOf(t, ix), 0o644)
	mapped, _, err := Load(ctx, []string{path}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkMulti(t, "mapped snapshot", mapped)

	// Changes (the NRTM mirror's Apply): deleting the object removes every origin;
	// replacing it with a one-origin version removes the other.
	for _, base := range []*Index{ix, mapped} {
		del := parseObjects(t, "route: 192.0.2.0/24\norigin: AS64497\norigin: AS64496\nsource: DN42\n")
		if err := base.Apply(nil, del); err != nil {
			t.Fatal(err)
		}
		r, _ := base.Routes(ctx, nil, []routing.ASN{64496, 64497}, false)
		if len(r[0]) != 0 || len(r[1]) != 1 {
			t.Errorf("after delete: %v", r)
		}
		add := parseObjects(t, "route: 192.0.2.0/24\norigin: AS64496\norigin: AS64497\nsource: DN42\n")
		if err := base.Apply(add, nil); err != nil {
			t.Fatal(err)
		}
		checkMulti(t, "re-added", base)
		one := parseObjects(t, "route: 192.0.2.0/24\norigin: AS64497\nsource: DN42\n")
		if err := base.Apply(one, nil); err != nil {
			t.Fatal(err)
		}
		r, _ = base.Routes(ctx, nil, []routing.ASN{64496, 64497}, false)
		if len(r[0]) != 0 || len(r[1]) != 2 {
			t.Errorf("after replacing with one origin: %v", r)
		}
		if objs := base.Lookup(nil, "192.0.2.0/24"); len(objs) != 1 || len(objs[0].GetAll("origin")) != 1 {
			t.Errorf("Lookup after the replacement = %v", objs)
		}
	}
}
