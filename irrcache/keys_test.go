package irrcache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
	"github.com/bgpfilter/bgpfilter/internal/whoisfault"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/whois"
)

// countingPrefixes counts SetPrefixes calls (it hides the client's KeyQuerier, so the
// cache converts; the keys path of the client is tested in package whois).
type countingPrefixes struct {
	irr.Querier
	calls int
}

func (c *countingPrefixes) SetPrefixes(ctx context.Context, s []string, n string, v6 bool) ([]netip.Prefix, bool, error) {
	c.calls++
	return c.Querier.SetPrefixes(ctx, s, n, v6)
}

func keysData() *whoisfault.Data {
	d := data()
	var big []string
	for i := 0; i < 3000; i++ {
		big = append(big, fmt.Sprintf("10.%d.%d.0/24", i>>8, i&0xff))
	}
	big = append(big, "192.0.2.77/24", "0.0.0.0/0", "203.0.113.0/32") // host bits, /0, /32
	d.A4["AS-BIG"] = big
	d.A6["AS-BIG"] = []string{"2001:db8:1::/48", "2001:db8::1/32", "::/0"}
	return d
}

// TestCacheSetPrefixKeys: "!a" answers as keys are stored in the binary entries, served
// within the TTL without asking, equal to the server's SetPrefixes answer (masked,
// sorted), per family, served stale when every server fails, and ignored with a
// warning when damaged.
func TestCacheSetPrefixKeys(t *testing.T) {
	ctx := context.Background()
	srv := whoisfault.Start(t, keysData(), whoisfault.Fault{})
	up := whois.NewClient(srv.Addr(), fast())
	defer up.Close()
	down := whois.NewClient(whoisfault.Refused(t), fast())
	clk := &clock{t: time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC)}
	var logBuf bytes.Buffer
	inner := &countingPrefixes{Querier: up}
	c, err := New(inner, Options{Dir: t.TempDir(), Server: "test", TTL: time.Hour, StaleOnFailure: 48 * time.Hour,
		Logger: slog.New(slog.NewTextHandler(&logBuf, nil)), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	for _, v6 := range []bool{false, true} {
		ps, found, err := up.SetPrefixes(ctx, nil, "AS-BIG", v6)
		if err != nil || !found {
			t.Fatalf("server: %v %v", found, err)
		}
		want := pfxkey.ListOf(ps, v6)
		if n := want.Len(); v6 && n != 3 || !v6 && n != 3003 {
			t.Fatalf("v6=%v: %d prefixes from the server", v6, n)
		}
		calls := inner.calls
		for i := 0; i < 2; i++ { // a miss, then a hit
			got, found, err := c.SetPrefixKeys(ctx, nil, "AS-BIG", v6)
			if err != nil || !found || !slices.Equal(got.Prefixes(), want.Prefixes()) || got.V6 != v6 {
				t.Fatalf("v6=%v round %d: %d keys, found %v, %v", v6, i, got.Len(), found, err)
			}
		}
		if inner.calls != calls+1 {
			t.Fatalf("v6=%v: %d calls for a miss and a hit", v6, inner.calls-calls)
		}
	}
	if _, found, err := c.SetPrefixKeys(ctx, nil, "AS-NOPE", false); err != nil || found {
		t.Fatalf("unknown set: %v %v", found, err)
	}
	if strings.Contains(logBuf.String(), "WARN") {
		t.Fatalf("warnings: %s", logBuf.String())
	}

	// Stale: every server down after the TTL.
	clk.t = clk.t.Add(3 * time.Hour)
	inner.Querier = down
	got, found, err := c.SetPrefixKeys(ctx, nil, "AS-BIG", false)
	if err != nil || !found || got.Len() != 3003 || c.StaleCount() != 1 {
		t.Fatalf("stale: %d keys, %v, %v, %d stale", got.Len(), found, err, c.StaleCount())
	}

	// Damaged: a flipped byte, and a payload out of order under a valid checksum.
	p := c.pathExt(c.keyFor("setprefixkeys", nil, "AS-BIG", "4"), ".keys")
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{"flipped": flip(good), "out of order": reorder(t, good)} {
		logBuf.Reset()
		if err := os.WriteFile(p, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.SetPrefixKeys(ctx, nil, "AS-BIG", false); !errors.Is(err, irr.ErrUnavailable) {
			t.Fatalf("%s: damaged entry served: %v", name, err)
		}
		if !strings.Contains(logBuf.String(), "damaged cache entry") {
			t.Fatalf("%s: no warning: %s", name, logBuf.String())
		}
	}
}

func flip(b []byte) []byte {
	b = bytes.Clone(b)
	b[len(b)-4] ^= 0x40
	return b
}

// reorder swaps the first two records of an IPv4 entry and recomputes the checksum,
// so that only decodeKeys' order check can refuse it.
func reorder(t *testing.T, b []byte) []byte {
	rest := bytes.TrimPrefix(b, []byte(keysMagic))
	line, payload, _ := bytes.Cut(rest, []byte("\n"))
	payload = bytes.Clone(bytes.TrimSuffix(payload, []byte("\n")))
	var h header
	if err := json.Unmarshal(line, &h); err != nil {
		t.Fatal(err)
	}
	off := 1 + 2 // flags, a two-byte uvarint count (3003)
	r0 := slices.Clone(payload[off : off+5])
	copy(payload[off:off+5], payload[off+5:off+10])
	copy(payload[off+5:off+10], r0)
	sum := sha256.Sum256(payload)
	h.SHA256 = hex.EncodeToString(sum[:])
	hl, _ := json.Marshal(h)
	return slices.Concat([]byte(keysMagic), hl, []byte("\n"), payload, []byte("\n"))
}

// FuzzDecodeKeys: any payload either fails or decodes to a masked, sorted, distinct
// list that encodes back to exactly the same bytes (one encoding per answer).
func FuzzDecodeKeys(f *testing.F) {
	for _, l := range []pfxkey.List{
		pfxkey.ListOf([]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("0.0.0.0/0")}, false),
		pfxkey.ListOf([]netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}, true),
		{},
	} {
		b, _ := encodeKeys(keysAnswer{keys: l, found: true})
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var a keysAnswer
		if decodeKeys(b, &a) != nil {
			return
		}
		if !slices.Equal(pfxkey.ListOf(a.keys.Prefixes(), a.keys.V6).Prefixes(), a.keys.Prefixes()) {
			t.Fatalf("decoded keys not masked, sorted and distinct: %v", a.keys.Prefixes())
		}
		again, _ := encodeKeys(a)
		if !bytes.Equal(again, b) {
			t.Fatalf("%x decodes to an answer that encodes to %x", b, again)
		}
	})
}
