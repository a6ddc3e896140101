package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/whois"
)

// whoisServer is a `bgpfilter … whois-server` command running in process.
type whoisServer struct {
	addr           string // from its "whois-server: listening on ADDR" line
	stdout, stderr peer.SyncBuffer
	cancel         context.CancelFunc
	done           chan int
	once           sync.Once
}

// startWhoisServer runs the command line args (after "bgpfilter") in process and waits
// (20 s at most) for its "listening on" line on stderr; the test fails if the command
// exits first. Stop, also registered with t.Cleanup, ends it.
func startWhoisServer(t *testing.T, args ...string) *whoisServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &whoisServer{cancel: cancel, done: make(chan int, 1)}
	go func() { s.done <- Run(ctx, append([]string{"bgpfilter"}, args...), &s.stdout, &s.stderr) }()
	t.Cleanup(func() { s.stop(t) })
	listenRe := regexp.MustCompile(`whois-server: listening on (\S+)`)
	for deadline := time.Now().Add(20 * time.Second); ; {
		if m := listenRe.FindStringSubmatch(s.stderr.String()); m != nil {
			s.addr = m[1]
			return s
		}
		select {
		case code := <-s.done:
			t.Fatalf("whois-server exited %d: %s", code, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listen address on stderr: %q", s.stderr.String())
		}
	}
}

// stop cancels the command (what SIGINT does) and requires it to exit ExitOK within
// 20 s. Only the first call does anything.
func (s *whoisServer) stop(t *testing.T) {
	t.Helper()
	s.once.Do(func() {
		s.cancel()
		select {
		case code := <-s.done:
			if code != ExitOK {
				t.Errorf("whois-server exited %d after cancel: %s", code, s.stderr.String())
			}
		case <-time.After(20 * time.Second):
			t.Error("whois-server did not stop after cancel")
		}
	})
}

// TestWhoisServerCommand starts the command in-process on a free port, queries it,
// scrapes its metrics, and stops it with a context cancel (what SIGINT does).
func TestWhoisServerCommand(t *testing.T) {
	db := filepath.Join(peer.RepoRoot(t), "whoisd", "testdata", "small.db")
	srv := startWhoisServer(t, "--irr", db, "--quiet", "whois-server",
		"--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--max-conns", "4")
	addr := srv.addr
	murl := regexp.MustCompile(`metrics on (http://\S+)`).FindStringSubmatch(srv.stderr.String())[1]
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(nc, "!!\n!s-lc\n!gas64496\n!q\n")
	br := bufio.NewReader(nc)
	for _, want := range []string{"TEST,TEST2", "192.0.2.0/24 192.0.2.0/25"} {
		rep, err := whois.ReadReply(br, 1<<20)
		if err != nil || string(rep.Data) != want {
			t.Fatalf("reply %+v, %v; want %q", rep, err, want)
		}
	}
	resp, err := http.Get(murl)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `bgpfilter_whois_queries_total{type="routes"} 1`) {
		t.Errorf("metrics lack the routes query:\n%s", body)
	}
	srv.stop(t)
}

// TestWhoisServerPerAddrLimit: --max-conns-per-addr reaches the server: with 1, a
// second connection from 127.0.0.1 is refused while the first is open, and one from
// 127.0.0.2 is served.
func TestWhoisServerPerAddrLimit(t *testing.T) {
	db := filepath.Join(peer.RepoRoot(t), "whoisd", "testdata", "small.db")
	srv := startWhoisServer(t, "--irr", db, "--quiet", "whois-server",
		"--listen", "127.0.0.1:0", "--max-conns-per-addr", "1")
	dialFrom := func(local string) (net.Conn, *bufio.Reader) {
		d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
		nc, err := d.Dial("tcp", srv.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		return nc, bufio.NewReader(nc)
	}
	first, br1 := dialFrom("127.0.0.1")
	io.WriteString(first, "!!\n!nfirst\n")
	if rep, err := whois.ReadReply(br1, 1<<10); err != nil || rep.Kind != whois.ReplyC {
		t.Fatalf("first connection: %+v, %v", rep, err)
	}
	second, br2 := dialFrom("127.0.0.1")
	io.WriteString(second, "!gas64496\n")
	if rep, err := whois.ReadReply(br2, 1<<10); err != nil || rep.Kind != whois.ReplyF || !strings.Contains(rep.Msg, "from your address") {
		t.Fatalf("second connection from 127.0.0.1: %+v, %v; want the per-address F reply", rep, err)
	}
	other, br3 := dialFrom("127.0.0.2")
	io.WriteString(other, "!gas64496\n")
	if rep, err := whois.ReadReply(br3, 1<<10); err != nil || rep.Kind != whois.ReplyA {
		t.Fatalf("connection from 127.0.0.2: %+v, %v", rep, err)
	}
	srv.stop(t)
}

func TestWhoisServerUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no data", []string{"bgpfilter", "whois-server"}, ExitUsage, "no IRR data"},
		{"remote data", []string{"bgpfilter", "--irr", "whois://whois.radb.net", "whois-server"}, ExitUsage, "local RPSL files"},
		{"bad max-conns", []string{"bgpfilter", "--irr", "x.db", "whois-server", "--max-conns", "0"}, ExitUsage, "--max-conns"},
		{"bad max-conns-per-addr", []string{"bgpfilter", "--irr", "x.db", "whois-server", "--max-conns-per-addr", "-1"}, ExitUsage, "--max-conns-per-addr"},
		{"missing file", []string{"bgpfilter", "--irr", "/nonexistent/x.db", "whois-server"}, ExitUnavailable, "nonexistent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.msg)
			}
		})
	}
}
