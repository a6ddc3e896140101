package whoistest_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/internal/whoistest"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/whoisd"
)

const fixture = `as-set:  AS-WT
members: AS64496, AS64497
source:  WT

route:   192.0.2.0/24
origin:  AS64496
source:  WT

route:   198.51.100.0/24
origin:  AS64497
source:  WT

route6:  2001:db8::/32
origin:  AS64497
source:  WT
`

func index(t *testing.T) *irr.Index {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wt.db")
	if err := os.WriteFile(path, []byte(fixture), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, _, err := irr.Load(context.Background(), []string{path}, irr.LoadOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestServeWithBGPQ4: the real bgpq4 expands a set through Serve's server (the
// expected bytes were printed by bgpq4 1.9 against it), and the server is gone after
// the subtest that started it.
func TestServeWithBGPQ4(t *testing.T) {
	bin := peer.Require(t, "bgpq4")
	ix := index(t)
	var addr string
	t.Run("serve", func(t *testing.T) {
		addr = whoistest.Serve(t, ix, whoisd.Options{})
		tests := []struct {
			args []string
			want string
		}{
			{[]string{"-l", "NN", "AS-WT"}, "no ip prefix-list NN\nip prefix-list NN permit 192.0.2.0/24\nip prefix-list NN permit 198.51.100.0/24\n"},
			{[]string{"-6", "-l", "NN", "AS-WT"}, "no ipv6 prefix-list NN\nipv6 prefix-list NN permit 2001:db8::/32\n"},
			{[]string{"-S", "WT", "-p", "-f", "64496", "-l", "AP", "AS-WT"}, "no ip as-path access-list AP\nip as-path access-list AP permit ^64496(_64496)*$\nip as-path access-list AP permit ^64496(_[0-9]+)*_(64497)$\n"},
		}
		for _, tc := range tests {
			r := peer.BGPQ4(t, bin, addr, nil, tc.args...)
			if r.Code != 0 || r.Stdout != tc.want {
				t.Errorf("bgpq4 %q: exit %d\n%s%s--- want:\n%s", tc.args, r.Code, r.Stdout, r.Stderr, tc.want)
			}
		}
	})
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after cleanup", addr)
	}
}

// TestHandshakeWithBGPQ4: bgpq4 completes its session against Handshake for literal
// prefixes, and finds nothing for an object that needs data (the expected bytes were
// printed by bgpq4 1.9 against it).
func TestHandshakeWithBGPQ4(t *testing.T) {
	bin := peer.Require(t, "bgpq4")
	addr := whoistest.Handshake(t)
	r := peer.BGPQ4(t, bin, addr, nil, "-l", "NN", "192.0.2.0/24", "198.51.100.0/25")
	if want := "no ip prefix-list NN\nip prefix-list NN permit 192.0.2.0/24\nip prefix-list NN permit 198.51.100.0/25\n"; r.Code != 0 || r.Stdout != want {
		t.Errorf("literal prefixes: exit %d\n%s%s--- want:\n%s", r.Code, r.Stdout, r.Stderr, want)
	}
	r = peer.BGPQ4(t, bin, addr, nil, "AS-WT")
	if want := "no ip prefix-list NN\n! generated prefix-list NN is empty\nip prefix-list NN deny 0.0.0.0/0\n"; r.Code != 0 || r.Stdout != want {
		t.Errorf("an as-set: exit %d\n%s%s--- want:\n%s", r.Code, r.Stdout, r.Stderr, want)
	}
}
