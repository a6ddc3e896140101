// Package whoistest runs the IRRd-protocol endpoints that tests point the real bgpq4
// at: bgpfilter's own whois server in process (Serve), and a handshake-only endpoint
// for runs whose objects are all literal prefixes (Handshake). Both listen on
// 127.0.0.1 on a free port and stop at the test's cleanup. Run bgpq4 against them
// with peer.BGPQ4 or peer.RunBGPQ4.
package whoistest

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/whoisd"
)

// Serve starts a whoisd.Server for b with opt on a free 127.0.0.1 port and returns
// its address. At cleanup it cancels the server and waits (15 s at most) for Serve
// to return, failing the test if Serve returned an error.
func Serve(t testing.TB, b whoisd.Backend, opt whoisd.Options) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("whoistest: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	srv := whoisd.New(b, opt)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("whoistest: whois server: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("whoistest: whois server did not stop after cancel")
		}
	})
	return ln.Addr().String()
}

// Handshake starts an endpoint on a free 127.0.0.1 port that answers exactly the
// queries bgpq4 sends when every object is a literal prefix or range (no data query
// is made): "!!" (no reply), "!n…" → C, "!s-lc" → "A5 TEST C", "!s…" → C, "!q" →
// close, anything else → D. It is an IRRd protocol endpoint for bgpq4's session
// script, not a stand-in for data: it serves one empty source, TEST. It returns the
// address and closes the listener at cleanup.
func Handshake(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("whoistest: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go handshake(c)
		}
	}()
	return ln.Addr().String()
}

func handshake(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch line = strings.TrimSpace(line); {
		case line == "!!":
		case line == "!q":
			return
		case line == "!s-lc":
			_, _ = c.Write([]byte("A5\nTEST\nC\n"))
		case strings.HasPrefix(line, "!n"), strings.HasPrefix(line, "!s"):
			_, _ = c.Write([]byte("C\n"))
		default:
			_, _ = c.Write([]byte("D\n"))
		}
	}
}
