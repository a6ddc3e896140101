package policy

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

func loadFixture(t testing.TB) *irr.Index {
	t.Helper()
	ix, _, err := irr.Load(context.Background(), []string{"testdata/policy.db"}, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// iosLines renders entries the way bgpq4's IOS output does, so the expectations below
// are bgpq4 1.9's own output for AS-SMALL (reference bgpq4.md B.1 and C.1), whose
// prefixes AS-EXAMPLE in testdata/policy.db reproduces.
func iosLines(f *PrefixFilter) string {
	var b strings.Builder
	for _, e := range f.Entries {
		b.WriteString(e.Prefix.String())
		if e.HasGE() {
			b.WriteString(" ge " + itoa(e.Min))
		}
		if e.HasLE() {
			b.WriteString(" le " + itoa(e.Max))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestBGPQ4Semantics(t *testing.T) {
	ix := loadFixture(t)
	r := &irr.Resolver{Q: ix}
	tests := []struct {
		name string
		opt  Options
		want string
	}{
		{"plain", Options{Family: 4}, "192.0.2.0/24\n192.0.2.0/25\n192.0.2.128/25\n198.18.0.0/16\n198.18.5.0/24\n198.19.0.0/16\n"},
		{"-A", Options{Family: 4, Aggregate: true}, "192.0.2.0/24 le 25\n198.18.0.0/15 ge 16 le 16\n198.18.5.0/24\n"},
		{"-R 24", Options{Family: 4, MoreSpecifics: 24}, "192.0.2.0/24\n192.0.2.0/25\n192.0.2.128/25\n198.18.0.0/16 le 24\n198.19.0.0/16 le 24\n"},
		{"-R 26", Options{Family: 4, MoreSpecifics: 26}, "192.0.2.0/24 le 26\n198.18.0.0/16 le 26\n198.19.0.0/16 le 26\n"},
		{"-A -R 24", Options{Family: 4, Aggregate: true, MoreSpecifics: 24}, "192.0.2.0/24 le 25\n198.18.0.0/15 ge 16 le 24\n"},
		{"-r 20", Options{Family: 4, MinLength: 20}, "192.0.2.0/24 le 32\n198.18.0.0/16 ge 20 le 32\n198.19.0.0/16 ge 20 le 32\n"},
		{"-r 17 -R 24", Options{Family: 4, MinLength: 17, MoreSpecifics: 24}, "192.0.2.0/24\n192.0.2.0/25\n192.0.2.128/25\n198.18.0.0/16 ge 17 le 24\n198.19.0.0/16 ge 17 le 24\n"},
		{"-A -r 17 -R 24", Options{Family: 4, Aggregate: true, MinLength: 17, MoreSpecifics: 24}, "192.0.2.0/24 le 25\n198.18.0.0/15 ge 17 le 24\n"},
		{"-m 24", Options{Family: 4, MaxLength: 24}, "192.0.2.0/24\n198.18.0.0/16\n198.18.5.0/24\n198.19.0.0/16\n"},
		{"-m 16 -R 24", Options{Family: 4, MaxLength: 16, MoreSpecifics: 24}, "198.18.0.0/16 le 24\n198.19.0.0/16 le 24\n"},
		{"-6", Options{Family: 6}, "2001:db8:1000::/48\n2001:db8:1001::/48\n2001:db8:2000::/40\n"},
		{"-6 -A", Options{Family: 6, Aggregate: true}, "2001:db8:1000::/47 ge 48 le 48\n2001:db8:2000::/40\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := BuildPrefixFilter(context.Background(), ix, r, []string{"AS-EXAMPLE"}, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, iosLines(f)); d != "" {
				t.Errorf("(-bgpq4 +ours):\n%s", d)
			}
		})
	}
}

func TestProvenance(t *testing.T) {
	ix := loadFixture(t)
	f, err := BuildPrefixFilter(context.Background(), ix, &irr.Resolver{Q: ix}, []string{"AS-EXAMPLE"}, Options{Family: 4, Aggregate: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Min: 24, Max: 25}, Origins: []routing.ASN{64496, 64497}, Sources: []string{"TEST"},
			Paths: [][]string{{"AS-EXAMPLE", "AS64496"}, {"AS-EXAMPLE", "AS64497"}}},
		{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("198.18.0.0/15"), Min: 16, Max: 16}, Origins: []routing.ASN{64497, 64498}, Sources: []string{"TEST"},
			Paths: [][]string{{"AS-EXAMPLE", "AS-CUST", "AS64498"}, {"AS-EXAMPLE", "AS64497"}}},
		{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("198.18.5.0/24"), Min: 24, Max: 24}, Origins: []routing.ASN{64497, 64498}, Sources: []string{"OTHER", "TEST"},
			Paths: [][]string{{"AS-EXAMPLE", "AS-CUST", "AS64498"}, {"AS-EXAMPLE", "AS64497"}}},
	}
	if d := cmp.Diff(want, f.Entries, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
	wantWarn := []string{"loop ignored: AS-EXAMPLE > AS-CUST > AS-EXAMPLE", "member set AS-GONE not found (via AS-EXAMPLE)"}
	if d := cmp.Diff(wantWarn, f.Warnings); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
	var buf bytes.Buffer
	if err := f.Explain(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"198.18.0.0/15 ge 16 le 16\n  origins: AS64497 AS64498\n  sources: TEST\n  via: AS-EXAMPLE > AS-CUST > AS64498\n",
		"# warning: member set AS-GONE not found"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("explain lacks %q:\n%s", s, buf.String())
		}
	}
}

func TestNativeSemantics(t *testing.T) {
	ix := loadFixture(t)
	r := &irr.Resolver{Q: ix}
	ctx := context.Background()
	tests := []struct {
		name    string
		objects []string
		opt     Options
		want    string // iosLines, when no error
		wantErr error
	}{
		// bgpq4 exits 0 with an empty list here (bgp/bgpq4#1).
		{"unknown root", []string{"AS-NOPE"}, Options{Family: 4}, "", ErrUnknownObject},
		{"unknown root in a list", []string{"AS64496", "AS-NOPE"}, Options{Family: 4}, "", irr.ErrNotFound},
		{"missing member fails on request", []string{"AS-EXAMPLE"}, Options{Family: 4, FailOnMissing: true}, "", ErrMissingMember},
		// bgpq4 expands ^n to nothing (bgp/bgpq4#135).
		{"^n range", []string{"RS-EXAMPLE"}, Options{Family: 4, MaxLength: 25}, "198.51.100.0/24 ge 25 le 25\n203.0.113.0/24 le 25\n", nil},
		// Ranges are aggregated even without -A (bgpq4 prints 511 lines for a /24^+).
		{"^+ range folded", []string{"RS-EXAMPLE"}, Options{Family: 4}, "198.51.100.0/24 ge 25 le 25\n203.0.113.0/24 le 32\n", nil},
		{"^n-m v6 aggregated", []string{"RS-EXAMPLE"}, Options{Family: 6, Aggregate: true}, "2001:db8:4000::/36 ge 40 le 44\n", nil},
		{"empty set", []string{"AS-EMPTY"}, Options{Family: 4}, "", nil},
		{"ASN and prefix objects", []string{"AS64498", "203.0.113.0/24"}, Options{Family: 4}, "198.18.5.0/24\n198.19.0.0/16\n203.0.113.0/24\n", nil},
		{"bad family", []string{"AS-EXAMPLE"}, Options{Family: 5}, "", ErrInvalidOption},
		{"-r above -R", []string{"AS-EXAMPLE"}, Options{Family: 4, MinLength: 25, MoreSpecifics: 24}, "", ErrInvalidOption},
		{"-R out of range", []string{"AS-EXAMPLE"}, Options{Family: 4, MoreSpecifics: 33}, "", ErrInvalidOption},
		{"no objects", nil, Options{Family: 4}, "", ErrInvalidOption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := BuildPrefixFilter(ctx, ix, r, tc.objects, tc.opt)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, iosLines(f)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

type fakeValidator map[string]routing.ROVState

func (v fakeValidator) Validate(p netip.Prefix, origin routing.ASN) (routing.ROVState, []string) {
	if s, ok := v[p.String()+" "+origin.String()]; ok {
		return s, []string{"test ROA"}
	}
	return routing.NotFound, nil
}

func TestRPKIHooks(t *testing.T) {
	ix := loadFixture(t)
	v := fakeValidator{"192.0.2.0/25 AS64496": routing.Invalid, "198.19.0.0/16 AS64498": routing.Valid}
	f, err := BuildPrefixFilter(context.Background(), ix, &irr.Resolver{Q: ix}, []string{"AS-EXAMPLE"}, Options{
		Family: 4, Validator: v, DropInvalid: true,
		ROAAdd: func(origin routing.ASN, v6 bool) []netip.Prefix {
			if origin == 64496 && !v6 {
				return []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "192.0.2.0/24\n192.0.2.128/25\n198.18.0.0/16\n198.18.5.0/24\n198.19.0.0/16\n203.0.113.0/24\n"
	if d := cmp.Diff(want, iosLines(f)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	byPrefix := map[string]Entry{}
	for _, e := range f.Entries {
		byPrefix[e.Prefix.String()] = e
	}
	if e := byPrefix["198.19.0.0/16"]; e.ROVSummary() != "valid" || len(e.ROVReasons) != 1 {
		t.Errorf("198.19.0.0/16: %+v", e)
	}
	if e := byPrefix["203.0.113.0/24"]; !cmp.Equal(e.Sources, []string{"RPKI"}) {
		t.Errorf("ROA addition: %+v", e)
	}
	if !strings.Contains(strings.Join(f.Warnings, "\n"), "dropped RPKI-invalid 192.0.2.0/25 origin AS64496") {
		t.Errorf("warnings: %q", f.Warnings)
	}
}

func TestASPathFilter(t *testing.T) {
	ix := loadFixture(t)
	r := &irr.Resolver{Q: ix}
	f, err := BuildASPathFilter(context.Background(), r, []string{"AS-EXAMPLE"}, ASPathOptions{Name: "X", PeerAS: 64497})
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(f.Origins, []routing.ASN{64496, 64497, 64498}) || !f.PeerIsMember || !cmp.Equal(f.OthersThanPeer(), []routing.ASN{64496, 64498}) {
		t.Errorf("%+v", f)
	}
	if _, err := BuildASPathFilter(context.Background(), r, []string{"AS-NOPE"}, ASPathOptions{}); !errors.Is(err, ErrUnknownObject) {
		t.Errorf("unknown: %v", err)
	}
	f, err = BuildASPathFilter(context.Background(), r, []string{"AS-EMPTY"}, ASPathOptions{PeerAS: 64496})
	if err != nil || !f.Empty() {
		t.Errorf("empty: %+v %v", f, err)
	}
}

// badRoutes answers Routes with a prefix of the wrong family.
type badRoutes struct{ *irr.Index }

func (b badRoutes) Routes(ctx context.Context, sources []string, asns []routing.ASN, v6 bool) ([][]netip.Prefix, error) {
	out := make([][]netip.Prefix, len(asns))
	for i := range out {
		out[i] = []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}
	}
	return out, nil
}

func TestInconsistentAnswerFails(t *testing.T) {
	ix := loadFixture(t)
	q := badRoutes{ix}
	_, err := BuildPrefixFilter(context.Background(), q, &irr.Resolver{Q: q}, []string{"AS-EXAMPLE"}, Options{Family: 4})
	if !errors.Is(err, irr.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}
