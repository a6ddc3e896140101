package rpki_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/rpki"
)

func TestParsePolicy(t *testing.T) {
	for in, want := range map[string]rpki.Policy{"": rpki.PolicyDropInvalid, "drop-invalid": rpki.PolicyDropInvalid,
		"IGNORE": rpki.PolicyIgnore, "roa-add": rpki.PolicyROAAdd, "roa-only-add": rpki.PolicyROAAdd} {
		got, err := rpki.ParsePolicy(in)
		if err != nil || got != want {
			t.Errorf("ParsePolicy(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := rpki.ParsePolicy("drop"); err == nil {
		t.Error("ParsePolicy(drop) succeeded")
	}
}

// IRR ∩ RPKI through policy.BuildPrefixFilter with the Table's hooks, on policy's IRR
// fixture (AS-EXAMPLE: AS64496, AS64497, AS-CUST > AS64498) and rpki/testdata VRPs.
func TestPolicyHooks(t *testing.T) {
	ctx := context.Background()
	ix, _, err := irr.Load(ctx, []string{"../policy/testdata/policy.db"}, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tb, err := rpki.LoadFile(ctx, "testdata/policy-vrps.json", rpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	build := func(p rpki.Policy) *policy.PrefixFilter {
		t.Helper()
		h := tb.Hooks(p)
		f, err := policy.BuildPrefixFilter(ctx, ix, &irr.Resolver{Q: ix}, []string{"AS-EXAMPLE"}, policy.Options{
			Family: 4, Validator: h.Validator, DropInvalid: h.DropInvalid, ROAAdd: h.ROAAdd,
		})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	lines := func(f *policy.PrefixFilter) []string {
		var out []string
		for _, e := range f.Entries {
			out = append(out, e.Prefix.String()+" "+e.ROVSummary())
		}
		return out
	}
	cases := []struct {
		policy rpki.Policy
		want   []string
	}{
		// IRR only: 6 distinct route prefixes, no ROV annotation.
		{rpki.PolicyIgnore, []string{"192.0.2.0/24 ", "192.0.2.0/25 ", "192.0.2.128/25 ", "198.18.0.0/16 ", "198.18.5.0/24 ", "198.19.0.0/16 "}},
		// 192.0.2.0/25 AS64496 (maxLength 24) and 198.18.5.0/24 AS64498/AS64497 (the
		// /15's maxLength 16, other origin) are invalid and dropped.
		{rpki.PolicyDropInvalid, []string{"192.0.2.0/24 valid", "192.0.2.128/25 valid", "198.18.0.0/16 valid", "198.19.0.0/16 valid"}},
		// roa-add: plus the ROA prefixes of the expanded origins without route
		// objects (198.18.0.0/15 of AS64497, 203.0.113.0/24 of AS64498); AS64499's
		// ROA is not added (not in the set).
		{rpki.PolicyROAAdd, []string{"192.0.2.0/24 valid", "192.0.2.128/25 valid", "198.18.0.0/15 valid", "198.18.0.0/16 valid", "198.19.0.0/16 valid", "203.0.113.0/24 valid"}},
	}
	for _, c := range cases {
		f := build(c.policy)
		if got := lines(f); !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.policy, got, c.want)
		}
		if c.policy == rpki.PolicyROAAdd {
			for _, e := range f.Entries {
				if e.Prefix.String() == "203.0.113.0/24" {
					if !slices.Equal(e.Sources, []string{"RPKI"}) || !slices.Equal(e.ROVReasons, []string{"ROA 203.0.113.0/24-24 AS64498 (apnic)"}) {
						t.Errorf("ROA-added entry provenance: %+v", e)
					}
				}
			}
		}
		if c.policy == rpki.PolicyDropInvalid && !strings.Contains(strings.Join(f.Warnings, "\n"), "dropped RPKI-invalid 192.0.2.0/25 origin AS64496") {
			t.Errorf("warnings %q", f.Warnings)
		}
	}
	var nilTable *rpki.Table
	if h := nilTable.Hooks(rpki.PolicyDropInvalid); h.Validator != nil || h.ROAAdd != nil {
		t.Error("nil table gives hooks")
	}
}

// BenchmarkIRRxRPKILargestRIPE builds the IPv4 prefix filter of the largest RIPE
// as-set (AS3326:AS-PEERS-UAE, ~51k ASNs by transitive closure of the shared dump)
// against the RIPE-NONAUTH routes, with each RPKI policy on the real 723k-VRP set.
func BenchmarkIRRxRPKILargestRIPE(b *testing.B) {
	ctx := context.Background()
	sets := peer.SharedData(b, "irr/ripe.db.as-set.gz")
	dir := filepath.Dir(sets)
	ix, _, err := irr.Load(ctx, []string{sets, filepath.Join(dir, "ripe-nonauth.db.route.gz"), filepath.Join(dir, "ripe-nonauth.db.route6.gz")}, irr.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	tb, err := rpki.LoadFile(ctx, peer.SharedData(b, "rpki/rpki-client_20250720T093135Z.json.gz"), rpki.Options{IgnoreExpiry: true})
	if err != nil {
		b.Fatal(err)
	}
	tb.ByASN(0) // build the per-ASN index outside the timed loop
	for _, p := range []rpki.Policy{rpki.PolicyIgnore, rpki.PolicyDropInvalid, rpki.PolicyROAAdd} {
		b.Run(p.String(), func(b *testing.B) {
			h := tb.Hooks(p)
			var f *policy.PrefixFilter
			for b.Loop() {
				f, err = policy.BuildPrefixFilter(ctx, ix, &irr.Resolver{Q: ix}, []string{"AS3326:AS-PEERS-UAE"}, policy.Options{
					Family: 4, Validator: h.Validator, DropInvalid: h.DropInvalid, ROAAdd: h.ROAAdd,
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			dropped := 0
			for _, w := range f.Warnings {
				if strings.HasPrefix(w, "dropped RPKI-invalid") {
					dropped++
				}
			}
			b.ReportMetric(float64(len(f.Entries)), "entries")
			b.ReportMetric(float64(dropped), "dropped-invalid")
		})
	}
}
