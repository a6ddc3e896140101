package mirror

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

// TestParseNRTM4Samples parses every real snapshot and delta file.
func TestParseNRTM4Samples(t *testing.T) {
	type counts struct{ objects, adds, dels int }
	want := map[string]counts{
		"nrtm-snapshot.1.RIPE.json": {objects: 6}, "nrtm-snapshot.1.RIPE-NONAUTH.json": {objects: 4},
		"nrtm-delta.2.RIPE.json": {adds: 3, dels: 1}, "nrtm-delta.2.RIPE-NONAUTH.json": {adds: 2, dels: 1},
		"nrtm-delta.3.RIPE.json": {adds: 3, dels: 1}, "nrtm-delta.3.RIPE-NONAUTH.json": {adds: 1, dels: 1},
		"nrtm-delta.4.RIPE.json": {adds: 1, dels: 1}, "nrtm-delta.4.RIPE-NONAUTH.json": {dels: 1},
		"nrtm-delta.5.RIPE.json": {adds: 1}, "nrtm-delta.5.RIPE-NONAUTH.json": {adds: 1},
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(peer.SharedData(t, "nrtm/ripe-whois-nrtm4/"+name))
			if err != nil {
				t.Fatal(err)
			}
			f := strings.Split(name, ".")
			version := uint64(f[1][0] - '0')
			source := strings.Join(f[2:len(f)-1], ".")
			session := ripeSession
			if source == "RIPE-NONAUTH" {
				session = nonauthSession
			}
			var got counts
			if f[0] == "nrtm-snapshot" {
				err = ParseSnapshot(bytes.NewReader(b), source, session, version, func(*Object) error { got.objects++; return nil })
			} else {
				var ch []Change
				ch, err = ParseDelta(bytes.NewReader(b), source, session, version)
				for _, c := range ch {
					if c.Kind == OpAdd {
						got.adds++
					} else {
						got.dels++
					}
				}
			}
			if err != nil || got != w {
				t.Errorf("got %+v, %v; want %+v", got, err, w)
			}
			// The header is checked: another version or session is refused.
			if f[0] == "nrtm-delta" {
				if _, err := ParseDelta(bytes.NewReader(b), source, session, version+1); !errors.Is(err, ErrNRTM4) {
					t.Errorf("wrong version accepted: %v", err)
				}
				if _, err := ParseDelta(bytes.NewReader(b), source, "00000000-0000-4000-8000-000000000000", version); !errors.Is(err, ErrNRTM4) {
					t.Errorf("wrong session accepted: %v", err)
				}
			}
		})
	}
}

// fixture publishes NRTMv4 files made of documentation prefixes in a directory.
type fixture struct {
	t       *testing.T
	dir     string
	source  string
	session string
	sg      *signer
	snap    FileRef
	deltas  []FileRef
}

func newFixture(t *testing.T, sg *signer, session string) *fixture {
	return &fixture{t: t, dir: t.TempDir(), source: "TEST", session: session, sg: sg}
}

// writeSeq writes records as an RFC 7464 JSON text sequence (RS before each record).
func (f *fixture) writeSeq(name string, gz bool, recs ...any) FileRef {
	var b bytes.Buffer
	for _, r := range recs {
		j, err := json.Marshal(r)
		if err != nil {
			f.t.Fatal(err)
		}
		b.WriteByte(0x1e)
		b.Write(j)
		b.WriteByte('\n')
	}
	data := b.Bytes()
	if gz {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(data)
		w.Close()
		data = z.Bytes()
	}
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		f.t.Fatal(err)
	}
	r := ref(f.t, 0, p)
	r.URL = name // relative to the notification
	return r
}

func (f *fixture) header(typ string, v uint64) map[string]any {
	return map[string]any{"nrtm_version": 4, "type": typ, "source": f.source, "session_id": f.session, "version": v}
}

func (f *fixture) snapshot(v uint64, objects ...string) {
	recs := []any{f.header("snapshot", v)}
	for _, o := range objects {
		recs = append(recs, map[string]string{"object": o})
	}
	f.snap = f.writeSeq(fmt.Sprintf("snapshot.%s.%d.json.gz", f.session[:8], v), true, recs...)
	f.snap.Version = v
	f.deltas = nil
}

// delta publishes a delta; ops are "+TEXT" (add_modify) or "-CLASS/KEY" (delete).
func (f *fixture) delta(v uint64, ops ...string) {
	recs := []any{f.header("delta", v)}
	for _, op := range ops {
		if op[0] == '+' {
			recs = append(recs, map[string]string{"action": "add_modify", "object": op[1:]})
		} else {
			class, key, _ := strings.Cut(op[1:], "/")
			if class == "route" || class == "route6" {
				p, origin, _ := strings.Cut(key, " ")
				key = p + origin
			}
			recs = append(recs, map[string]string{"action": "delete", "object_class": class, "primary_key": key})
		}
	}
	r := f.writeSeq(fmt.Sprintf("delta.%s.%d.json", f.session[:8], v), false, recs...)
	r.Version = v
	f.deltas = append(f.deltas, r)
}

// publish writes the signed notification for the current snapshot and deltas.
func (f *fixture) publish() {
	v := f.snap.Version
	if k := len(f.deltas); k > 0 {
		v = f.deltas[k-1].Version
	}
	writeNotification(f.t, f.sg, f.dir, Notification{Source: f.source, SessionID: f.session, Version: v, Snapshot: f.snap, Deltas: f.deltas})
}

func route(prefix string, asn int, descr string) string {
	class := "route"
	if strings.Contains(prefix, ":") {
		class = "route6"
	}
	return fmt.Sprintf("%s: %s\ndescr: %s\norigin: AS%d\nsource: TEST\n", class, prefix, descr, asn)
}

const (
	sessionA = "aaaaaaaa-7d46-415b-9333-8f2ae274b7c8"
	sessionB = "bbbbbbbb-7d46-415b-9333-8f2ae274b7c8"
)

func openFixtureMirror(t *testing.T, f *fixture, key string) (*Mirror, *irr.Index) {
	t.Helper()
	m, err := Open(Config{Dir: t.TempDir(), Sources: []SourceConfig{{Name: "TEST", NRTM4: f.dir, NRTM4Key: key}}})
	if err != nil {
		t.Fatal(err)
	}
	ix := irr.NewIndex()
	if err := m.Attach(ix); err != nil {
		t.Fatal(err)
	}
	return m, ix
}

// TestNRTM4Refused checks that every inconsistency is refused and leaves the mirror
// (state, objects, index) as it was.
func TestNRTM4Refused(t *testing.T) {
	tests := []struct {
		name    string
		spoil   func(f *fixture, other *signer)
		wantErr error
	}{
		{"signed by another key", func(f *fixture, other *signer) { f.sg = other; f.publish() }, ErrSignature},
		{"payload tampered", func(f *fixture, _ *signer) {
			p := filepath.Join(f.dir, NotificationName)
			b, _ := os.ReadFile(p)
			parts := strings.Split(strings.TrimSpace(string(b)), ".")
			var n Notification
			payload, _ := decodeBase64(parts[1])
			json.Unmarshal(payload, &n)
			n.Version, n.Deltas = 2, n.Deltas[:1]
			j, _ := json.Marshal(n)
			parts[1] = strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(encodeStd(j)), "=")
			os.WriteFile(p, []byte(strings.Join(parts, ".")), 0o644)
		}, ErrSignature},
		{"unsigned (alg none)", func(f *fixture, _ *signer) {
			p := filepath.Join(f.dir, NotificationName)
			b, _ := os.ReadFile(p)
			parts := strings.Split(strings.TrimSpace(string(b)), ".")
			parts[0], parts[2] = "eyJhbGciOiJub25lIn0", ""
			os.WriteFile(p, []byte(strings.Join(parts, ".")), 0o644)
		}, ErrSignature},
		{"delta hash mismatch", func(f *fixture, _ *signer) {
			f.deltas[len(f.deltas)-1].Hash = strings.Repeat("ab", 32)
			f.publish()
		}, ErrNRTM4},
		{"delta of another session", func(f *fixture, _ *signer) {
			f.deltas = f.deltas[:1]
			f.session = sessionB
			f.delta(3, "-route/192.0.2.0/24 AS64496")
			f.session = sessionA
			f.publish()
		}, ErrNRTM4},
		{"notification of another source", func(f *fixture, _ *signer) {
			writeNotification(f.t, f.sg, f.dir, Notification{Source: "OTHER", SessionID: sessionA, Version: 1, Snapshot: f.snap})
		}, ErrNRTM4},
		{"version went backwards", func(f *fixture, _ *signer) {
			f.deltas = nil
			f.publish()
		}, nil}, // an older notification: no change, reported below
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sg, other := newSigner(t, "ES256"), newSigner(t, "ES256")
			f := newFixture(t, sg, sessionA)
			f.snapshot(1, route("192.0.2.0/24", 64496, "one"))
			f.delta(2, "+"+route("198.51.100.0/24", 64497, "two"))
			f.publish()
			m, ix := openFixtureMirror(t, f, sg.pubPEM)
			if err := m.Update(context.Background()); err != nil {
				t.Fatal(err)
			}
			before, _ := m.State("TEST")
			f.delta(3, "-route/192.0.2.0/24 AS64496", "+"+route("203.0.113.0/24", 64498, "three"))
			f.publish()
			tc.spoil(f, other)
			err := m.Update(context.Background())
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && !errors.Is(err, ErrNRTM4) {
				t.Fatalf("err = %v, want an error for the older notification", err)
			}
			after, _ := m.State("TEST")
			if after.Version != before.Version || after.Version != 2 || after.SessionID != sessionA {
				t.Errorf("state changed: %+v -> %+v", before, after)
			}
			if got := objectKeys(m, "TEST"); !slices.Equal(got, []string{"route 192.0.2.0/24AS64496", "route 198.51.100.0/24AS64497"}) {
				t.Errorf("objects changed: %v", got)
			}
			if got := routes(t, ix, "TEST", 64496, false); !slices.Equal(got, []string{"192.0.2.0/24"}) {
				t.Errorf("index changed: %v", got)
			}
		})
	}
}

func encodeStd(b []byte) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.Encode(b) // a []byte encodes as standard base64 in quotes
	return strings.Trim(strings.TrimSpace(buf.String()), `"`)
}

// TestNRTM4SessionAndExpiry: a new session id reloads the snapshot, and so does a
// notification whose deltas no longer reach back to the mirror's version.
func TestNRTM4SessionAndExpiry(t *testing.T) {
	sg := newSigner(t, "EdDSA")
	f := newFixture(t, sg, sessionA)
	f.snapshot(1, route("192.0.2.0/24", 64496, "a1"), route("2001:db8::/32", 64496, "a1"))
	f.publish()
	m, ix := openFixtureMirror(t, f, sg.pubPEM)
	ctx := context.Background()
	if err := m.Update(ctx); err != nil {
		t.Fatal(err)
	}
	// New session: the old objects go, the new snapshot and its deltas come.
	f.session = sessionB
	f.snapshot(7, route("198.51.100.0/24", 64497, "b7"))
	f.delta(8, "+"+route("203.0.113.0/24", 64497, "b8"))
	f.publish()
	if err := m.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := m.State("TEST"); st.SessionID != sessionB || st.Version != 8 {
		t.Errorf("state = %+v", st)
	}
	if got := routes(t, ix, "TEST", 64496, true); len(got) != 0 {
		t.Errorf("old session's route6 still indexed: %v", got)
	}
	if got := routes(t, ix, "TEST", 64497, false); !slices.Equal(got, []string{"198.51.100.0/24", "203.0.113.0/24"}) {
		t.Errorf("AS64497 = %v", got)
	}
	// Deltas 9 and 10 expired: the notification offers snapshot 11 and delta 12.
	f.snapshot(11, route("198.51.100.0/24", 64497, "b11"))
	f.delta(12, "+"+route("192.0.2.0/25", 64497, "b12"))
	f.publish()
	if err := m.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := m.State("TEST"); st.Version != 12 {
		t.Errorf("state = %+v", st)
	}
	if got := routes(t, ix, "TEST", 64497, false); !slices.Equal(got, []string{"192.0.2.0/25", "198.51.100.0/24"}) {
		t.Errorf("AS64497 after expiry reload = %v", got)
	}
	// A snapshot whose deltas do not start right after it is refused.
	f.snapshot(20, route("198.51.100.0/24", 64497, "b20"))
	f.delta(22, "+"+route("203.0.113.0/24", 64497, "b22"))
	f.snap.Version = 20
	f.publish()
	if err := m.Update(ctx); !errors.Is(err, ErrNRTM4) {
		t.Errorf("gap after the snapshot: err = %v", err)
	}
	if st, _ := m.State("TEST"); st.Version != 12 {
		t.Errorf("state after refused gap = %+v", st)
	}
	f.snapshot(11, route("198.51.100.0/24", 64497, "b11"))
	f.delta(12, "+"+route("192.0.2.0/25", 64497, "b12"))
	f.publish()
	// Up to date: nothing fetched changes anything.
	if err := m.Update(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestNRTM4KeyRotation: a next_signing_key is remembered, and a notification signed
// with it is accepted and makes it the current key.
func TestNRTM4KeyRotation(t *testing.T) {
	oldKey, newKey := newSigner(t, "ES256"), newSigner(t, "ES256")
	f := newFixture(t, oldKey, sessionA)
	f.snapshot(1, route("192.0.2.0/24", 64496, "one"))
	writeNotification(t, oldKey, f.dir, Notification{Source: "TEST", SessionID: sessionA, Version: 1, Snapshot: f.snap, NextSigningKey: newKey.pubPEM})
	m, _ := openFixtureMirror(t, f, oldKey.pubPEM)
	ctx := context.Background()
	if err := m.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := m.State("TEST"); st.NextSigningKey != newKey.pubPEM {
		t.Fatalf("next key not remembered: %+v", st)
	}
	f.sg = newKey
	f.delta(2, "+"+route("198.51.100.0/24", 64497, "two"))
	f.publish()
	if err := m.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := m.State("TEST"); st.NRTM4Key != newKey.pubPEM || st.NextSigningKey != "" || st.Version != 2 {
		t.Errorf("after rotation: %+v", st)
	}
	// The old key is no longer trusted.
	f.sg = oldKey
	f.delta(3, "+"+route("203.0.113.0/24", 64498, "three"))
	f.publish()
	if err := m.Update(ctx); !errors.Is(err, ErrSignature) {
		t.Errorf("old key after rotation: %v", err)
	}
}

// TestConcurrentQueries runs queries while deltas are applied to the live index.
// Every delta moves AS64496's single route and AS-DOC's single member to the next
// value, so a query that saw a half-applied delta would find zero or two.
func TestConcurrentQueries(t *testing.T) {
	sg := newSigner(t, "ES256")
	f := newFixture(t, sg, sessionA)
	pfx := func(i int) string { return fmt.Sprintf("192.0.2.%d/32", i) }
	set := func(i int) string { return fmt.Sprintf("as-set: AS-DOC\nmembers: AS%d\nsource: TEST\n", 65536+i) }
	f.snapshot(1, route(pfx(0), 64496, "0"), set(0))
	f.publish()
	m, ix := openFixtureMirror(t, f, sg.pubPEM)
	ctx := context.Background()
	if err := m.Update(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 60
	for i := 1; i <= n; i++ {
		f.delta(uint64(i+1), "-route/"+pfx(i-1)+" AS64496", "+"+route(pfx(i), 64496, fmt.Sprint(i)), "+"+set(i))
	}
	var done atomic.Bool
	var queries, bad atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				r, err := ix.Routes(ctx, []string{"TEST"}, []routing.ASN{64496}, false)
				mem, found, err2 := ix.Members(ctx, []string{"TEST"}, "AS-DOC", false)
				queries.Add(1)
				if err != nil || err2 != nil || len(r[0]) != 1 || !found || len(mem) != 1 {
					bad.Add(1)
				}
			}
		}()
	}
	// Publish the deltas a few at a time so several rounds run under load.
	for k := 10; k <= n; k += 10 {
		all := f.deltas
		f.deltas = all[:k]
		f.publish()
		f.deltas = all
		if err := m.Update(ctx); err != nil {
			t.Error(err)
		}
	}
	done.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d of %d queries saw a half-applied delta", bad.Load(), queries.Load())
	}
	if got := routes(t, ix, "TEST", 64496, false); !slices.Equal(got, []string{pfx(n)}) {
		t.Errorf("final route = %v", got)
	}
	if st, _ := m.State("TEST"); st.Version != n+1 {
		t.Errorf("version = %d", st.Version)
	}
	t.Logf("%d queries during %d deltas", queries.Load(), n)
}

func FuzzNRTM4(f *testing.F) {
	sg := newSigner(f, "ES256")
	key, err := ParsePublicKey([]byte(sg.pubPEM))
	if err != nil {
		f.Fatal(err)
	}
	n, _ := json.Marshal(Notification{NRTMVersion: 4, Type: "notification", Timestamp: "2026-11-25T12:00:00Z", Source: "TEST",
		SessionID: sessionA, Version: 2, Snapshot: FileRef{Version: 1, URL: "s.json"}, Deltas: []FileRef{{Version: 2, URL: "d.json"}}})
	f.Add(sg.sign(f, n))
	f.Add([]byte(`{"nrtm_version":4,"type":"delta","source":"TEST","session_id":"` + sessionA + `","version":2}` + "\n" +
		`{"action":"delete","object_class":"route","primary_key":"192.0.2.0/24AS64496"}` + "\n" +
		`{"action":"add_modify","object":"route: 192.0.2.0/24\norigin: AS64496\nsource: TEST\n"}`))
	f.Add([]byte("\x1e" + `{"nrtm_version":4,"type":"snapshot","source":"TEST","session_id":"` + sessionA + `","version":2}` + "\n\x1e" +
		`{"object":"as-set: AS-DOC\nmembers: AS64496\nsource: TEST\n"}`))
	for _, name := range []string{"nrtm-RIPE-wrong-signature.jose", "nrtm-delta.2.RIPE.json"} {
		if b, err := os.ReadFile("../../shared/data/nrtm/ripe-whois-nrtm4/" + name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if payload, err := VerifyJWS(b, key); err == nil {
			if _, err := ParseNotification(payload); err != nil && !errors.Is(err, ErrNRTM4) {
				t.Fatalf("notification error not wrapping ErrNRTM4: %v", err)
			}
		}
		if nt, err := ParseNotification(b); err == nil {
			for i := 1; i < len(nt.Deltas); i++ {
				if nt.Deltas[i].Version != nt.Deltas[i-1].Version+1 {
					t.Fatalf("accepted non-consecutive deltas: %+v", nt.Deltas)
				}
			}
		}
		if ch, err := ParseDelta(bytes.NewReader(b), "TEST", sessionA, 2); err == nil {
			for _, c := range ch {
				if c.Kind == OpAdd && c.Object == nil || c.Kind == OpDel && (c.Class == "" || c.Key == "") {
					t.Fatalf("accepted change without identity: %+v", c)
				}
			}
		}
		ParseSnapshot(bytes.NewReader(b), "TEST", sessionA, 2, func(o *Object) error {
			if o.Class == "" || o.Key == "" || o.Source == "" {
				t.Fatalf("accepted object without identity: %+v", o)
			}
			return nil
		})
	})
}

// TestNRTM4OverHTTP serves a fixture over HTTP on loopback: relative file URLs
// resolve against the notification's URL, and a missing file fails the round.
func TestNRTM4OverHTTP(t *testing.T) {
	sg := newSigner(t, "ES256")
	f := newFixture(t, sg, sessionA)
	f.snapshot(1, route("192.0.2.0/24", 64496, "one"))
	f.delta(2, "+"+route("2001:db8::/32", 64496, "two"))
	f.publish()
	srv := httptest.NewServer(http.StripPrefix("/nrtmv4/TEST/", http.FileServer(http.Dir(f.dir))))
	defer srv.Close()
	m, err := Open(Config{Dir: t.TempDir(), HTTP: srv.Client(), Sources: []SourceConfig{
		{Name: "TEST", NRTM4: srv.URL + "/nrtmv4/TEST/", NRTM4Key: sg.pubPEM}}})
	if err != nil {
		t.Fatal(err)
	}
	ix := irr.NewIndex()
	if err := m.Attach(ix); err != nil {
		t.Fatal(err)
	}
	if err := m.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := routes(t, ix, "TEST", 64496, true); !slices.Equal(got, []string{"2001:db8::/32"}) {
		t.Errorf("AS64496 v6 = %v", got)
	}
	f.delta(3, "-route/192.0.2.0/24 AS64496")
	f.publish()
	os.Remove(filepath.Join(f.dir, f.deltas[1].URL))
	if err := m.Update(context.Background()); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing delta: err = %v", err)
	}
	if st, _ := m.State("TEST"); st.Version != 2 {
		t.Errorf("version = %d after a failed round", st.Version)
	}
}

// TestNRTM4MaxAge: with MaxAge set, a stale (possibly replayed) notification is refused.
func TestNRTM4MaxAge(t *testing.T) {
	sg := newSigner(t, "ES256")
	f := newFixture(t, sg, sessionA)
	f.snapshot(1, route("192.0.2.0/24", 64496, "one"))
	writeNotification(t, sg, f.dir, Notification{Source: "TEST", SessionID: sessionA, Version: 1, Snapshot: f.snap,
		Timestamp: time.Now().Add(-25 * time.Hour).UTC().Format(time.RFC3339)})
	for _, tc := range []struct {
		maxAge time.Duration
		ok     bool
	}{{24 * time.Hour, false}, {48 * time.Hour, true}, {0, true}} {
		m, err := Open(Config{Dir: t.TempDir(), MaxAge: tc.maxAge, Sources: []SourceConfig{{Name: "TEST", NRTM4: f.dir, NRTM4Key: sg.pubPEM}}})
		if err != nil {
			t.Fatal(err)
		}
		err = m.Update(context.Background())
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrNRTM4)) {
			t.Errorf("MaxAge %v: err = %v", tc.maxAge, err)
		}
		if st, _ := m.State("TEST"); (st.Version == 1) != tc.ok {
			t.Errorf("MaxAge %v: state %+v", tc.maxAge, st)
		}
	}
}
