package whoisd

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/whois"
)

var (
	fuzzOnce sync.Once
	fuzzAddr string
)

// FuzzSession sends arbitrary client bytes to a live server (one per fuzz process,
// small fixture, small limits). The server must never crash or hang: it answers and
// closes within seconds, and when the input is a "!!" session of IRRd queries only,
// everything it sends is well-framed IRRd replies.
func FuzzSession(f *testing.F) {
	for _, s := range []string{
		"!!\n!nfuzz\n!a\n!s-lc\n!iAS-TEST,1\n!gas64496\n!6as64496\n!a4AS-TEST\n!aRS-TEST\n!q\n",
		"!!\n!sTEST2\n!iAS-SMALL\n!sNOPE\n!r192.0.2.0/24,M\n!maut-num,AS64496\n!t1\n!v\n",
		"AS-SMALL\r\n", "-k -s TEST2 AS-SMALL\r\n-T route 192.0.2.1\r\n", "!!\n!i" + string(bytes.Repeat([]byte("A"), 600)) + "\n",
		"\x00\xff!!\n\n\n!", "!!\r\n!gAS1.2.3\r\n!r::/0,L\r\n",
	} {
		f.Add([]byte(s))
	}
	fuzzOnce.Do(func() {
		ts := startServer(f, smallIndex(f), Options{MaxLineLen: 512, IdleTimeout: 2 * time.Second,
			WriteTimeout: 2 * time.Second, MaxPendingBytes: 64 << 10, MaxObjects: 10})
		fuzzAddr = ts.addr
	})
	f.Fuzz(func(t *testing.T, in []byte) {
		nc, err := net.DialTimeout("tcp", fuzzAddr, 5*time.Second)
		if err != nil {
			t.Fatalf("server gone: %v", err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			nc.Write(in)
			nc.(*net.TCPConn).CloseWrite()
		}()
		out, err := io.ReadAll(nc)
		if err != nil && !isReset(err) {
			t.Fatalf("session %q: %v (after %q)", in, err, out)
		}
		if !irrdOnly(in) {
			return
		}
		br := bufio.NewReader(bytes.NewReader(out))
		for {
			_, err := whois.ReadReply(br, 1<<20)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("session %q: mis-framed output %q: %v", in, out, err)
			}
		}
	})
}

// irrdOnly reports whether in is "!!" followed by "!" queries only (no RIPE-style
// text query, whose answers are not framed), every line shorter than the limit.
func irrdOnly(in []byte) bool {
	lines := bytes.Split(in, []byte("\n"))
	if len(lines) == 0 || string(bytes.TrimSpace(lines[0])) != "!!" {
		return false
	}
	for _, l := range lines {
		if len(l) > 500 {
			return false
		}
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '!' {
			return false
		}
	}
	return true
}
