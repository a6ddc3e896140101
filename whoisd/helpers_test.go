package whoisd

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/whois"
)

// loadFixture loads RPSL files into an irr.Index.
func loadFixture(t testing.TB, paths ...string) *irr.Index {
	t.Helper()
	ix, _, err := irr.Load(context.Background(), paths, irr.LoadOptions{Strict: true})
	if err != nil {
		t.Fatalf("load %v: %v", paths, err)
	}
	return ix
}

func smallIndex(t testing.TB) *irr.Index {
	return loadFixture(t, filepath.Join("testdata", "small.db"))
}

// testServer is a Server on a loopback port, shut down at cleanup.
type testServer struct {
	*Server
	addr   string
	cancel context.CancelFunc
	served chan error
}

func startServer(t testing.TB, b Backend, opt Options) *testServer {
	t.Helper()
	if opt.Logger == nil && os.Getenv("WHOISD_TEST_LOG") != "" {
		opt.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: New(b, opt), addr: ln.Addr().String(), cancel: cancel, served: make(chan error, 1)}
	go func() { ts.served <- ts.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-ts.served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Serve did not return after cancel")
		}
	})
	return ts
}

// client is a raw test connection that reads replies with the strict reader.
type client struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	return newClient(t, nc)
}

func newClient(t testing.TB, nc net.Conn) *client {
	return &client{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *client) send(lines ...string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, strings.Join(lines, "\n")+"\n"); err != nil {
		c.t.Fatalf("send %q: %v", lines, err)
	}
}

func (c *client) reply() whois.Reply {
	c.t.Helper()
	r, err := whois.ReadReply(c.br, 64<<20)
	if err != nil {
		c.t.Fatalf("read reply: %v", err)
	}
	return r
}

// expectEOF checks that the server closes the connection without sending more.
func (c *client) expectEOF() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(c.br)
	if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		c.t.Fatalf("waiting for close: %v (after %q)", err, rest)
	}
	if len(rest) > 0 {
		c.t.Fatalf("unexpected bytes before close: %q", rest)
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settleGoroutines waits until the goroutine count drops to at most base+slack.
func settleGoroutines(t testing.TB, base, slack int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base+slack {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutine leak: %d goroutines, %d before\n%s", n, base, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
