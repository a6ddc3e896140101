package mrt

import (
	"errors"
	"io"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// TestBgpdumpLineForLine decodes the real RIS and RouteViews MRT files of the shared
// data and renders every route as `bgpdump -m` would; the oracle is bgpdump itself:
// mrt/expected holds RIPE NCC's bgpdump test expectations and a rendering made with
// Debian's bgpdump 1.6.2 -m of the same files. Every line must match, in order.
func TestBgpdumpLineForLine(t *testing.T) {
	cases := []struct{ mrt, expected string }{
		{"mrt/ris.bview.ipv4_unicast_add_path.gz", "mrt/expected/ris.bview.ipv4_unicast_add_path.gz.bgpdump-m.txt.gz"},
		{"mrt/ris.bview.ipv6_unicast_add_path.gz", "mrt/expected/ris.bview.ipv6_unicast_add_path.gz.bgpdump-m.txt.gz"},
		{"mrt/ris.updates.20160811.1600.gz", "mrt/expected/ris.updates.20160811.1600.gz.bgpdump-m.txt.gz"},
		{"mrt/routeviews.updates.20260222.1530.mrt.gz", "mrt/expected/routeviews.updates.20260222.1530.bgpdump-m.txt.gz"},
		{"mrt/ris.bview.20020722.2337.gz", "mrt/expected/ris.bview.20020722.2337.gz.bgpdump-m.txt.gz"},
	}
	for _, tc := range cases {
		t.Run(tc.mrt, func(t *testing.T) {
			t.Parallel()
			if tc.mrt == "mrt/ris.bview.20020722.2337.gz" {
				peer.SkipShort(t, "the 115k-line 2002 RIB comparison")
			}
			exp := peer.GunzipLines(t, peer.SharedData(t, tc.expected))
			f, err := OpenFile(peer.SharedData(t, tc.mrt))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rd := NewReader(f)
			i, bad := 0, 0
			for {
				r, err := rd.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("after %d lines: %v", i, err)
				}
				got := r.BgpdumpLine()
				if i >= len(exp) {
					t.Fatalf("line %d: extra line %q (bgpdump printed %d)", i+1, got, len(exp))
				}
				if got != exp[i] {
					bad++
					if bad <= 5 {
						t.Errorf("line %d:\n got  %q\n want %q", i+1, got, exp[i])
					}
				}
				i++
			}
			if i != len(exp) {
				t.Errorf("decoded %d lines, bgpdump printed %d", i, len(exp))
			}
			if bad > 0 {
				t.Errorf("%d of %d lines differ", bad, len(exp))
			}
		})
	}
}
