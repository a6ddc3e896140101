package whoisd

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/whois"
)

// multiIndex loads testdata/multiorigin.db: route objects with several origin lines
// (non-strict: strict refuses them).
func multiIndex(t *testing.T) *irr.Index {
	t.Helper()
	ix, _, err := irr.Load(t.Context(), []string{filepath.Join("testdata", "multiorigin.db")}, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestMultiOriginBGPQ4: the real bgpq4, as a client of our server, sees a route object
// with several origins under each of them. The prefixes expected are derived by hand
// from the fixture (its header lists them); the output format is bgpq4's own.
func TestMultiOriginBGPQ4(t *testing.T) {
	prog := peer.Require(t, "bgpq4")
	ts := startServer(t, multiIndex(t), Options{})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"AS64496"}, "no ip prefix-list NN\nip prefix-list NN permit 192.0.2.0/24\n"},
		{[]string{"AS64497"}, "no ip prefix-list NN\nip prefix-list NN permit 192.0.2.0/24\nip prefix-list NN permit 198.51.100.0/24\n"},
		{[]string{"-6", "AS64498"}, "no ipv6 prefix-list NN\nipv6 prefix-list NN permit 2001:db8::/32\n"},
		{[]string{"AS-MULTI"}, "no ip prefix-list NN\nip prefix-list NN permit 192.0.2.0/24\nip prefix-list NN permit 203.0.113.0/24\n"},
		{[]string{"-6", "AS-MULTI"}, "no ipv6 prefix-list NN\nipv6 prefix-list NN permit 2001:db8::/32\n"},
		{[]string{"-A", "AS-MULTI"}, "no ip prefix-list NN\nip prefix-list NN permit 192.0.2.0/24\nip prefix-list NN permit 203.0.113.0/24\n"},
		{[]string{"RS-MULTI"}, "no ip prefix-list NN\nip prefix-list NN permit 192.0.2.0/24\nip prefix-list NN permit 198.51.100.0/24\n"},
	} {
		// -p: bgpq4 treats the documentation ASNs of the fixture as private.
		out, stderr, code := runBGPQ4(t, prog, ts.addr, append([]string{"-p"}, tc.args...)...)
		if code != 0 || out != tc.want {
			t.Errorf("bgpq4 %s: exit %d, stderr %q\ngot:\n%s\nwant:\n%s", strings.Join(tc.args, " "), code, stderr, out, tc.want)
		}
	}
}

// TestMultiOriginQueries: !g, !6, !a, !i and !r on multi-origin route objects; !r
// lists such an object once, and its origins with ",o".
func TestMultiOriginQueries(t *testing.T) {
	ts := startServer(t, multiIndex(t), Options{})
	c := dial(t, ts.addr)
	c.send("!!")
	for _, tc := range []struct{ q, want string }{
		{"!gAS64496", "192.0.2.0/24"},
		{"!gAS64497", "192.0.2.0/24 198.51.100.0/24"},
		{"!6AS64497", "2001:db8::/32"},
		{"!6AS64498", "2001:db8::/32"},
		{"!a4AS-MULTI", "192.0.2.0/24 203.0.113.0/24"},
		{"!a6AS-MULTI", "2001:db8::/32"},
		{"!iRS-MULTI,1", "192.0.2.0/24 198.51.100.0/24 2001:db8::/32"},
		{"!r192.0.2.0/24,o", "AS64496 AS64497"},
	} {
		c.send(tc.q)
		if r := c.reply(); r.Kind != whois.ReplyA || strings.TrimSpace(string(r.Data)) != tc.want {
			t.Errorf("%s = %v %q, want %q", tc.q, r.Kind, r.Data, tc.want)
		}
	}
	c.send("!r192.0.2.0/24")
	r := c.reply()
	if n := strings.Count(string(r.Data), "route:"); r.Kind != whois.ReplyA || n != 1 || strings.Count(string(r.Data), "origin:") != 2 {
		t.Errorf("!r192.0.2.0/24 = %v, %d objects:\n%s", r.Kind, n, r.Data)
	}
}
