package whoisd

import (
	"bufio"
	"context"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/whois"
)

// TestLoad runs 200 concurrent bgpq4 clients against the RIPE data while hostile
// connections hit the same server: 1 MB query lines, clients that pipeline thousands
// of queries and never read, abrupt closes and idle connections. Every bgpq4 output
// must equal its output on an unloaded server, the hostile connections must be shed,
// the heap must come back to its bound, and no goroutine may leak. Bounded in rounds
// and in time.
func TestLoad(t *testing.T) {
	peer.SkipShort(t, "load test with 200 bgpq4 clients")
	prog := peer.Require(t, "bgpq4")
	ix := ripeIndex(t)
	const (
		legit      = 200
		maxPending = 1 << 20
		rounds     = 3 // round 0: hostile connections only; then hostile and legit together
	)
	opt := Options{
		MaxConns:        legit + 100,
		MaxConnsPerAddr: -1, // every client is on 127.0.0.1
		IdleTimeout:     2 * time.Second,
		WriteTimeout:    2 * time.Second,
		MaxPendingBytes: maxPending,
	}
	ts := startServer(t, ix, opt)

	// The commands and their outputs on the idle server.
	cmds := [][]string{
		{"AS-AS112"}, {"-6", "AS-AS112"}, {"-J", "AS112"}, {"-f", "112", "AS-AS112"},
		{"RIPE::AS-AS112"}, {"-L", "3", "AS-AS112"}, {"-S", "RIPE-NONAUTH", "AS112"},
	}
	for _, s := range sampleSets(t, 2500) {
		cmds = append(cmds, []string{"-A", s}, []string{"-6", "-b", s})
	}
	// The never-reading clients ask for the largest "!a4" answer of a sample, so that
	// their replies overflow the socket buffers.
	bigSet, bigLen := "", 0
	for _, s := range sampleSets(t, 100) {
		p, _, err := ix.SetPrefixes(context.Background(), nil, s, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) > bigLen {
			bigSet, bigLen = s, len(p)
		}
	}
	if bigLen < 100 {
		t.Fatalf("largest sampled set %s has only %d prefixes", bigSet, bigLen)
	}
	want := make([]string, len(cmds))
	for i, c := range cmds {
		out, stderr, code := runBGPQ4(t, prog, ts.addr, c...)
		if code != 0 {
			t.Fatalf("bgpq4 %v on the idle server: exit %d: %s", c, code, stderr)
		}
		want[i] = out
	}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	baseG := runtime.NumGoroutine()
	deadline := time.Now().Add(3 * time.Minute)
	var (
		bad                           atomic.Int64
		tooLongOK, slowDropped, total atomic.Int64
		peakHeap                      atomic.Uint64
		peakHostile, peakMixed        uint64
		peakPending                   atomic.Int64
	)
	for round := 0; round < rounds && time.Now().Before(deadline); round++ {
		nLegit := legit
		if round == 0 {
			nLegit = 0
		}
		peakHeap.Store(0)
		var wg sync.WaitGroup
		stopSampler := make(chan struct{})
		go func() { // peak of the live heap while loaded (sampled after a GC)
			for {
				var m runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peakHeap.Load() {
					peakHeap.Store(m.HeapAlloc)
				}
				if p := int64(counterValue(t, ts.Server, "bgpfilter_whois_pending_query_bytes", "")); p > peakPending.Load() {
					peakPending.Store(p)
				}
				select {
				case <-stopSampler:
					return
				case <-time.After(250 * time.Millisecond):
				}
			}
		}()
		for i := 0; i < nLegit; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				k := (i + round) % len(cmds)
				out, stderr, code := runBGPQ4(t, prog, ts.addr, cmds[k]...)
				total.Add(1)
				if code != 0 || out != want[k] {
					bad.Add(1)
					t.Errorf("under load: bgpq4 %v: exit %d, output differs:\n%s%s", cmds[k], code, out, stderr)
				}
			}(i)
		}
		for i := 0; i < 10; i++ { // 1 MB lines
			wg.Add(1)
			go func() {
				defer wg.Done()
				if hostileLongLine(ts.addr) {
					tooLongOK.Add(1)
				}
			}()
		}
		for i := 0; i < 10; i++ { // pipeline thousands of queries, never read
			wg.Add(1)
			go func() {
				defer wg.Done()
				if hostileNeverReads(ts.addr, "!a4"+bigSet, 20000) {
					slowDropped.Add(1)
				}
			}()
		}
		for i := 0; i < 20; i++ { // abrupt closes: mid-line, reset after pipelining, at once
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				hostileAbrupt(ts.addr, i%3)
			}(i)
		}
		for i := 0; i < 20; i++ { // idle: the server must close them
			wg.Add(1)
			go func() {
				defer wg.Done()
				if !hostileIdle(ts.addr, 20*time.Second) {
					t.Error("an idle connection was not closed by the server")
				}
			}()
		}
		wg.Wait()
		close(stopSampler)
		if round == 0 {
			peakHostile = peakHeap.Load()
		} else {
			peakMixed = max(peakMixed, peakHeap.Load())
		}
	}
	waitFor(t, "all connections closed", 30*time.Second, func() bool { return ts.OpenConns() == 0 })
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("load: %d bgpq4 runs (%d wrong), %d/%d 1MB-line conns refused, %d/%d never-reading conns dropped; pending query bytes peak %d KiB; heap %d MiB before, sampled peak %d MiB with hostile conns only, %d MiB with 200 bgpq4 too, after %d MiB (growth %+d KiB); goroutines %d before",
		total.Load(), bad.Load(), tooLongOK.Load(), 10*rounds, slowDropped.Load(), 10*rounds,
		peakPending.Load()>>10, before.HeapAlloc>>20, peakHostile>>20, peakMixed>>20, after.HeapAlloc>>20, growth>>10, baseG)
	if tooLongOK.Load() != int64(10*rounds) {
		t.Errorf("%d of %d 1 MB-line connections got the F reply and a close", tooLongOK.Load(), 10*rounds)
	}
	if slowDropped.Load() != int64(10*rounds) {
		t.Errorf("%d of %d never-reading connections were dropped", slowDropped.Load(), 10*rounds)
	}
	if growth > 16<<20 {
		t.Errorf("heap grew by %d MiB after the load and a GC", growth>>20)
	}
	// The server's read-ahead is bounded per connection: at most maxPending bytes of
	// queued queries for each never-reading client (the legit ones queue little).
	// The sampled heap peaks are logged, not asserted: under this allocation rate
	// (each "!a4" expands thousands of prefixes) a sample right after a GC still
	// counts garbage made in between, so it does not measure retention.
	if p := peakPending.Load(); p > 10*maxPending+1<<20 {
		t.Errorf("pending query bytes peaked at %d KiB, over 10 × %d KiB", p>>10, maxPending>>10)
	}
	if peakPending.Load() < maxPending/2 {
		t.Errorf("pending query bytes peaked at %d KiB only: the never-reading clients did not fill their queues", peakPending.Load()>>10)
	}
	if p := counterValue(t, ts.Server, "bgpfilter_whois_pending_query_bytes", ""); p != 0 {
		t.Errorf("%v pending query bytes left after all connections closed", p)
	}
	settleGoroutines(t, baseG, 2)
}

// hostileLongLine sends a 1 MB query line and reports whether the server answered F
// and closed.
func hostileLongLine(addr string) bool {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return false
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	go nc.Write([]byte("!!\n!i" + strings.Repeat("X", 1<<20) + "\n"))
	rep, err := whois.ReadReply(bufio.NewReader(nc), 1<<10)
	if err != nil || rep.Kind != whois.ReplyF || !strings.HasPrefix(rep.Msg, "Query line too long") {
		return false
	}
	_, err = io.Copy(io.Discard, nc)
	return err == nil || isReset(err)
}

// hostileNeverReads pipelines n copies of query and never reads; it reports whether
// the server dropped the connection (a write fails within a minute).
func hostileNeverReads(addr, query string, n int) bool {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return false
	}
	defer nc.Close()
	nc.(*net.TCPConn).SetReadBuffer(4096)
	var b strings.Builder
	b.WriteString("!!\n")
	for i := 0; i < n; i++ {
		b.WriteString(query + "\n")
	}
	nc.SetWriteDeadline(time.Now().Add(time.Minute))
	nc.Write([]byte(b.String())) // returns once the server stops reading or drops us
	// Wait for the drop without reading answers: a zero-length peek is not possible
	// on TCP, so poll the connection state through a write.
	end := time.Now().Add(time.Minute)
	for time.Now().Before(end) {
		nc.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := nc.Write([]byte("!v\n")); err != nil && !isTimeout(err) {
			return true // broken pipe or reset: the server closed us
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// hostileAbrupt closes in three ways: mid-line, with a reset after pipelining, or at
// once.
func hostileAbrupt(addr string, how int) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return
	}
	switch how {
	case 0:
		nc.Write([]byte("!!\n!a4AS-AS112\n!iAS-AS1"))
	case 1:
		nc.Write([]byte("!!\n" + strings.Repeat("!gas112\n", 1000)))
		nc.(*net.TCPConn).SetLinger(0)
	}
	nc.Close()
}

// hostileIdle opens a persistent connection and sends nothing more; it reports
// whether the server closed it within max.
func hostileIdle(addr string, max time.Duration) bool {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return false
	}
	defer nc.Close()
	nc.Write([]byte("!!\n"))
	nc.SetReadDeadline(time.Now().Add(max))
	_, err = io.Copy(io.Discard, nc)
	return err == nil || isReset(err)
}
