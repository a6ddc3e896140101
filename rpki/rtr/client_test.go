package rtr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// vrpFile writes a StayRTR 0.5.1 / rpki-client 8.x JSON file (per-AFI
// provider_authorizations, which is what 0.5.1 serves as ASPA) with a fresh build
// time, atomically.
func vrpFile(t *testing.T, path, roas, aspa4, aspa6 string) {
	t.Helper()
	body := fmt.Sprintf(`{"metadata":{"buildtime":%q},"roas":[%s],"provider_authorizations":{"ipv4":[%s],"ipv6":[%s]}}`,
		time.Now().UTC().Format(time.RFC3339), roas, aspa4, aspa6)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

const (
	roasV1 = `{"prefix":"192.0.2.0/24","maxLength":24,"asn":"AS64500","ta":"test"},
{"prefix":"198.51.100.0/22","maxLength":23,"asn":64500,"ta":"test"},
{"prefix":"203.0.113.0/24","maxLength":24,"asn":"AS0","ta":"test"},
{"prefix":"2001:db8::/32","maxLength":48,"asn":"AS64500","ta":"test"},
{"prefix":"2001:db8:1000::/36","maxLength":40,"asn":"AS64501","ta":"test"}`
	// v2: maxLength 23 -> 24, 2001:db8:1000::/36 withdrawn, 100.64.0.0/24 added.
	roasV2 = `{"prefix":"192.0.2.0/24","maxLength":24,"asn":"AS64500","ta":"test"},
{"prefix":"198.51.100.0/22","maxLength":24,"asn":64500,"ta":"test"},
{"prefix":"203.0.113.0/24","maxLength":24,"asn":"AS0","ta":"test"},
{"prefix":"2001:db8::/32","maxLength":48,"asn":"AS64500","ta":"test"},
{"prefix":"100.64.0.0/24","maxLength":24,"asn":"AS64999","ta":"test"}`
	aspa4V1 = `{"customer_asid":64500,"providers":[64496,64510]},{"customer_asid":64501,"providers":[64497]}`
	aspa6V1 = `{"customer_asid":64500,"providers":[64496]}`
	aspa4V2 = `{"customer_asid":64500,"providers":[64496,64511]}`
	aspa6V2 = `{"customer_asid":64500,"providers":[64496]},{"customer_asid":64502,"providers":[0]}`
)

type view struct {
	VRPs  []string
	ASPAs []rpki.ASPA
}

func viewOf(tb *rpki.Table) view {
	var v view
	for _, x := range tb.VRPs() {
		x.TA = "" // RTR carries no trust anchor
		v.VRPs = append(v.VRPs, x.String())
	}
	for _, a := range tb.ASPAs() {
		a.Expires = 0
		if len(a.IPv4) == 0 {
			a.IPv4 = nil
		}
		if len(a.IPv6) == 0 {
			a.IPv6 = nil
		}
		v.ASPAs = append(v.ASPAs, a)
	}
	return v
}

func fileView(t *testing.T, path string, withASPA bool) view {
	t.Helper()
	tb, err := rpki.LoadFile(context.Background(), path, rpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := viewOf(tb)
	if !withASPA {
		v.ASPAs = nil
	}
	return v
}

// TestStayRTR checks the client's view against the JSON file stayrtr serves: after a
// reset query and after the file changes (serial query after a notify).
func TestStayRTR(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vrps.json")
	vrpFile(t, file, roasV1, aspa4V1, aspa6V1)
	addr := peer.StartStayRTR(t, file)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := &Client{Addr: addr, Timeout: 10 * time.Second}
	defer c.Close()
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Version() != 2 {
		t.Errorf("negotiated version %d, want 2", c.Version())
	}
	tb, err := c.Table(rpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := fileView(t, file, true)
	if len(want.VRPs) != 5 || len(want.ASPAs) != 2 {
		t.Fatalf("file view = %+v", want)
	}
	if d := cmp.Diff(want, viewOf(tb)); d != "" {
		t.Fatalf("after reset: RTR view differs from the file (-file +rtr):\n%s", d)
	}
	// ROV through the RTR-fed table: AS0 ROA makes 203.0.113.0/24 invalid for anyone.
	if st := tb.State(mustPrefix("203.0.113.0/24"), 64500); st != routing.Invalid {
		t.Errorf("AS0 ROA: state %s", st)
	}

	vrpFile(t, file, roasV2, aspa4V2, aspa6V2)
	want2 := fileView(t, file, true)
	deadline := time.Now().Add(30 * time.Second)
	var got view
	for time.Now().Before(deadline) {
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := c.WaitNotify(wctx)
		wcancel()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Update(ctx); err != nil {
			t.Fatal(err)
		}
		tb, err = c.Table(rpki.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got = viewOf(tb); cmp.Equal(want2, got) {
			break
		}
	}
	if d := cmp.Diff(want2, got); d != "" {
		t.Fatalf("after serial update: RTR view differs from the file (-file +rtr):\n%s", d)
	}
	if c.Serial() == 0 {
		t.Errorf("serial did not move")
	}
}

func TestStayRTRVersionNegotiation(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vrps.json")
	vrpFile(t, file, roasV1, aspa4V1, aspa6V1)
	addrV1 := peer.StartStayRTR(t, file, "-protocol", "1")
	addrV2 := peer.StartStayRTR(t, file)
	want := fileView(t, file, false)

	cases := []struct {
		name    string
		addr    string
		c       Client
		version uint8
	}{
		{"v2 client, v1 cache", addrV1, Client{}, 1},
		{"v1 client, v2 cache", addrV2, Client{MaxVersion: 1}, 1},
		{"v0 client, v2 cache", addrV2, Client{V0Only: true}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c := tc.c
			c.Addr = tc.addr
			defer c.Close()
			if err := c.Reset(ctx); err != nil {
				t.Fatal(err)
			}
			if c.Version() != tc.version {
				t.Errorf("version %d, want %d", c.Version(), tc.version)
			}
			tb, err := c.Table(rpki.Options{})
			if err != nil {
				t.Fatal(err)
			}
			// ASPA travels only in version 2.
			if d := cmp.Diff(want, viewOf(tb)); d != "" {
				t.Errorf("view differs (-file +rtr):\n%s", d)
			}
		})
	}
}

func TestFetchUnavailable(t *testing.T) {
	port := peer.FreePort(t) // nothing listens there
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Fetch(ctx, "127.0.0.1:"+strconv.Itoa(port), rpki.Options{}, nil); err == nil {
		t.Fatal("Fetch from a closed port succeeded")
	}
}

// A Serial Query the cache cannot answer (unknown serial: Cache Reset; wrong session:
// Error Report) makes Update fall back to a Reset Query and end with the full data.
func TestStayRTRSerialFallback(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vrps.json")
	vrpFile(t, file, roasV1, "", "")
	addr := peer.StartStayRTR(t, file)
	want := fileView(t, file, true)
	cases := []struct {
		name   string
		mutate func(c *Client)
		why    string
	}{
		{"unknown serial", func(c *Client) { c.serial += 1000 }, "cache reset"},
		{"wrong session", func(c *Client) { c.session++ }, "rtr:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var logs strings.Builder
			c := &Client{Addr: addr, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			defer c.Close()
			if err := c.Reset(ctx); err != nil {
				t.Fatal(err)
			}
			tc.mutate(c)
			if err := c.Update(ctx); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), "serial query failed, resetting") || !strings.Contains(logs.String(), tc.why) {
				t.Errorf("no fallback logged:\n%s", logs.String())
			}
			tb, err := c.Table(rpki.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, viewOf(tb)); d != "" {
				t.Errorf("(-file +rtr):\n%s", d)
			}
		})
	}
}

// Run publishes a new Table after the file stayrtr serves changes.
func TestRunPublishes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vrps.json")
	vrpFile(t, file, roasV1, "", "")
	addr := peer.StartStayRTR(t, file)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var cur atomic.Pointer[rpki.Table]
	published := make(chan struct{}, 100)
	c := &Client{Addr: addr}
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, rpki.Options{}, func(tb *rpki.Table) { cur.Store(tb); published <- struct{}{} })
	}()
	wait := func(want view) {
		t.Helper()
		for {
			select {
			case <-published:
				if cmp.Equal(want, viewOf(cur.Load())) {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no table equal to the file published: last %+v", viewOf(cur.Load()))
			}
		}
	}
	wait(fileView(t, file, true))
	vrpFile(t, file, roasV2, "", "")
	wait(fileView(t, file, true))
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}
}
