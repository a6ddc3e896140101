package rpki

import (
	"context"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/routing"
)

// buildTime2025 is metadata.buildtime of the shared 2025-07-20 rpki-client set; the
// real-data tests check expiry against it (the VRPs expire a few days later).
var buildTime2025 = time.Date(2025, 7, 20, 9, 31, 33, 0, time.UTC)

var (
	realOnce  sync.Once
	realTable *Table
	realErr   error
)

// loadReal loads the real 2025 set once per test binary (Tables are immutable).
func loadReal(t testing.TB) *Table {
	t.Helper()
	path := peer.SharedData(t, "rpki/rpki-client_20250720T093135Z.json.gz")
	realOnce.Do(func() {
		realTable, realErr = LoadFile(context.Background(), path, Options{Now: buildTime2025})
	})
	if realErr != nil {
		t.Fatal(realErr)
	}
	return realTable
}

func TestRealRPKIClientSet(t *testing.T) {
	tb := loadReal(t)
	n4, n6 := tb.Len()
	// metadata.uniquevrps of the file; the per-TA counts are from the data README
	// (and `zcat | grep -c '"ta": "ripe"'` etc.).
	if n4+n6 != 723521 {
		t.Errorf("VRPs = %d + %d = %d, want 723521", n4, n6, n4+n6)
	}
	wantTA := map[string]int{"ripe": 300988, "arin": 203995, "apnic": 153201, "lacnic": 39011, "afrinic": 26326}
	got := tb.CountByTA()
	for ta, n := range wantTA {
		if got[ta] != n {
			t.Errorf("TA %s: %d VRPs, want %d", ta, got[ta], n)
		}
	}
	if len(got) != len(wantTA) {
		t.Errorf("TAs = %v", got)
	}
	if n := len(tb.ASPAs()); n != 100 {
		t.Errorf("ASPAs = %d, want 100", n)
	}
	if a, ok := tb.ASPA(11358); !ok || len(a.IPv4) != 5 || a.IPv4[2] != 6939 {
		t.Errorf("ASPA AS11358 = %+v %v, want providers [835 924 6939 20473 34927]", a, ok)
	}
	if md := tb.Metadata(); !md.BuildTime.Equal(buildTime2025) || md.Format != "rpki-client-json" || md.Expired != 0 {
		t.Errorf("metadata = %+v", md)
	}

	cases := []struct {
		prefix string
		origin routing.ASN
		want   routing.ROVState
	}{
		{"1.0.0.0/24", 13335, routing.Valid},
		{"1.1.1.0/24", 13335, routing.Valid},
		{"1.0.0.0/24", 13336, routing.Invalid},
		{"1.0.0.0/25", 13335, routing.Invalid},
		{"1.0.64.0/18", 18144, routing.Valid},
		{"1.0.64.0/19", 18144, routing.Invalid},
		{"1.1.4.0/22", 4134, routing.Valid},
		{"192.0.2.0/24", 64496, routing.NotFound},
		{"2001:db8::/32", 64496, routing.NotFound},
	}
	for _, c := range cases {
		st, vrps := tb.ROV(netip.MustParsePrefix(c.prefix), c.origin)
		if st != c.want {
			t.Errorf("%s AS%d = %s (%v), want %s", c.prefix, c.origin, st, vrps, c.want)
		}
		if st != routing.NotFound && len(vrps) == 0 {
			t.Errorf("%s AS%d: %s without reasons", c.prefix, c.origin, st)
		}
	}
	st, vrps := tb.ROV(netip.MustParsePrefix("1.0.0.0/24"), 13335)
	if st != routing.Valid || len(vrps) != 1 || vrps[0].String() != "1.0.0.0/24-24 AS13335 (apnic)" {
		t.Errorf("1.0.0.0/24 AS13335 reasons = %v", vrps)
	}
}

func TestRealDataExpiredRefused(t *testing.T) {
	path := peer.SharedData(t, "rpki/rpki-client_20250720T093135Z.json.gz")
	// Checked against today's clock every VRP of July 2025 has expired: refuse.
	_, err := LoadFile(context.Background(), path, Options{Now: buildTime2025.AddDate(1, 0, 0)})
	if err == nil || !isStale(err) {
		t.Fatalf("err = %v, want ErrStale", err)
	}
	// The staleness guard on the build time.
	_, err = LoadFile(context.Background(), path, Options{Now: buildTime2025.Add(3 * time.Hour), MaxAge: 2 * time.Hour})
	if err == nil || !isStale(err) {
		t.Fatalf("max-age: err = %v, want ErrStale", err)
	}
	// Trust-anchor allow-list.
	tb, err := LoadFile(context.Background(), path, Options{Now: buildTime2025, TrustAnchors: []string{"LACNIC", "/etc/tals/afrinic.tal"}})
	if err != nil {
		t.Fatal(err)
	}
	if n4, n6 := tb.Len(); n4+n6 != 39011+26326 || tb.Metadata().FilteredTA != 723521-39011-26326 {
		t.Errorf("TA allow-list: %d VRPs, filtered %d", n4+n6, tb.Metadata().FilteredTA)
	}
}

func BenchmarkLoadRealJSON(b *testing.B) {
	path := peer.SharedData(b, "rpki/rpki-client_20250720T093135Z.json.gz")
	for b.Loop() {
		tb, err := LoadFile(context.Background(), path, Options{Now: buildTime2025})
		if err != nil {
			b.Fatal(err)
		}
		runtime.KeepAlive(tb)
	}
}
