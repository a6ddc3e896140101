package irrcache

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/whoisfault"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/whois"
)

// TestCacheKeyedByServer: two servers with different data share one cache directory;
// within the TTL each is served only what it answered itself (issue 12 item 8: the
// key used to hold only the query and the sources).
func TestCacheKeyedByServer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	da, db := data(), data()
	db.Routes4 = map[uint32][]string{64496: {"203.0.113.0/24"}, 64497: {"198.51.100.0/25"}}
	db.Recursive = map[string][]string{"AS-CUST": {"AS64511"}}
	a := whoisfault.Start(t, da, whoisfault.Fault{})
	b := whoisfault.Start(t, db, whoisfault.Fault{})
	asns := []routing.ASN{64496, 64497}
	routes := func(addr string) ([][]netip.Prefix, []string) {
		t.Helper()
		cl := whois.NewClient(addr, fast())
		c, err := New(irr.NewFailover(nil, irr.Server{Name: cl.String(), Q: cl}), Options{Dir: dir, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		r, err := c.Routes(ctx, nil, asns, false)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := c.Members(ctx, []string{"RIPE"}, "AS-CUST", true)
		if err != nil {
			t.Fatal(err)
		}
		return r, m
	}
	ra, ma := routes(a.Addr())
	rb, mb := routes(b.Addr())
	if got := fmt.Sprint(ra); got != "[[192.0.2.0/24] [198.51.100.0/24]]" {
		t.Fatalf("server A routes = %s", got)
	}
	if got := fmt.Sprint(rb); got != "[[203.0.113.0/24] [198.51.100.0/25]]" {
		t.Fatalf("server B was served server A's cached routes: %s", got)
	}
	if slices.Equal(ma, mb) || !slices.Equal(mb, []string{"AS64511"}) {
		t.Fatalf("server B members = %v (server A: %v)", mb, ma)
	}
	// Both entries stay: A is still served its own answer from the cache.
	ra2, _ := routes(a.Addr())
	if fmt.Sprint(ra2) != fmt.Sprint(ra) {
		t.Fatalf("server A after B: %v", ra2)
	}
	if _, err := New(&switchable{}, Options{Dir: dir}); err == nil {
		t.Fatal("New accepted a Querier without an identity and no Options.Server")
	}
}

// TestCacheStaleOneLine: a run that takes many answers from the cache because every
// server failed logs one ERROR line that counts them (at Close), not one per query
// (issue 12 item 15: 4,293 lines on one run); StaleCount and StaleUses carry the
// details for the run summary.
func TestCacheStaleOneLine(t *testing.T) {
	ctx := context.Background()
	srv := whoisfault.Start(t, data(), whoisfault.Fault{})
	up := whois.NewClient(srv.Addr(), fast())
	defer up.Close()
	inner := &switchable{Querier: up}
	var logBuf bytes.Buffer
	c, err := New(inner, Options{Dir: t.TempDir(), Server: "test", StaleOnFailure: time.Hour, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	for i := 0; i < n; i++ {
		if _, err := c.Routes(ctx, nil, []routing.ASN{routing.ASN(64496 + i%2), routing.ASN(65536 + i)}, false); err != nil {
			t.Fatal(err)
		}
	}
	inner.Querier = whois.NewClient(whoisfault.Refused(t), fast())
	for i := 0; i < n; i++ {
		if _, err := c.Routes(ctx, nil, []routing.ASN{routing.ASN(64496 + i%2), routing.ASN(65536 + i)}, false); err != nil {
			t.Fatalf("stale answer %d: %v", i, err)
		}
	}
	if c.StaleCount() != n || len(c.StaleUses()) != n {
		t.Fatalf("StaleCount = %d, StaleUses = %d, want %d", c.StaleCount(), len(c.StaleUses()), n)
	}
	c.Close()
	c.Close()
	log := logBuf.String()
	if got := strings.Count(log, "STALE IRR DATA"); got != 1 {
		t.Fatalf("%d STALE IRR DATA lines, want 1:\n%s", got, log)
	}
	if !strings.Contains(log, fmt.Sprintf("stale_answers=%d", n)) || !strings.Contains(log, "level=ERROR") {
		t.Fatalf("the stale line does not count %d answers at ERROR level:\n%s", n, log)
	}
}
