package irrcache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/whoisfault"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/whois"
)

func data() *whoisfault.Data {
	return &whoisfault.Data{
		Sources:   []string{"RIPE", "RADB"},
		Members:   map[string][]string{"AS-CUST": {"AS64496", "AS64497"}},
		Recursive: map[string][]string{"AS-CUST": {"AS64496", "AS64497"}},
		A4:        map[string][]string{"AS-CUST": {"192.0.2.0/24", "198.51.100.0/24"}},
		A6:        map[string][]string{"AS-CUST": {"2001:db8::/32"}},
		Routes4:   map[uint32][]string{64496: {"192.0.2.0/24"}, 64497: {"198.51.100.0/24"}},
		Routes6:   map[uint32][]string{64496: {"2001:db8::/32"}},
	}
}

// switchable forwards to the client currently set, counting calls; tests swap a
// healthy server for a dead one between runs.
type switchable struct {
	irr.Querier
	calls int
}

func (s *switchable) Members(ctx context.Context, src []string, n string, r bool) ([]string, bool, error) {
	s.calls++
	return s.Querier.Members(ctx, src, n, r)
}

func (s *switchable) Routes(ctx context.Context, src []string, a []routing.ASN, v6 bool) ([][]netip.Prefix, error) {
	s.calls++
	return s.Querier.Routes(ctx, src, a, v6)
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func fast() whois.ClientOptions {
	return whois.ClientOptions{ConnectTimeout: 300 * time.Millisecond, QueryTimeout: 300 * time.Millisecond}
}

func TestCacheTTLAndStale(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv := whoisfault.Start(t, data(), whoisfault.Fault{})
	up := whois.NewClient(srv.Addr(), fast())
	defer up.Close()
	down := whois.NewClient(whoisfault.Refused(t), fast())
	clk := &clock{t: time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)}
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	inner := &switchable{Querier: up}
	c, err := New(inner, Options{Dir: dir, Server: "test", TTL: time.Hour, StaleOnFailure: 48 * time.Hour, Logger: log, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	asns := []routing.ASN{64497, 64496}
	want, err := c.Routes(ctx, []string{"RIPE"}, asns, false)
	if err != nil || len(want) != 2 || want[0][0] != netip.MustParsePrefix("198.51.100.0/24") {
		t.Fatalf("Routes = %v, %v", want, err)
	}
	m, found, err := c.Members(ctx, nil, "AS-CUST", true)
	if err != nil || !found || len(m) != 2 {
		t.Fatalf("Members = %v %v %v", m, found, err)
	}
	if _, found, err := c.Members(ctx, nil, "AS-NOPE", true); err != nil || found {
		t.Fatalf("unknown set: %v %v", found, err)
	}
	if inner.calls != 3 {
		t.Fatalf("inner calls = %d, want 3", inner.calls)
	}

	// Within the TTL: no query reaches the server.
	clk.t = clk.t.Add(30 * time.Minute)
	got, err := c.Routes(ctx, []string{"ripe"}, asns, false)
	if err != nil || inner.calls != 3 || c.Hits() != 1 || !slices.Equal(got[1], want[1]) {
		t.Fatalf("TTL hit: calls=%d hits=%d err=%v got=%v", inner.calls, c.Hits(), err, got)
	}
	// A different batch, sources or family is another entry.
	if _, err := c.Routes(ctx, []string{"RADB"}, asns, false); err != nil || inner.calls != 4 {
		t.Fatalf("other sources: calls=%d err=%v", inner.calls, err)
	}

	// After the TTL, with every server down: the stale answer, loudly.
	clk.t = clk.t.Add(24 * time.Hour)
	inner.Querier = down
	got, err = c.Routes(ctx, []string{"RIPE"}, asns, false)
	if err != nil || !slices.Equal(got[0], want[0]) {
		t.Fatalf("stale Routes = %v, %v", got, err)
	}
	if _, found, err := c.Members(ctx, nil, "AS-NOPE", true); err != nil || found {
		t.Fatalf("stale negative answer: %v %v", found, err)
	}
	uses := c.StaleUses()
	if len(uses) != 2 || uses[0].Query != "!gas64497 (+1 more) [RIPE]" || uses[0].Age != "24h30m0s" || !strings.Contains(uses[0].Cause, "connect") {
		t.Fatalf("StaleUses = %+v", uses)
	}
	if n := strings.Count(logBuf.String(), "STALE IRR DATA"); n != 0 {
		t.Fatalf("%d stale lines before the run ends, want them counted in one at Close: %s", n, logBuf.String())
	}
	// Never asked before: the failure stands.
	if _, err := c.Routes(ctx, nil, []routing.ASN{64499}, false); !errors.Is(err, irr.ErrUnavailable) || !strings.Contains(err.Error(), "no cached answer") {
		t.Fatalf("uncached: %v", err)
	}
	// Older than --stale-on-failure: the failure stands.
	clk.t = clk.t.Add(48 * time.Hour)
	if _, err := c.Routes(ctx, []string{"RIPE"}, asns, false); !errors.Is(err, irr.ErrUnavailable) || !strings.Contains(err.Error(), "more than --stale-on-failure") {
		t.Fatalf("too old: %v", err)
	}
	// Nothing but entries in the directory: no temporary files left behind.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".json") {
			t.Errorf("stray file %s", p)
		}
		return nil
	})
}

func TestCacheWithoutStaleOrTTL(t *testing.T) {
	ctx := context.Background()
	srv := whoisfault.Start(t, data(), whoisfault.Fault{})
	up := whois.NewClient(srv.Addr(), fast())
	defer up.Close()
	inner := &switchable{Querier: up}
	c, err := New(inner, Options{Dir: t.TempDir(), Server: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, _, err := c.Members(ctx, nil, "AS-CUST", false); err != nil {
			t.Fatal(err)
		}
	}
	if inner.calls != 2 {
		t.Fatalf("TTL 0 must always ask: %d calls", inner.calls)
	}
	inner.Querier = whois.NewClient(whoisfault.Refused(t), fast())
	if _, _, err := c.Members(ctx, nil, "AS-CUST", false); !errors.Is(err, irr.ErrUnavailable) {
		t.Fatalf("without --stale-on-failure the failure must stand: %v", err)
	}
	// An unknown source is an answer, not a failure: never served stale.
	c2, _ := New(whois.NewClient(srv.Addr(), fast()), Options{Dir: t.TempDir(), StaleOnFailure: time.Hour})
	if err := c2.CheckSources(ctx, []string{"NOPE"}); !errors.Is(err, irr.ErrUnknownSource) {
		t.Fatalf("CheckSources = %v", err)
	}
}

func TestCacheDamagedEntries(t *testing.T) {
	ctx := context.Background()
	srv := whoisfault.Start(t, data(), whoisfault.Fault{})
	up := whois.NewClient(srv.Addr(), fast())
	defer up.Close()
	down := whois.NewClient(whoisfault.Refused(t), fast())
	damage := []struct {
		name string
		fn   func(b []byte) []byte
	}{
		{"flipped payload byte", func(b []byte) []byte { b[len(b)-5] ^= 1; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-3] }},
		{"empty", func([]byte) []byte { return nil }},
		{"other version", func(b []byte) []byte { return append([]byte("bgpfilter-irrcache v0\n"), b[len(magic):]...) }},
		{"other key", func(b []byte) []byte { return bytes.Replace(b, []byte("AS-CUST"), []byte("AS-CUSX"), 1) }},
		{"extra bytes", func(b []byte) []byte { return append(b, "x\n"...) }},
	}
	for _, d := range damage {
		t.Run(d.name, func(t *testing.T) {
			var logBuf bytes.Buffer
			dir := t.TempDir()
			inner := &switchable{Querier: up}
			c, _ := New(inner, Options{Dir: dir, Server: "test", StaleOnFailure: time.Hour, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
			if _, _, err := c.Members(ctx, nil, "AS-CUST", true); err != nil {
				t.Fatal(err)
			}
			p := c.path(c.keyFor("members", nil, "AS-CUST", "1"))
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, d.fn(b), 0o644); err != nil {
				t.Fatal(err)
			}
			inner.Querier = down
			m, _, err := c.Members(ctx, nil, "AS-CUST", true)
			if !errors.Is(err, irr.ErrUnavailable) || m != nil {
				t.Fatalf("damaged entry served: %v %v", m, err)
			}
			if d.name != "empty" && !strings.Contains(logBuf.String(), "damaged cache entry") {
				t.Errorf("no warning about the damaged entry: %s", logBuf.String())
			}
		})
	}
}

func FuzzDecodeEntry(f *testing.F) {
	dir := f.TempDir()
	c, err := New(nil, Options{Dir: dir, Server: "whois://a:43"})
	if err != nil {
		f.Fatal(err)
	}
	key := c.keyFor("members", []string{"RIPE"}, "AS-X", "1")
	if err := c.store(key, membersAnswer{Members: []string{"AS64496"}, Found: true}); err != nil {
		f.Fatal(err)
	}
	good, _ := os.ReadFile(c.path(key))
	f.Add(good)
	f.Add([]byte(magic + "{}\n\n"))
	f.Add([]byte(magic + `{"key":"members|RIPE|AS-X|1","length":-1}` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var v membersAnswer
		if _, err := decodeEntry(b, key, &v); err != nil {
			return
		}
		// Whatever decodes carries a checksum that matches exactly its payload
		// (recomputed here from the raw bytes, independently of decodeEntry).
		rest := bytes.TrimPrefix(b, []byte(magic))
		line, payload, _ := bytes.Cut(rest, []byte("\n"))
		var h struct {
			Length int    `json:"length"`
			SHA256 string `json:"sha256"`
		}
		if err := json.Unmarshal(line, &h); err != nil {
			t.Fatalf("decoded an entry whose header does not parse: %q", b)
		}
		sum := sha256.Sum256(bytes.TrimSuffix(payload, []byte("\n")))
		if len(payload) != h.Length+1 || !strings.EqualFold(hex.EncodeToString(sum[:]), h.SHA256) {
			t.Fatalf("decoded an entry whose checksum or length does not match its payload: %q", b)
		}
		var again membersAnswer
		if _, err := decodeEntry(b, key, &again); err != nil || !slices.Equal(v.Members, again.Members) {
			t.Fatalf("inconsistent decode of %q", b)
		}
	})
}
