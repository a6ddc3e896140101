package mirror

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

// TestNRTM3MultiOrigin: a route object with several origin lines, in the dump and in
// an NRTMv3 ADD, is indexed under each origin; its DEL removes every origin; the
// journal replays it the same way after a restart.
func TestNRTM3MultiOrigin(t *testing.T) {
	const multiA = "route: 192.0.2.0/24\norigin: AS64496\norigin: AS64497\nsource: TEST\n"
	const multiB = "route6: 2001:db8::/32\norigin: AS64498\norigin: AS64499\nsource: TEST\n"
	dir := t.TempDir()
	dump := filepath.Join(dir, "test.db")
	if err := os.WriteFile(dump, []byte(multiA+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Open(Config{Dir: filepath.Join(dir, "m"), Sources: []SourceConfig{{Name: "TEST", Dump: dump, DumpSerial: 9}}})
	if err != nil {
		t.Fatal(err)
	}
	ix := irr.NewIndex()
	if err := m.Attach(ix); err != nil {
		t.Fatal(err)
	}
	for _, a := range []int{64496, 64497} {
		if got := routes(t, ix, "TEST", routing.ASN(a), false); !slices.Equal(got, []string{"192.0.2.0/24"}) {
			t.Errorf("dump: routes of AS%d = %v", a, got)
		}
	}
	st, err := ParseNRTM3(strings.NewReader("%START Version: 3 TEST 10-11\n\nADD 10\n\n"+multiB+"\nDEL 11\n\n"+multiA+"\n%END TEST\n"), Expect{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ApplyNRTM3("TEST", st); err != nil {
		t.Fatal(err)
	}
	check := func(what string, ix *irr.Index) {
		t.Helper()
		for _, a := range []int{64496, 64497} {
			if got := routes(t, ix, "TEST", routing.ASN(a), false); len(got) != 0 {
				t.Errorf("%s: routes of AS%d after the DEL = %v", what, a, got)
			}
		}
		for _, a := range []int{64498, 64499} {
			if got := routes(t, ix, "TEST", routing.ASN(a), true); !slices.Equal(got, []string{"2001:db8::/32"}) {
				t.Errorf("%s: IPv6 routes of AS%d = %v", what, a, got)
			}
		}
	}
	check("live", ix)
	m.Close()
	m2, err := Open(Config{Dir: filepath.Join(dir, "m")})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	ix2 := irr.NewIndex()
	if err := m2.Attach(ix2); err != nil {
		t.Fatal(err)
	}
	check("reopened", ix2)
}
