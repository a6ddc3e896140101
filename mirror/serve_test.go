package mirror

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/internal/whoistest"
	"github.com/bgpfilter/bgpfilter/whoisd"
)

// TestServeWhileUpdating serves the mirrored index with the whois server while NRTMv4
// deltas are applied, and queries it with the real bgpq4 meanwhile. Every delta moves
// AS64496's only route to the next prefix, so each bgpq4 prefix list must hold exactly
// one prefix: never none (delete seen without the add) and never two.
func TestServeWhileUpdating(t *testing.T) {
	bgpq4 := peer.Require(t, "bgpq4")
	sg := newSigner(t, "ES256")
	f := newFixture(t, sg, sessionA)
	pfx := func(i int) string { return fmt.Sprintf("192.0.2.%d/32", i) }
	set := "as-set: AS-DOC\nmembers: AS64496\nsource: TEST\n"
	f.snapshot(1, route(pfx(0), 64496, "0"), set)
	f.publish()
	m, ix := openFixtureMirror(t, f, sg.pubPEM)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Update(ctx); err != nil {
		t.Fatal(err)
	}
	addr := whoistest.Serve(t, ix, whoisd.Options{})

	const n = 40
	for i := 1; i <= n; i++ {
		f.delta(uint64(i+1), "-route/"+pfx(i-1)+" AS64496", "+"+route(pfx(i), 64496, fmt.Sprint(i)))
	}
	updated := make(chan error, 1)
	var upd sync.WaitGroup
	upd.Add(1)
	defer upd.Wait() // the updates write into t.TempDir directories
	go func() {
		defer upd.Done()
		all := f.deltas
		for k := 2; k <= n; k += 2 {
			f.deltas = all[:k]
			f.publish()
			if err := m.Update(ctx); err != nil {
				updated <- err
				return
			}
		}
		updated <- nil
	}()
	query := func() string {
		r := peer.BGPQ4(t, bgpq4, addr, nil, "-S", "TEST", "-4", "-l", "NN", "AS-DOC")
		if r.Code != 0 {
			t.Errorf("bgpq4: exit %d\n%s", r.Code, r.Stderr)
		}
		return r.Stdout + r.Stderr
	}
	runs, done := 0, false
	for !done || runs < 3 {
		select {
		case err := <-updated:
			if err != nil {
				t.Fatal(err)
			}
			done = true
		default:
		}
		out := query()
		runs++
		if c := strings.Count(out, " permit "); c != 1 {
			t.Errorf("bgpq4 run %d saw %d prefixes (half-applied delta):\n%s", runs, c, out)
			cancel()
			break
		}
	}
	if out := query(); !strings.Contains(out, "permit "+pfx(n)) {
		t.Errorf("final bgpq4 output:\n%s", out)
	}
	t.Logf("%d bgpq4 runs during %d deltas", runs, n)
}
