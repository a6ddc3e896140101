package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/whois"
)

// TestWhoisServerMirror sets up a mirror with `bgpfilter mirror`, then serves it with
// `whois-server --mirror DIR` and no --irr file: the served data is the mirror's.
func TestWhoisServerMirror(t *testing.T) {
	dump := filepath.Join(peer.RepoRoot(t), "mirror", "testdata", "doc.db")
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"bgpfilter", "mirror", "--dir", dir, "--source", "TEST",
		"--dump", dump, "--serial", "1", "--once"}, &out, &errb); code != ExitOK {
		t.Fatalf("mirror setup exited %d: %s", code, errb.String())
	}

	addr := startWhoisServer(t, "--quiet", "whois-server", "--listen", "127.0.0.1:0", "--mirror", dir).addr
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(nc, "!!\n!s-lc\n!gas64496\n!iAS-DOC,1\n!6as64497\n!q\n")
	br := bufio.NewReader(nc)
	for _, want := range []string{"TEST", "192.0.2.0/24", "AS64496 AS64497 AS65536", "2001:db8::/32"} {
		rep, err := whois.ReadReply(br, 1<<20)
		if err != nil {
			t.Fatalf("reading answer (want %q): %v", want, err)
		}
		if string(rep.Data) != want {
			t.Errorf("answer %q, want %q", rep.Data, want)
		}
	}
}
