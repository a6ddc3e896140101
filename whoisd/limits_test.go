package whoisd

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/whois"
)

// TestIdleTimeoutIsUpperBound: "!t" may lower the idle timeout but never raise it
// past the server's IdleTimeout, so a client cannot hold a slot for 1000 s.
func TestIdleTimeoutIsUpperBound(t *testing.T) {
	ts := startServer(t, smallIndex(t), Options{IdleTimeout: 500 * time.Millisecond})
	c := dial(t, ts.addr)
	c.send("!!", "!t1000")
	if rep := c.reply(); rep.Kind != whois.ReplyC {
		t.Fatalf("!t1000: %+v, want C", rep)
	}
	start := time.Now()
	c.expectEOF()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("connection with !t1000 closed after %v, want about the server's 500ms", d)
	}
}

// dialFrom connects to addr from the loopback address local (any 127.0.0.0/8 address
// is usable on Linux), so that per-address limits can be tested on one host.
func dialFrom(t *testing.T, local, addr string) *client {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, local, err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	return newClient(t, nc)
}

// TestPerAddressLimit: silent connections from one address cannot take every slot.
// With the default options (256 slots, 32 per address) the 33rd connection from
// 127.0.0.1 is refused with an F reply while 127.0.0.2 is still served; when one of
// the first 32 closes, 127.0.0.1 may connect again.
func TestPerAddressLimit(t *testing.T) {
	ts := startServer(t, smallIndex(t), Options{})
	var held []*client
	for i := 0; i < 32; i++ {
		c := dialFrom(t, "127.0.0.1", ts.addr)
		c.send("!!") // persistent and silent
		held = append(held, c)
	}
	waitFor(t, "32 open connections", 5*time.Second, func() bool { return ts.OpenConns() == 32 })
	over := dialFrom(t, "127.0.0.1", ts.addr)
	if rep := over.reply(); rep.Kind != whois.ReplyF || rep.Msg != "Too many connections from your address, try again later" {
		t.Fatalf("33rd connection from 127.0.0.1 got %+v, want the per-address F reply", rep)
	}
	over.expectEOF()
	other := dialFrom(t, "127.0.0.2", ts.addr)
	other.send("!gas64496")
	if rep := other.reply(); rep.Kind != whois.ReplyA {
		t.Fatalf("connection from 127.0.0.2 while 127.0.0.1 is at its limit got %+v", rep)
	}
	held[0].send("!q")
	held[0].expectEOF()
	waitFor(t, "a slot of 127.0.0.1 freed", 5*time.Second, func() bool { return ts.OpenConns() == 31 })
	again := dialFrom(t, "127.0.0.1", ts.addr)
	again.send("!gas64496")
	if rep := again.reply(); rep.Kind != whois.ReplyA {
		t.Fatalf("connection from 127.0.0.1 after one of its slots freed got %+v", rep)
	}
	if got := counterValue(t, ts.Server, "bgpfilter_whois_connections_rejected_total", ""); got != 1 {
		t.Errorf("rejected = %v, want 1", got)
	}
}

// TestPerAddressLimitOption: MaxConnsPerAddr sets the limit; a negative value turns
// it off (MaxConns still applies).
func TestPerAddressLimitOption(t *testing.T) {
	for _, tc := range []struct {
		perAddr, open int
		refused       bool
	}{
		{perAddr: 2, open: 2, refused: true},
		{perAddr: -1, open: 40, refused: false},
	} {
		t.Run(fmt.Sprint(tc.perAddr), func(t *testing.T) {
			ts := startServer(t, smallIndex(t), Options{MaxConnsPerAddr: tc.perAddr})
			for i := 0; i < tc.open; i++ {
				dialFrom(t, "127.0.0.1", ts.addr).send("!!")
			}
			waitFor(t, "open connections", 5*time.Second, func() bool { return ts.OpenConns() == tc.open })
			c := dialFrom(t, "127.0.0.1", ts.addr)
			c.send("!gas64496")
			rep := c.reply()
			if got := rep.Kind == whois.ReplyF; got != tc.refused {
				t.Fatalf("connection %d with MaxConnsPerAddr %d got %+v, refused = %v", tc.open+1, tc.perAddr, rep, tc.refused)
			}
		})
	}
}

// bulkyRoutesFixture writes n route6 objects in 2001:db8::/32 whose text is about
// size bytes each (remarks lines), so that "!r2001:db8::/32,M" is an object answer
// of about n × size bytes.
func bulkyRoutesFixture(t testing.TB, n, size int) string {
	t.Helper()
	var b strings.Builder
	line := "remarks:        " + strings.Repeat("x", 60) + "\n"
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "route6: 2001:db8:%x::/48\norigin: AS64496\n", i)
		for j := 0; j < size/len(line); j++ {
			b.WriteString(line)
		}
		b.WriteString("source: TEST\n\n")
	}
	p := filepath.Join(t.TempDir(), "bulky.db")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadStalledObjectAnswers: 10 clients ask for a 4 MB object answer
// ("!r…,M") and never read. While they are stalled (the server blocked writing to
// each of them), the live heap after a GC may hold only the per-connection buffers,
// not the answers: at most 1 MiB per stalled connection.
func TestLoadStalledObjectAnswers(t *testing.T) {
	const (
		objects = 400
		size    = 10000
		clients = 10
	)
	ix := loadFixture(t, bulkyRoutesFixture(t, objects, size))
	ts := startServer(t, ix, Options{WriteTimeout: 10 * time.Minute, MaxObjects: objects})

	// One reading client first: the answer is complete and as large as intended.
	c := dial(t, ts.addr)
	c.send("!r2001:db8::/32,M")
	rep := c.reply()
	if rep.Kind != whois.ReplyA || strings.Count(string(rep.Data), "route6:") != objects || len(rep.Data) < objects*size {
		t.Fatalf("!r2001:db8::/32,M: %v with %d bytes, %d objects; want A with %d objects of about %d bytes", rep.Kind, len(rep.Data), strings.Count(string(rep.Data), "route6:"), objects, size)
	}
	c.expectEOF()

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < clients; i++ {
		nc, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		nc.(*net.TCPConn).SetReadBuffer(4096)
		if _, err := nc.Write([]byte("!r2001:db8::/32,M\n")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every stalled client connected", 10*time.Second, func() bool { return ts.OpenConns() == clients })
	stalled := quietHeap(t)
	growth := int64(stalled.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("live heap %d KiB before, %d KiB with %d stalled %d-byte answers (%+d KiB, %d KiB per connection)",
		before.HeapAlloc>>10, stalled.HeapAlloc>>10, clients, objects*size, growth>>10, growth/clients>>10)
	if growth > clients<<20 {
		t.Errorf("the live heap grew by %d MiB with %d stalled clients: over 1 MiB per connection, so answers are held whole", growth>>20, clients)
	}
	if ts.OpenConns() != clients {
		t.Errorf("%d connections open, want the %d stalled clients", ts.OpenConns(), clients)
	}
}

// quietHeap waits until the process stops allocating (every server goroutine blocked,
// e.g. writing to clients that do not read), then returns the live heap after a GC.
// Measuring while goroutines still allocate would count their garbage.
func quietHeap(t testing.TB) runtime.MemStats {
	t.Helper()
	var last runtime.MemStats
	runtime.ReadMemStats(&last)
	waitFor(t, "the server to stop allocating", 5*time.Minute, func() bool {
		time.Sleep(300 * time.Millisecond)
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		quiet := m.TotalAlloc-last.TotalAlloc < 256<<10
		last = m
		return quiet
	})
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

// TestIdleTimeoutCountsPartialLines: bytes of a query line still arriving are
// activity. A client (or a loaded machine's TCP stack) that delivers one line in
// pieces spread over more than the idle timeout is answered, not closed as idle; a
// connection that stops sending mid-line is still closed one idle timeout after its
// last byte. This is how TestLoad's 1 MB query lines were closed as "idle" instead of
// getting their F reply when the machine was busy.
func TestIdleTimeoutCountsPartialLines(t *testing.T) {
	const idle = 300 * time.Millisecond
	ts := startServer(t, smallIndex(t), Options{IdleTimeout: idle})
	c := dial(t, ts.addr)
	c.send("!!")
	for _, piece := range []string{"!g", "as64", "496"} { // 3 × 200 ms: twice the timeout
		if _, err := c.nc.Write([]byte(piece)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.send("")
	if rep := c.reply(); rep.Kind != whois.ReplyA {
		t.Fatalf("a query line sent in pieces over 600ms (idle timeout %v): %+v", idle, rep)
	}
	// Stop mid-line: closed about one idle timeout after the last byte.
	if _, err := c.nc.Write([]byte("!gas64")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.expectEOF()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a connection silent mid-line closed after %v, want about %v", d, idle)
	}
}
