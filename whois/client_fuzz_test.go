package whois

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

func FuzzParseServer(f *testing.F) {
	for _, s := range []string{"whois://whois.radb.net", "rr.ntt.net:43", "[::1]:4343", "whois://[2001:db8::1]", "x:", "whois://a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		addr, err := ParseServer(s)
		if err != nil {
			return
		}
		again, err := ParseServer(addr)
		if err != nil || again != addr {
			t.Fatalf("ParseServer(%q) = %q, which re-parses to %q, %v", s, addr, again, err)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			t.Fatalf("ParseServer(%q) = %q: %v", s, addr, err)
		}
	})
}

// FuzzClientSession feeds arbitrary server bytes to a client running a handshake, a
// set query and a pipelined route batch: it must never panic or hang, and whatever it
// returns without error must be well-formed (one sorted answer per ASN, right family).
func FuzzClientSession(f *testing.F) {
	f.Add([]byte("C\nF Missing required set name for A query\nA10\nRIPE,RADB\nC\nA13\n192.0.2.0/24\nC\nD\nA30\n198.51.100.0/24 192.0.2.0/25\nC\n"))
	f.Add([]byte("C\nF Unrecognised command\nA5\nRIPE\nC\nA8\nAS64496\nC\nA13\n192.0.2.0/24\nC\nD\nC\n"))
	f.Add([]byte("C\nC\nD\nA3\nx\nC\n"))
	f.Add([]byte("C\nF x\nA5\nRIPE\nC\nA12\n192.0.2.0/24\nC\n"))
	f.Add([]byte("C\nF x\nA5\nRIPE\nC\nA5\nAS-Y\nC\nD\nA20\nas-set: AS-X\nC\nD\nF no\n"))
	f.Fuzz(func(t *testing.T, script []byte) {
		cli, srv := net.Pipe()
		go func() {
			go io.Copy(io.Discard, srv)
			srv.Write(script)
			srv.Close()
		}()
		c := NewClient("fuzz:43", ClientOptions{
			QueryTimeout: time.Second, ConnectTimeout: time.Second,
			Dial: func(context.Context, string, string) (net.Conn, error) { return cli, nil },
		})
		defer c.Close()
		ctx := context.Background()
		p, _, err := c.SetPrefixes(ctx, nil, "AS-X", false)
		if err == nil {
			checkFamily(t, p, false)
		}
		for _, name := range []string{"AS-X", "AS-Y", "AS-X"} {
			if m, found, err := c.Members(ctx, nil, name, false); err == nil && !found && len(m) != 0 {
				t.Fatalf("members %v of a set not found", m)
			}
		}
		asns := []routing.ASN{64496, 64497, 64498}
		r, err := c.Routes(ctx, nil, asns, false)
		if err != nil {
			if !errors.Is(err, irr.ErrUnavailable) && !errors.Is(err, irr.ErrUnknownSource) {
				t.Fatalf("error of unexpected kind: %v", err)
			}
			return
		}
		if len(r) != len(asns) {
			t.Fatalf("%d answers for %d ASNs", len(r), len(asns))
		}
		for _, ps := range r {
			checkFamily(t, ps, false)
		}
	})
}

func checkFamily(t *testing.T, ps []netip.Prefix, v6 bool) {
	t.Helper()
	for i, p := range ps {
		if !p.IsValid() || p.Addr().Is6() != v6 {
			t.Fatalf("bad prefix %v", p)
		}
		if i > 0 && clientComparePrefix(ps[i-1], p) >= 0 {
			t.Fatalf("not sorted/unique: %v", ps)
		}
	}
}
