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

// lockedBuffer is a bytes.Buffer safe for the server goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestWhoisServerCommand starts the command in-process on a free port, queries it,
// scrapes its metrics, and stops it with a context cancel (what SIGINT does).
func TestWhoisServerCommand(t *testing.T) {
	db := filepath.Join(peer.RepoRoot(t), "whoisd", "testdata", "small.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"bgpfilter", "--irr", db, "--quiet", "whois-server",
			"--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--max-conns", "4"}, &stdout, &stderr)
	}()
	listenRe := regexp.MustCompile(`whois-server: listening on (\S+)`)
	metricsRe := regexp.MustCompile(`metrics on (http://\S+)`)
	var addr, murl string
	deadline := time.Now().Add(20 * time.Second)
	for addr == "" {
		if m := listenRe.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
			murl = metricsRe.FindStringSubmatch(stderr.String())[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("whois-server exited %d: %s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listen address on stderr: %q", stderr.String())
		}
	}
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
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("exit %d after cancel: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("whois-server did not stop after cancel")
	}
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
