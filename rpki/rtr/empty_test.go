package rtr

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// Issue 12 item 2: a cache that answers Cache Response then End of Data with
// nothing in between gave an empty table, so drop-invalid dropped nothing. Real
// stayrtr serving a file without VRPs; refused unless AllowEmpty.
func TestStayRTREmptyRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "vrps.json")
	vrpFile(t, file, "", "", "")
	addr := peer.StartStayRTR(t, file)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := Fetch(ctx, addr, rpki.Options{}, nil)
	if !errors.Is(err, rpki.ErrEmpty) || !strings.Contains(err.Error(), "rtr://"+addr) {
		t.Fatalf("empty cache: err = %v, want ErrEmpty naming the cache", err)
	}
	tb, err := Fetch(ctx, addr, rpki.Options{AllowEmpty: true}, nil)
	if err != nil {
		t.Fatalf("AllowEmpty: %v", err)
	}
	if n4, n6 := tb.Len(); n4+n6 != 0 {
		t.Errorf("AllowEmpty: %d VRPs", n4+n6)
	}
}

// fakeCache answers the first query on a loopback listener with the given PDUs
// and then reads until the client closes (collecting what the client sent).
func fakeCache(t *testing.T, answer ...PDU) (addr string, sent <-chan []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan []byte, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			ch <- nil
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		q := make([]byte, 8) // Reset Query
		if _, err := io.ReadFull(conn, q); err != nil {
			ch <- nil
			return
		}
		var out []byte
		for _, p := range answer {
			out = p.Append(out)
		}
		conn.Write(out)
		rest, _ := io.ReadAll(conn)
		ch <- rest
	}()
	return ln.Addr().String(), ch
}

// Issue 12 item 12: End of Data whose session differs from the Cache Response's
// was accepted. It is refused with an Error Report; the same answer with the
// matching session is accepted (so the fake cache is not the reason).
func TestEndOfDataSessionMismatch(t *testing.T) {
	pfx := Prefix{Version: 1, Flags: 1, Prefix: mustPrefix("192.0.2.0/24"), MaxLen: 24, ASN: 64496}
	cases := []struct {
		name    string
		eodSess uint16
		wantErr bool
	}{
		{"same session", 7, false},
		{"different session", 8, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr, sent := fakeCache(t, CacheResponse{Version: 1, Session: 7}, pfx,
				EndOfData{Version: 1, Session: c.eodSess, Serial: 1, Refresh: 3600, Retry: 600, Expire: 7200})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cl := &Client{Addr: addr, MaxVersion: 1}
			err := cl.Reset(ctx)
			cl.Close()
			got := <-sent
			if !c.wantErr {
				if err != nil {
					t.Fatalf("Reset: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "session 8") || !strings.Contains(err.Error(), "had 7") {
				t.Fatalf("Reset: err = %v, want a session mismatch", err)
			}
			if p, _, derr := Decode(got); derr != nil {
				t.Errorf("client sent no Error Report: %v (% x)", derr, got)
			} else if e, ok := p.(ErrorReport); !ok || e.Code != ErrCorruptData {
				t.Errorf("client sent %#v, want an Error Report (corrupt data)", p)
			}
			if _, err := cl.Table(rpki.Options{}); err == nil {
				t.Errorf("Table after a refused answer succeeded")
			}
		})
	}
}
