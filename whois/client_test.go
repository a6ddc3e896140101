package whois

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/whoisfault"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

// testData is a small registry in documentation space; the "!a" answers are the
// union of the member ASNs' routes, as IRRd computes them.
func testData(noA bool) *whoisfault.Data {
	return &whoisfault.Data{
		Sources: []string{"RIPE", "RADB"},
		NoA:     noA,
		Members: map[string][]string{
			"AS-CUST": {"AS-SUB", "AS64496", "AS64497"},
			"AS-SUB":  {"AS64498", "AS65536"},
		},
		Recursive: map[string][]string{
			"AS-CUST": {"AS64496", "AS64497", "AS64498", "AS65536"},
			"AS-SUB":  {"AS64498", "AS65536"},
		},
		A4: map[string][]string{
			"AS-CUST": {"192.0.2.0/24", "192.0.2.0/25", "198.51.100.0/24", "203.0.113.0/24"},
			"AS-SUB":  {"192.0.2.0/24", "203.0.113.0/24"},
		},
		A6: map[string][]string{
			"AS-CUST": {"2001:db8::/32", "2001:db8:1::/48"},
			"AS-SUB":  {"2001:db8:1::/48"},
		},
		Routes4: map[uint32][]string{
			64496: {"192.0.2.0/25", "192.0.2.0/24", "192.0.2.0/24"},
			64497: {"198.51.100.0/24"},
			65536: {"203.0.113.0/24", "192.0.2.0/24"},
		},
		Routes6: map[uint32][]string{
			64496: {"2001:db8::/32"},
			65536: {"2001:db8:1::/48"},
		},
	}
}

func pfx(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func fastOpts() ClientOptions {
	return ClientOptions{ConnectTimeout: 300 * time.Millisecond, QueryTimeout: 300 * time.Millisecond}
}

func TestParseServer(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "whois://whois.radb.net", want: "whois.radb.net:43"},
		{in: "whois://rr.ntt.net:4343", want: "rr.ntt.net:4343"},
		{in: "WHOIS://127.0.0.1:43/", want: "127.0.0.1:43"},
		{in: "127.0.0.1:4343", want: "127.0.0.1:4343"},
		{in: "whois://[::1]:4343", want: "[::1]:4343"},
		{in: "[2001:db8::1]", want: "[2001:db8::1]:43"},
		{in: "::1", wantErr: true},
		{in: "http://example.net", wantErr: true},
		{in: "whois://", wantErr: true},
		{in: "whois://host:0", wantErr: true},
		{in: "whois://host:99999", wantErr: true},
		{in: "whois://host:x", wantErr: true},
		{in: "whois://host/path", wantErr: true},
		{in: "whois://user@host", wantErr: true},
		{in: "whois://[::1", wantErr: true},
		{in: "whois://[nothex]:43", wantErr: true},
		{in: "whois://:43", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseServer(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseServer(%q) = %q, %v; want %q, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestClientQueries(t *testing.T) {
	for _, noA := range []bool{false, true} {
		t.Run(fmt.Sprintf("noA=%v", noA), func(t *testing.T) {
			srv := whoisfault.Start(t, testData(noA), whoisfault.Fault{})
			ctx := context.Background()
			c := NewClient(srv.Addr(), fastOpts())
			defer c.Close()

			src, err := c.Sources(ctx)
			if err != nil || !slices.Equal(src, []string{"RIPE", "RADB"}) {
				t.Fatalf("Sources = %v, %v", src, err)
			}
			m, found, err := c.Members(ctx, nil, "AS-CUST", false)
			if err != nil || !found || !slices.Equal(m, []string{"AS-SUB", "AS64496", "AS64497"}) {
				t.Fatalf("Members = %v %v %v", m, found, err)
			}
			m, found, err = c.Members(ctx, []string{"radb"}, "AS-CUST", true)
			if err != nil || !found || len(m) != 4 {
				t.Fatalf("Members recursive = %v %v %v", m, found, err)
			}
			if _, found, err := c.Members(ctx, nil, "AS-NOPE", true); err != nil || found {
				t.Fatalf("unknown set: found=%v err=%v", found, err)
			}
			for _, v6 := range []bool{false, true} {
				got, found, err := c.SetPrefixes(ctx, nil, "AS-CUST", v6)
				want := pfx("192.0.2.0/24", "192.0.2.0/25", "198.51.100.0/24", "203.0.113.0/24")
				if v6 {
					want = pfx("2001:db8::/32", "2001:db8:1::/48")
				}
				if err != nil || !found || !slices.Equal(got, want) {
					t.Fatalf("SetPrefixes(v6=%v) = %v %v %v, want %v", v6, got, found, err, want)
				}
			}
			if noA && (c.aPath != 0 || c.fallbackPath != 2) || !noA && (c.aPath != 2 || c.fallbackPath != 0) {
				t.Errorf("paths: !a %d, fallback %d", c.aPath, c.fallbackPath)
			}
			routes, err := c.Routes(ctx, []string{"RIPE"}, []routing.ASN{65536, 64498, 64496}, false)
			if err != nil {
				t.Fatal(err)
			}
			want := [][]netip.Prefix{pfx("192.0.2.0/24", "203.0.113.0/24"), {}, pfx("192.0.2.0/24", "192.0.2.0/25")}
			if len(routes) != 3 || !slices.Equal(routes[0], want[0]) || len(routes[1]) != 0 || !slices.Equal(routes[2], want[2]) {
				t.Fatalf("Routes = %v, want %v", routes, want)
			}
			err = c.CheckSources(ctx, []string{"RIPE", "NOPE"})
			if !errors.Is(err, irr.ErrUnknownSource) || errors.Is(err, irr.ErrUnavailable) {
				t.Fatalf("CheckSources(unknown) = %v", err)
			}
			if err := c.CheckSources(ctx, []string{"RADB"}); err != nil {
				t.Fatalf("CheckSources(RADB) = %v", err)
			}
			// A query with the default list after a selection selects the defaults again.
			if _, _, err := c.Members(ctx, nil, "AS-SUB", false); err != nil {
				t.Fatal(err)
			}
			qs := srv.Queries()
			for _, w := range []string{"!!", "!nbgpfilter", "!a", "!s-lc", "!sRADB", "!sRIPE", "!sRIPE,NOPE", "!sRIPE,RADB"} {
				if !slices.Contains(qs, w) {
					t.Errorf("server never saw %q; saw %q", w, qs)
				}
			}
			if noA && !slices.Contains(qs, "!iAS-CUST,1") || !noA && !slices.Contains(qs, "!a6AS-CUST") {
				t.Errorf("wrong set-prefix path; server saw %q", qs)
			}
		})
	}
}

// TestClientPipelines proves that a batch is written before its answers are read: the
// server holds back every "!g" answer until it has read all of them, so a lock-step
// client would time out.
func TestClientPipelines(t *testing.T) {
	d := testData(false)
	const n = 5000
	asns := make([]routing.ASN, n)
	for i := range asns {
		asns[i] = routing.ASN(64496 + i%16)
	}
	d.HoldRoutes = n
	srv := whoisfault.Start(t, d, whoisfault.Fault{})
	c := NewClient(srv.Addr(), ClientOptions{QueryTimeout: 2 * time.Second})
	defer c.Close()
	routes, err := c.Routes(context.Background(), nil, asns, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != n || !slices.Equal(routes[n-8], pfx("192.0.2.0/24", "192.0.2.0/25")) || !slices.Equal(routes[1], pfx("198.51.100.0/24")) {
		t.Fatalf("answers not matched in order: %v %v", routes[n-8], routes[1])
	}
}

// TestClientConcurrent runs calls from several goroutines on one client.
func TestClientConcurrent(t *testing.T) {
	srv := whoisfault.Start(t, testData(false), whoisfault.Fault{})
	c := NewClient(srv.Addr(), ClientOptions{})
	defer c.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			srcs := [][]string{nil, {"RIPE"}, {"RADB", "RIPE"}}[i%3]
			for j := 0; j < 20; j++ {
				r, err := c.Routes(context.Background(), srcs, []routing.ASN{64497, 64496}, false)
				if err != nil {
					errs <- err
					return
				}
				if !slices.Equal(r[0], pfx("198.51.100.0/24")) {
					errs <- fmt.Errorf("wrong answer %v", r)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestClientFaults is the fault matrix: every misbehaviour of the server ends the
// call with an error wrapping irr.ErrUnavailable that names the server and the query,
// within the timeouts, and never with data.
func TestClientFaults(t *testing.T) {
	type call struct {
		name string
		q    string
		run  func(ctx context.Context, c *Client) (any, error)
	}
	calls := []call{
		{"Routes", "!gas64497", func(ctx context.Context, c *Client) (any, error) {
			return c.Routes(ctx, nil, []routing.ASN{64496, 64497, 64498, 65536}, false)
		}},
		{"SetPrefixes", "!a4AS-CUST", func(ctx context.Context, c *Client) (any, error) {
			p, _, err := c.SetPrefixes(ctx, nil, "AS-CUST", false)
			return p, err
		}},
		{"Members", "!iAS-CUST,1", func(ctx context.Context, c *Client) (any, error) {
			m, _, err := c.Members(ctx, []string{"RIPE"}, "AS-CUST", true)
			return m, err
		}},
	}
	count := 0
	var summary []string
	for _, cl := range calls {
		for _, f := range whoisfault.Faults(cl.q) {
			if f.Kind == whoisfault.GarbageData && cl.name == "Members" {
				continue // any token is a valid member name
			}
			t.Run(cl.name+"/"+f.String(), func(t *testing.T) {
				srv := whoisfault.Start(t, testData(false), f)
				c := NewClient(srv.Addr(), fastOpts())
				defer c.Close()
				start := time.Now()
				got, err := cl.run(context.Background(), c)
				el := time.Since(start)
				if err == nil {
					t.Fatalf("no error; got %v", got)
				}
				if !errors.Is(err, irr.ErrUnavailable) {
					t.Errorf("error does not wrap ErrUnavailable: %v", err)
				}
				wantQ := f.Query
				if wantQ == "!n" {
					wantQ = "!nbgpfilter"
				}
				if !strings.Contains(err.Error(), srv.Addr()) || !strings.Contains(err.Error(), fmt.Sprintf("%q", wantQ)) {
					t.Errorf("error does not name server %s and query %q: %v", srv.Addr(), wantQ, err)
				}
				if el > 2*time.Second {
					t.Errorf("took %s", el)
				}
				summary = append(summary, fmt.Sprintf("%-12s %-28s %5dms  %v", cl.name, f, el.Milliseconds(), err))
				count++
			})
		}
	}
	for _, s := range summary {
		t.Log(s)
	}
	t.Logf("%d faults injected; every one failed the call with ErrUnavailable", count)
}

func TestClientSilentAndRefused(t *testing.T) {
	tests := []struct {
		name string
		addr string
		opt  ClientOptions
		want string
	}{
		{"refused", whoisfault.Refused(t), fastOpts(), "connect"},
		{"black hole", whoisfault.BlackHole(t), fastOpts(), "no reply within 300ms"},
		{"run deadline", whoisfault.BlackHole(t), ClientOptions{QueryTimeout: time.Minute, ConnectTimeout: time.Minute,
			Deadline: time.Now().Add(400 * time.Millisecond)}, "run deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClient(tt.addr, tt.opt)
			start := time.Now()
			_, err := c.Routes(context.Background(), nil, []routing.ASN{64496}, false)
			if !errors.Is(err, irr.ErrUnavailable) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.addr) {
				t.Fatalf("err = %v, want ErrUnavailable mentioning %q and %s", err, tt.want, tt.addr)
			}
			if el := time.Since(start); el > 2*time.Second {
				t.Fatalf("took %s", el)
			}
		})
	}
}

func TestClientContextCancel(t *testing.T) {
	srv := whoisfault.Start(t, testData(false), whoisfault.Fault{Kind: whoisfault.Stall, Query: "!gas64497"})
	c := NewClient(srv.Addr(), ClientOptions{QueryTimeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Routes(ctx, nil, []routing.ASN{64496, 64497}, false)
	if !errors.Is(err, irr.ErrUnavailable) || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("cancel not honoured")
	}
	// The client reconnects after a failure.
	srv2 := whoisfault.Start(t, testData(false), whoisfault.Fault{})
	c2 := NewClient(srv2.Addr(), fastOpts())
	if _, err := c2.Routes(context.Background(), nil, []routing.ASN{64496}, false); err != nil {
		t.Fatal(err)
	}
	c2.dropLocked()
	if _, err := c2.Routes(context.Background(), nil, []routing.ASN{64496}, false); err != nil {
		t.Fatalf("after reconnect: %v", err)
	}
}

func TestClientRefusesUnsafeNames(t *testing.T) {
	srv := whoisfault.Start(t, testData(false), whoisfault.Fault{})
	c := NewClient(srv.Addr(), fastOpts())
	defer c.Close()
	ctx := context.Background()
	for _, name := range []string{"", "AS-FOO\n!q", "AS-FOO BAR", "AS-FOO,1", "AS-\x00", "!!", strings.Repeat("A", 2000)} {
		if _, _, err := c.Members(ctx, nil, name, false); err == nil || errors.Is(err, irr.ErrUnavailable) {
			t.Errorf("Members(%q) = %v, want a non-network error", name, err)
		}
	}
	for _, src := range []string{"RIPE\n", "RI PE", "RIPE,RADB", ""} {
		if _, err := c.Routes(ctx, []string{src}, []routing.ASN{1}, false); err == nil || errors.Is(err, irr.ErrUnavailable) {
			t.Errorf("source %q: err = %v", src, err)
		}
	}
	for _, q := range srv.Queries() {
		if strings.Contains(q, "AS-FOO") || strings.Contains(q, "RI PE") {
			t.Errorf("unsafe query reached the server: %q", q)
		}
	}
}

// TestClientReconnectsWhenIdle: a connection unused for longer than idleReconnect is
// replaced rather than reused (IRRd drops idle connections after 30 s).
func TestClientReconnectsWhenIdle(t *testing.T) {
	srv := whoisfault.Start(t, testData(false), whoisfault.Fault{})
	c := NewClient(srv.Addr(), fastOpts())
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Routes(ctx, nil, []routing.ASN{64496}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Routes(ctx, nil, []routing.ASN{64496}, false); err != nil {
		t.Fatal(err)
	}
	c.lastUsed = time.Now().Add(-2 * idleReconnect)
	if _, err := c.Routes(ctx, nil, []routing.ASN{64496}, false); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, q := range srv.Queries() {
		if q == "!!" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d connections, want 2 (one reused, one after the idle period)", n)
	}
}

// TestClientReadAhead: a level-by-level walk with non-recursive "!i" queries is
// answered mostly from the read-ahead (one round trip per level), gives the same
// members as asking one by one, and a speculative query's F reply fails only the call
// that really asks for that set.
func TestClientReadAhead(t *testing.T) {
	d := testData(false)
	d.Members = map[string][]string{
		"AS-TOP": {"AS-A", "AS-B", "AS64496", "AS-BAD"},
		"AS-A":   {"AS-C", "AS-D", "AS64497"},
		"AS-B":   {"AS-D", "AS65536", "RS-X^+"},
		"AS-C":   {"AS64498"},
		"AS-D":   {"AS-A"},
	}
	srv := whoisfault.Start(t, d, whoisfault.Fault{Kind: whoisfault.FReply, Query: "!iAS-BAD"})
	c := NewClient(srv.Addr(), fastOpts())
	defer c.Close()
	ctx := context.Background()
	seen := map[string]bool{"AS-TOP": true}
	level := []string{"AS-TOP"}
	var asns []string
	levels := 0
	for len(level) > 0 {
		levels++
		var next []string
		for _, s := range level {
			if s == "AS-BAD" {
				continue // excluded, as EXCEPT would
			}
			m, _, err := c.Members(ctx, []string{"RIPE"}, s, false)
			if err != nil {
				t.Fatalf("Members(%s): %v", s, err)
			}
			if !slices.Equal(m, d.Members[s]) {
				t.Fatalf("Members(%s) = %v, want %v", s, m, d.Members[s])
			}
			for _, x := range m {
				if routing.IsASN(x) {
					asns = append(asns, x)
				} else if strings.HasPrefix(x, "AS-") && !seen[x] {
					seen[x] = true
					next = append(next, x)
				}
			}
		}
		level = next
	}
	if len(asns) != 4 {
		t.Errorf("asns = %v", asns)
	}
	// One round trip per level: AS-TOP; AS-A (+AS-B, AS-BAD ahead); AS-C (+AS-D,
	// RS-X ahead). AS-B and AS-D come from the read-ahead.
	if c.pf.hits != 2 {
		t.Errorf("read-ahead hits = %d, want 2", c.pf.hits)
	}
	if slices.Contains(srv.Queries(), "!iRS-X^+") {
		t.Error("a route-set range was taken for a set name")
	}
	if _, _, err := c.Members(ctx, []string{"RIPE"}, "AS-BAD", false); !errors.Is(err, irr.ErrUnavailable) {
		t.Fatalf("the real query of a set whose read-ahead failed must fail: %v", err)
	}
}

func TestSetClass(t *testing.T) {
	for name, want := range map[string]string{
		"AS-FOO": "as-set", "as-foo": "as-set", "AS64496:AS-FOO": "as-set", "AS29648:AS-IN:AS39789": "as-set",
		"RS-FOO": "route-set", "AS64496:RS-FOO": "route-set", "AS64496": "", "FLTR-FOO": "", "": "",
	} {
		if got := setClass(name); got != want {
			t.Errorf("setClass(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestDial(t *testing.T) {
	ctx := context.Background()
	srv := whoisfault.Start(t, testData(false), whoisfault.Fault{})
	c, err := Dial(ctx, "whois://"+srv.Addr(), fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := strings.Join(srv.Queries(), " "); got != "!! !v !nbgpfilter !a !s-lc !v" {
		t.Errorf("handshake = %q", got)
	}
	if c.String() != "whois://"+srv.Addr() {
		t.Errorf("String() = %q", c.String())
	}
	if _, err := Dial(ctx, whoisfault.Refused(t), fastOpts()); !errors.Is(err, irr.ErrUnavailable) {
		t.Errorf("Dial(refused) = %v", err)
	}
	if _, err := Dial(ctx, "http://x", fastOpts()); err == nil || errors.Is(err, irr.ErrUnavailable) {
		t.Errorf("Dial(bad spec) = %v", err)
	}
}
