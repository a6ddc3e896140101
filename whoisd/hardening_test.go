package whoisd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/whois"
)

// bigFixture writes an RPSL file with AS-BIG: the 32 documentation/private ASNs and
// n route6 objects in 2001:db8::/32 spread over them, so that "!a6AS-BIG" is a large
// answer (about 18 bytes per prefix).
func bigFixture(t testing.TB, n int) string {
	t.Helper()
	var asns []string
	for a := 64496; a <= 64511; a++ {
		asns = append(asns, fmt.Sprintf("AS%d", a))
	}
	for a := 65536; a <= 65551; a++ {
		asns = append(asns, fmt.Sprintf("AS%d", a))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "as-set: AS-BIG\nmembers: %s\nsource: TEST\n\n", strings.Join(asns, ", "))
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "route6: 2001:db8:%x::/48\norigin: %s\nsource: TEST\n\n", i, asns[i%len(asns)])
	}
	p := filepath.Join(t.TempDir(), "big.db")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPipelinedQueriesBeforeReading does what bgpq4 does for a large set: it writes
// 60,000 "!g" queries before reading the first answer. The server must keep reading
// while its replies are blocked, so neither side deadlocks, and answer in order.
func TestPipelinedQueriesBeforeReading(t *testing.T) {
	ix := smallIndex(t)
	ts := startServer(t, ix, Options{})
	asns := []routing.ASN{64496, 64497, 64498, 64499, 64510}
	want := make(map[routing.ASN]string)
	for _, asn := range asns {
		r, err := ix.Routes(context.Background(), nil, []routing.ASN{asn}, false)
		if err != nil {
			t.Fatal(err)
		}
		want[asn] = joinPrefixes(r[0])
	}
	const n = 60000
	c := dial(t, ts.addr)
	var b strings.Builder
	b.WriteString("!!\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "!gas%d\n", asns[i%len(asns)])
	}
	b.WriteString("!q\n")
	written := make(chan error, 1)
	go func() {
		_, err := io.WriteString(c.nc, b.String())
		written <- err
	}()
	select {
	case err := <-written:
		if err != nil {
			t.Fatalf("write %d queries: %v", n, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server stopped reading pipelined queries: client write blocked for 30 s")
	}
	for i := 0; i < n; i++ {
		rep := c.reply()
		asn := asns[i%len(asns)]
		if got := string(rep.Data); got != want[asn] || (want[asn] == "") != (rep.Kind == whois.ReplyD) {
			t.Fatalf("reply %d (AS%d) = %v %q, want %q", i, asn, rep.Kind, got, want[asn])
		}
	}
	c.expectEOF()
}

// TestLineTooLong sends a 1 MB line: the server answers F and closes without
// buffering the line.
func TestLineTooLong(t *testing.T) {
	ts := startServer(t, smallIndex(t), Options{MaxLineLen: 4096})
	c := dial(t, ts.addr)
	go func() {
		c.nc.Write([]byte("!!\n!i" + strings.Repeat("A", 1<<20) + "\n"))
	}()
	rep := c.reply()
	if rep.Kind != whois.ReplyF || rep.Msg != "Query line too long (limit 4096 bytes)" {
		t.Fatalf("reply = %+v, want F Query line too long", rep)
	}
	c.expectEOF()
	waitFor(t, "connection closed", 5*time.Second, func() bool { return ts.OpenConns() == 0 })
	if got := counterValue(t, ts.Server, "bgpfilter_whois_connections_closed_total", "line_too_long"); got != 1 {
		t.Errorf("closed{line_too_long} = %v, want 1", got)
	}
}

// TestMaxConns: connections over the limit get an F reply and are closed; the
// others keep working.
func TestMaxConns(t *testing.T) {
	ts := startServer(t, smallIndex(t), Options{MaxConns: 2})
	c1, c2 := dial(t, ts.addr), dial(t, ts.addr)
	c1.send("!!", "!nc1")
	c2.send("!!", "!nc2")
	c1.reply()
	c2.reply()
	c3 := dial(t, ts.addr)
	if rep := c3.reply(); rep.Kind != whois.ReplyF || rep.Msg != "Too many connections, try again later" {
		t.Fatalf("third connection got %+v", rep)
	}
	c3.expectEOF()
	c1.send("!q")
	c1.expectEOF()
	waitFor(t, "a free slot", 5*time.Second, func() bool { return ts.OpenConns() == 1 })
	c4 := dial(t, ts.addr)
	c4.send("!gas64496")
	if rep := c4.reply(); rep.Kind != whois.ReplyA {
		t.Fatalf("connection after a slot freed got %+v", rep)
	}
	if got := counterValue(t, ts.Server, "bgpfilter_whois_connections_rejected_total", ""); got != 1 {
		t.Errorf("rejected = %v, want 1", got)
	}
}

// TestIdleTimeout: an idle connection is closed; "!t" lowers the timeout per
// connection (raising it is capped: TestIdleTimeoutIsUpperBound).
func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, smallIndex(t), Options{IdleTimeout: 200 * time.Millisecond})
	c := dial(t, ts.addr)
	c.send("!!")
	start := time.Now()
	c.expectEOF()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("idle connection closed after %v, want about 200ms", d)
	}

	ts = startServer(t, smallIndex(t), Options{IdleTimeout: 20 * time.Second})
	c = dial(t, ts.addr)
	c.send("!!", "!t1")
	if rep := c.reply(); rep.Kind != whois.ReplyC {
		t.Fatalf("!t1 = %+v", rep)
	}
	c.send("!gas64496")
	if rep := c.reply(); rep.Kind != whois.ReplyA {
		t.Fatalf("after !t1: %+v", rep)
	}
	start = time.Now()
	c.expectEOF()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("connection with !t1 closed after %v, want about 1s (the server's timeout is 20s)", d)
	}
}

// TestNeverReadingClient: a client that pipelines thousands of large queries and
// never reads is dropped after the write timeout, and the server's memory does not
// grow with what it could not send: while the client stalls, the live heap holds its
// queued queries (5000 × 75 bytes) and one answer, not 5000 × 70 KB of answers.
func TestNeverReadingClient(t *testing.T) {
	ix := loadFixture(t, bigFixture(t, 4000))
	ts := startServer(t, ix, Options{WriteTimeout: 5 * time.Second})
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.(*net.TCPConn).SetReadBuffer(4096)
	var b strings.Builder
	b.WriteString("!!\n")
	for i := 0; i < 5000; i++ {
		b.WriteString("!a6AS-BIG\n") // about 70 KB per answer
	}
	go nc.Write([]byte(b.String()))
	waitFor(t, "the connection", 5*time.Second, func() bool { return ts.OpenConns() == 1 })
	stalled := quietHeap(t)
	growth := int64(stalled.HeapAlloc) - int64(before.HeapAlloc) - int64(b.Len()) // the client's own copy
	t.Logf("live heap %+d KiB while the client stalls", growth>>10)
	if growth > 4<<20 {
		t.Errorf("the live heap grew by %d KiB while one client stalled: the server holds what it could not send", growth>>10)
	}
	waitFor(t, "the server to drop the client", 20*time.Second, func() bool {
		return counterValue(t, ts.Server, "bgpfilter_whois_connections_closed_total", "write_failed") == 1
	})
	waitFor(t, "connection gone", 5*time.Second, func() bool { return ts.OpenConns() == 0 })
}

// TestShutdownGraceful: Shutdown stops accepting, closes idle connections, lets
// queries already read finish (every reply a client gets is complete and correct),
// and returns nil; Serve returns.
func TestShutdownGraceful(t *testing.T) {
	base := runtime.NumGoroutine()
	ix := smallIndex(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := New(ix, Options{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), ln) }()
	addr := ln.Addr().String()

	idle := dial(t, addr)
	idle.send("!!", "!nidle")
	idle.reply()
	busy := dial(t, addr)
	var b strings.Builder
	b.WriteString("!!\n")
	const n = 2000
	for i := 0; i < n; i++ {
		b.WriteString("!gas64496\n")
	}
	io.WriteString(busy.nc, b.String())
	busy.reply() // the server is processing this connection's queries now

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	idle.expectEOF()
	got := 1
	for {
		rep, err := whois.ReadReply(busy.br, 1<<20)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("after %d replies: %v (a reply was cut by the shutdown)", got, err)
		}
		if string(rep.Data) != "192.0.2.0/24 192.0.2.0/25" {
			t.Fatalf("reply %d = %+v", got, rep)
		}
		got++
	}
	t.Logf("%d of %d pipelined queries answered before the shutdown closed the connection", got, n)
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Shutdown")
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("server still accepts after Shutdown")
	}
	idle.nc.Close()
	busy.nc.Close()
	settleGoroutines(t, base, 2)
}

// TestShutdownDeadline: a client that never reads keeps a connection busy; Shutdown
// gives up at its deadline, closes it, and reports the deadline.
func TestShutdownDeadline(t *testing.T) {
	ix := loadFixture(t, bigFixture(t, 4000))
	ts := startServer(t, ix, Options{WriteTimeout: time.Minute})
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.(*net.TCPConn).SetReadBuffer(4096)
	go nc.Write([]byte("!!\n" + strings.Repeat("!a6AS-BIG\n", 2000)))
	waitFor(t, "the connection to block on writes", 10*time.Second, func() bool {
		return counterValue(t, ts.Server, "bgpfilter_whois_queries_total", "set_prefixes") > 5
	})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = ts.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Shutdown took %v after its 300ms deadline", d)
	}
	if ts.OpenConns() != 0 {
		t.Errorf("%d connections still open after Shutdown", ts.OpenConns())
	}
}

// TestAbruptCloses: clients that vanish mid-query or mid-line leave nothing behind.
func TestAbruptCloses(t *testing.T) {
	base := runtime.NumGoroutine()
	ts := startServer(t, loadFixture(t, bigFixture(t, 2000)), Options{})
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			nc, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Error(err)
				return
			}
			switch i % 3 {
			case 0:
				nc.Write([]byte("!!\n!a6AS-BIG\n!a6AS-B")) // cut mid-line
			case 1:
				nc.Write([]byte("!!\n" + strings.Repeat("!a6AS-BIG\n", 100)))
				nc.(*net.TCPConn).SetLinger(0) // reset instead of FIN
			case 2:
			}
			nc.Close()
		}(i)
	}
	wg.Wait()
	waitFor(t, "all connections closed", 10*time.Second, func() bool { return ts.OpenConns() == 0 })
	c := dial(t, ts.addr)
	c.send("!a6AS-BIG")
	if rep := c.reply(); rep.Kind != whois.ReplyA || strings.Count(string(rep.Data), " ")+1 != 2000 {
		t.Fatalf("after abrupt closes: %v with %d bytes", rep.Kind, len(rep.Data))
	}
	c.expectEOF()
	c.nc.Close()
	waitFor(t, "all connections closed", 10*time.Second, func() bool { return ts.OpenConns() == 0 })
	settleGoroutines(t, base, 4) // the server's own accept loop and watcher
}

// counterValue reads a counter or gauge from the server's registry ("" label: none),
// through Prometheus's own parser of the text format the server exposes.
func counterValue(t testing.TB, s *Server, name, label string) float64 {
	t.Helper()
	var b bytes.Buffer
	if _, err := s.Registry().WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(&b)
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}
