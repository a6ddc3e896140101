package rpki

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/routing"
)

// fixtureNow is before the fixture's expiry 1900000000 and after 1700000000.
var fixtureNow = time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC)

func loadFixture(t *testing.T, opt Options) *Table {
	t.Helper()
	if opt.Now.IsZero() {
		opt.Now = fixtureNow
	}
	tb, err := LoadFile(context.Background(), "testdata/fixture.rpki-client.json", opt)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// RFC 6811 §2 edge cases on the fixture.
func TestROVEdgeCases(t *testing.T) {
	tb := loadFixture(t, Options{})
	cases := []struct {
		name    string
		prefix  string
		origin  routing.ASN
		want    routing.ROVState
		reasons []string
	}{
		{"exact match", "192.0.2.0/24", 64496, routing.Valid, []string{"192.0.2.0/24-24 AS64496 (ripe)"}},
		{"second VRP on the same prefix", "192.0.2.0/24", 64497, routing.Valid, []string{"192.0.2.0/24-26 AS64497 (arin)"}},
		{"within the maxLength of one VRP only", "192.0.2.64/26", 64497, routing.Valid, []string{"192.0.2.0/24-26 AS64497 (arin)"}},
		{"longer than maxLength", "192.0.2.0/25", 64496, routing.Invalid, []string{"192.0.2.0/24-24 AS64496 (ripe)", "192.0.2.0/24-26 AS64497 (arin)"}},
		{"longer than every maxLength", "192.0.2.0/27", 64497, routing.Invalid, []string{"192.0.2.0/24-24 AS64496 (ripe)", "192.0.2.0/24-26 AS64497 (arin)"}},
		{"covered, other origin", "192.0.2.0/24", 64499, routing.Invalid, []string{"192.0.2.0/24-24 AS64496 (ripe)", "192.0.2.0/24-26 AS64497 (arin)"}},
		{"maxLength boundary /23 valid", "198.51.102.0/23", 64496, routing.Valid, []string{"198.51.100.0/22-23 AS64496 (ripe)"}},
		{"maxLength boundary /24 invalid", "198.51.100.0/24", 64496, routing.Invalid, []string{"198.51.100.0/22-23 AS64496 (ripe)"}},
		{"less specific than any VRP is not found", "198.51.96.0/20", 64496, routing.NotFound, nil},
		{"AS0 VRP makes everything invalid", "203.0.113.0/24", 64498, routing.Invalid, []string{"203.0.113.0/24-32 AS0 (apnic)"}},
		{"AS0 origin never matches the AS0 VRP", "203.0.113.0/24", 0, routing.Invalid, []string{"203.0.113.0/24-32 AS0 (apnic)"}},
		{"AS0 VRP plus a matching VRP is valid", "203.0.113.128/25", 64498, routing.Valid, []string{"203.0.113.128/25-25 AS64498 (apnic)"}},
		{"multiple covering, none matching", "203.0.113.128/25", 64499, routing.Invalid, []string{"203.0.113.0/24-32 AS0 (apnic)", "203.0.113.128/25-25 AS64498 (apnic)"}},
		{"host bits are masked", "192.0.2.1/24", 64496, routing.Valid, []string{"192.0.2.0/24-24 AS64496 (ripe)"}},
		{"IPv4-mapped IPv6 is the IPv4 route", "::ffff:192.0.2.0/120", 64496, routing.Valid, []string{"192.0.2.0/24-24 AS64496 (ripe)"}},
		{"IPv6 within maxLength", "2001:db8:1::/48", 64496, routing.Valid, []string{"2001:db8::/32-48 AS64496 (ripe)"}},
		{"IPv6 too long", "2001:db8:1::/49", 64496, routing.Invalid, []string{"2001:db8::/32-48 AS64496 (ripe)"}},
		{"IPv6 two covering, deeper matches", "2001:db8:ff00::/40", 64499, routing.Valid, []string{"2001:db8:ff00::/40-40 AS64499 (ripe)"}},
		{"IPv6 two covering, none matching", "2001:db8:ff00::/40", 64497, routing.Invalid, []string{"2001:db8::/32-48 AS64496 (ripe)", "2001:db8:ff00::/40-40 AS64499 (ripe)"}},
		{"IPv6 not found", "2001:db9::/32", 64496, routing.NotFound, nil},
		{"expired VRP was dropped", "198.51.100.0/24", 64500, routing.Invalid, []string{"198.51.100.0/22-23 AS64496 (ripe)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, vrps := tb.ROV(netip.MustParsePrefix(c.prefix), c.origin)
			var got []string
			for _, v := range vrps {
				got = append(got, v.String())
			}
			if st != c.want || !slices.Equal(got, c.reasons) {
				t.Errorf("ROV(%s, AS%d) = %s %q, want %s %q", c.prefix, c.origin, st, got, c.want, c.reasons)
			}
			if s := tb.State(netip.MustParsePrefix(c.prefix), c.origin); s != st {
				t.Errorf("State = %s, ROV = %s", s, st)
			}
			if s, _ := tb.Validate(netip.MustParsePrefix(c.prefix), c.origin); s != c.want {
				t.Errorf("Validate = %s", s)
			}
		})
	}
}

func TestFixtureLoad(t *testing.T) {
	tb := loadFixture(t, Options{})
	n4, n6 := tb.Len()
	if n4 != 5 || n6 != 2 { // 9 roas - 1 duplicate - 1 expired
		t.Errorf("Len = %d, %d; want 5, 2", n4, n6)
	}
	if md := tb.Metadata(); md.Expired != 2 || md.Format != "rpki-client-json" || md.BuildTime.Format(time.RFC3339) != "2026-01-02T03:04:05Z" {
		t.Errorf("metadata = %+v (want 1 VRP + 1 ASPA expired)", md)
	}
	if got := tb.CountByTA(); got["ripe"] != 4 || got["arin"] != 1 || got["apnic"] != 2 || got["lacnic"] != 0 {
		t.Errorf("CountByTA = %v", got)
	}
	aspas := tb.ASPAs()
	if len(aspas) != 2 || aspas[0].Customer != 64496 || !slices.Equal(aspas[0].Providers(), []routing.ASN{64510, 64511}) {
		t.Errorf("ASPAs = %+v", aspas)
	}
	vrps := tb.VRPs()
	if len(vrps) != 7 || vrps[0].String() != "192.0.2.0/24-24 AS64496 (ripe)" || vrps[6].String() != "2001:db8:ff00::/40-40 AS64499 (ripe)" {
		t.Errorf("VRPs = %v", vrps)
	}
	if got := tb.ByASN(64496); len(got) != 3 {
		t.Errorf("ByASN(64496) = %v", got)
	}
	// IgnoreExpiry keeps the expired VRP and ASPA.
	tb = loadFixture(t, Options{IgnoreExpiry: true})
	if n4, _ := tb.Len(); n4 != 6 || len(tb.ASPAs()) != 3 {
		t.Errorf("IgnoreExpiry: %d IPv4 VRPs, %d ASPAs", n4, len(tb.ASPAs()))
	}
	// Staleness guard: the fixture was built at 03:04:05.
	if _, err := LoadFile(context.Background(), "testdata/fixture.rpki-client.json", Options{Now: fixtureNow, MaxAge: 30 * time.Minute}); !isStale(err) {
		t.Errorf("MaxAge 30m at 04:00: err = %v, want ErrStale", err)
	}
	if _, err := LoadFile(context.Background(), "testdata/fixture.rpki-client.json", Options{Now: fixtureNow, MaxAge: time.Hour}); err != nil {
		t.Errorf("MaxAge 1h at 04:00: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ name, in string }{
		{"not rpki data", "hello"},
		{"truncated", `{"roas":[{"asn":1,"prefix":"192.0.2.0/24","maxLength":24`},
		{"host bits", `{"roas":[{"asn":1,"prefix":"192.0.2.1/24","maxLength":24,"ta":"x"}]}`},
		{"maxLength below length", `{"roas":[{"asn":1,"prefix":"192.0.2.0/24","maxLength":23,"ta":"x"}]}`},
		{"maxLength above 32", `{"roas":[{"asn":1,"prefix":"192.0.2.0/24","maxLength":33,"ta":"x"}]}`},
		{"asn out of range", `{"roas":[{"asn":4294967296,"prefix":"192.0.2.0/24","maxLength":24}]}`},
		{"asn text", `{"roas":[{"asn":"ASX","prefix":"192.0.2.0/24","maxLength":24}]}`},
		{"no prefix", `{"roas":[{"asn":1,"maxLength":24}]}`},
		{"trailing garbage", `{"roas":[]} x`},
		{"aspa without customer", `{"aspas":[{"providers":[1]}]}`},
		{"csv short line", "ASN,IP Prefix,Max Length,Trust Anchor\nAS1,192.0.2.0/24\n"},
		{"csv bad asn", "ASN,IP Prefix,Max Length,Trust Anchor\nASx,192.0.2.0/24,24,ripe\n"},
	}
	for _, c := range cases {
		if _, err := Parse([]byte(c.in), c.name, Options{}); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// A Table is read concurrently (run with -race): lookups, ByASN's lazy index, dumps.
func TestConcurrentReaders(t *testing.T) {
	tb := loadFixture(t, Options{})
	p := netip.MustParsePrefix("192.0.2.0/25")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if st := tb.State(p, 64497); st != routing.Valid {
					t.Errorf("goroutine %d: %s", g, st)
					return
				}
				tb.ROV(p, 64496)
				if len(tb.ByASN(64496)) != 3 {
					t.Errorf("ByASN")
					return
				}
				tb.VRPs()
			}
		}()
	}
	wg.Wait()
}
