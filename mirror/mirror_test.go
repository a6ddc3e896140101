package mirror

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

// TestNRTM3OverTCP loads the real RADB dump sample at a serial, then fetches the real
// RADB NRTMv3 excerpt from a loopback NRTM endpoint: the stream's ADD lands in the
// mirror, the store and the live index, the serial is persisted, a range error means
// "up to date", and a bad reply leaves everything unchanged.
func TestNRTM3OverTCP(t *testing.T) {
	dump := peer.SharedData(t, "nrtm/pytinyirrdbcache/radb.db.sample")
	stream, err := os.ReadFile(peer.SharedData(t, "nrtm/pytinyirrdbcache/radb.updates.sample"))
	if err != nil {
		t.Fatal(err)
	}
	rangeErr, err := os.ReadFile(peer.SharedData(t, "nrtm/pytinyirrdbcache/radb.header.rangeerror.sample"))
	if err != nil {
		t.Fatal(err)
	}
	mode := "stream"
	srv := startNRTMServer(t, func(q string) []byte {
		switch {
		case mode == "rangeerror":
			return rangeErr
		case mode == "truncated": // the real stream moved to the requested serials, cut before %END
			moved := strings.NewReplacer("2393925", "2393927", "2393926", "2393928").Replace(string(stream))
			return []byte(moved[:strings.Index(moved, "%END")])
		case q == "-g RADB:3:2393925-LAST":
			return stream
		default: // what an IRRd answers when nothing is newer
			return []byte("%ERROR:401: invalid range: Not within 2393000-2393926\n")
		}
	})
	dir := t.TempDir()
	m, err := Open(Config{Dir: dir, Sources: []SourceConfig{{Name: "radb", Dump: dump, DumpSerial: 2393924, NRTM3: srv.addr}}})
	if err != nil {
		t.Fatal(err)
	}
	before := objectKeys(m, "RADB")
	if len(before) != 6 { // aut-num, route, mntner, 2 as-sets, route6
		t.Fatalf("dump gave %d objects: %v", len(before), before)
	}
	ix := irr.NewIndex()
	if err := m.Attach(ix); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, found, _ := ix.Members(ctx, nil, "AS-HURRICANE", false); found {
		t.Fatal("AS-HURRICANE in the index before the update")
	}
	if err := m.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if q := srv.Queries(); len(q) != 1 || q[0] != "-g RADB:3:2393925-LAST" {
		t.Fatalf("queries = %q", q)
	}
	st, _ := m.State("RADB")
	if st.Serial != 2393926 || st.Objects != 7 {
		t.Errorf("state = serial %d, %d objects; want 2393926, 7", st.Serial, st.Objects)
	}
	members, found, err := ix.Members(ctx, nil, "AS-HURRICANE", false)
	if err != nil || !found || !slices.Contains(members, "AS-VOCUS") || len(members) != 10 {
		t.Errorf("index AS-HURRICANE = %v, %v, %v", members, found, err)
	}
	// The DEL of a route the dump never had is ignored; the dump's route is intact.
	if got := routes(t, ix, "RADB", 2900, false); !slices.Equal(got, []string{"167.96.0.0/16"}) {
		t.Errorf("AS2900 routes = %v", got)
	}

	// Up to date: the server's range error ends at our serial.
	if err := m.Update(ctx); err != nil {
		t.Fatalf("up-to-date round: %v", err)
	}
	if q := srv.Queries(); len(q) != 2 || q[1] != "-g RADB:3:2393927-LAST" {
		t.Fatalf("queries = %q", q)
	}
	// A real range error and a truncated stream fail and change nothing.
	for _, mode = range []string{"rangeerror", "truncated"} {
		err := m.Update(ctx)
		var se *ServerError
		if mode == "rangeerror" && !errors.As(err, &se) || mode == "truncated" && !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: err = %v", mode, err)
		}
		if st2, _ := m.State("RADB"); st2.Serial != 2393926 || st2.Objects != 7 {
			t.Errorf("%s: state changed to %+v", mode, st2)
		}
	}

	// The directory is locked while open; a new process sees the persisted state.
	if _, err := Open(Config{Dir: dir}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: err = %v, want ErrLocked", err)
	}
	m.Close()
	m2, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if st2, _ := m2.State("RADB"); st2.Serial != 2393926 || st2.NRTM3 != srv.addr {
		t.Errorf("reopened state = %+v", st2)
	}
	if got := objectKeys(m2, "RADB"); !slices.Equal(got, objectKeys(m, "RADB")) || len(got) != 7 {
		t.Errorf("reopened objects = %v", got)
	}
}

// TestApplyNRTM3Sequence checks that streams must continue exactly at the serial.
func TestApplyNRTM3Sequence(t *testing.T) {
	dir := t.TempDir()
	dump := filepath.Join(dir, "test.db")
	if err := os.WriteFile(dump, []byte(routeA+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Open(Config{Dir: filepath.Join(dir, "m"), Sources: []SourceConfig{{Name: "TEST", Dump: dump, DumpSerial: 9}}})
	if err != nil {
		t.Fatal(err)
	}
	parse := func(s string) *Stream {
		st, err := ParseNRTM3(strings.NewReader(s), Expect{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	gap := parse("%START Version: 3 TEST 11-11\n\nADD 11\n\n" + routeB + "\n%END TEST\n")
	if err := m.ApplyNRTM3("TEST", gap); !errors.Is(err, ErrSerial) {
		t.Fatalf("gap: err = %v", err)
	}
	ok := parse("%START Version: 3 TEST 10-11\n\nDEL 10\n\n" + routeA + "\nADD 11\n\n" + routeB + "\n%END TEST\n")
	if err := m.ApplyNRTM3("TEST", ok); err != nil {
		t.Fatal(err)
	}
	if got := objectKeys(m, "TEST"); !slices.Equal(got, []string{"route 198.51.100.0/24AS64497"}) {
		t.Errorf("objects = %v", got)
	}
	if err := m.ApplyNRTM3("TEST", ok); !errors.Is(err, ErrSerial) { // replay
		t.Fatalf("replay: err = %v", err)
	}
	st, _ := m.State("TEST")
	if st.Serial != 11 || st.Journal != "TEST.journal" || st.JournalBytes == 0 {
		t.Fatalf("state = %+v, want serial 11 and a journal", st)
	}
	// An uncommitted journal tail (a crash after the append, before the state write)
	// is ignored when the mirror is opened again, and cut by the next append.
	jf, err := os.OpenFile(filepath.Join(dir, "m", st.Journal), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	jf.WriteString(`{"op":"del","class":"route","key":"198.51.100.0/24AS64497"}` + "\n{broken")
	jf.Close()
	m.Close()
	m2, err := Open(Config{Dir: filepath.Join(dir, "m")})
	if err != nil {
		t.Fatal(err)
	}
	if got := objectKeys(m2, "TEST"); !slices.Equal(got, []string{"route 198.51.100.0/24AS64497"}) {
		t.Errorf("reopened objects = %v", got)
	}
	next := parse("%START Version: 3 TEST 12-12\n\nADD 12\n\n" + routeA + "\n%END TEST\n")
	if err := m2.ApplyNRTM3("TEST", next); err != nil {
		t.Fatal(err)
	}
	m2.Close()
	m3, err := Open(Config{Dir: filepath.Join(dir, "m")})
	if err != nil {
		t.Fatal(err)
	}
	if got := objectKeys(m3, "TEST"); !slices.Equal(got, []string{"route 192.0.2.0/24AS64496", "route 198.51.100.0/24AS64497"}) {
		t.Errorf("objects after replaying the journal = %v", got)
	}
	if st, _ := m3.State("TEST"); st.Serial != 12 || st.Objects != 2 {
		t.Errorf("state = %+v", st)
	}
}

// nrtm4Files returns the paths of the real RIPE NRTMv4 mock files of a source.
func nrtm4Files(t *testing.T, source string) (snapshot string, deltas map[uint64]string) {
	snapshot = peer.SharedData(t, "nrtm/ripe-whois-nrtm4/nrtm-snapshot.1."+source+".json")
	deltas = map[uint64]string{}
	for v := uint64(2); v <= 5; v++ {
		deltas[v] = peer.SharedData(t, "nrtm/ripe-whois-nrtm4/nrtm-delta."+string(rune('0'+v))+"."+source+".json")
	}
	return snapshot, deltas
}

func notification(t *testing.T, source, session string, snapshot string, deltas map[uint64]string, upto uint64) Notification {
	n := Notification{Source: source, SessionID: session, Version: upto, Snapshot: ref(t, 1, snapshot)}
	for v := uint64(2); v <= upto; v++ {
		n.Deltas = append(n.Deltas, ref(t, v, deltas[v]))
	}
	return n
}

const (
	ripeSession    = "4521174b-548f-4e51-98fc-dfd720011a0c"
	nonauthSession = "6328095e-7d46-415b-9333-8f2ae274b7c8"
)

// TestNRTM4RealFiles applies the real RIPE and RIPE-NONAUTH snapshot and deltas 2..5
// (through a notification signed here, since the published ones carry wrong
// signatures), in two steps, and checks objects in the mirror and the live index.
func TestNRTM4RealFiles(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			sg := newSigner(t, alg)
			ripeDir, nonauthDir := t.TempDir(), t.TempDir()
			ripeSnap, ripeDeltas := nrtm4Files(t, "RIPE")
			naSnap, naDeltas := nrtm4Files(t, "RIPE-NONAUTH")
			writeNotification(t, sg, ripeDir, notification(t, "RIPE", ripeSession, ripeSnap, ripeDeltas, 3))
			writeNotification(t, sg, nonauthDir, notification(t, "RIPE-NONAUTH", nonauthSession, naSnap, naDeltas, 3))
			dir := t.TempDir()
			m, err := Open(Config{Dir: dir, Sources: []SourceConfig{
				{Name: "RIPE", NRTM4: ripeDir, NRTM4Key: sg.pubPEM},
				{Name: "RIPE-NONAUTH", NRTM4: "file://" + nonauthDir + "/" + NotificationName, NRTM4Key: sg.pubPEM},
			}})
			if err != nil {
				t.Fatal(err)
			}
			ix := irr.NewIndex()
			if err := m.Attach(ix); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := m.Update(ctx); err != nil {
				t.Fatal(err)
			}
			// After delta 3: aut-num AS211871 deleted, MHM-MNT added, route modified.
			if st, _ := m.State("RIPE"); st.Version != 3 || st.SessionID != ripeSession || st.Objects != 6 {
				t.Errorf("RIPE state after v3 = %+v", st)
			}
			if find(m, "RIPE", "aut-num", "AS211871") != nil || find(m, "RIPE", "mntner", "MHM-MNT") == nil {
				t.Errorf("RIPE v3 objects = %v", objectKeys(m, "RIPE"))
			}
			if got := objectKeys(m, "RIPE-NONAUTH"); !slices.Equal(got, []string{"route 144.172.90.0/24AS201106", "route6 2001:490:F000::/36AS1248"}) {
				t.Errorf("RIPE-NONAUTH v3 objects = %v", got)
			}

			writeNotification(t, sg, ripeDir, notification(t, "RIPE", ripeSession, ripeSnap, ripeDeltas, 5))
			writeNotification(t, sg, nonauthDir, notification(t, "RIPE-NONAUTH", nonauthSession, naSnap, naDeltas, 5))
			if err := m.Update(ctx); err != nil {
				t.Fatal(err)
			}
			want := []string{
				"aut-num AS211871", "inet6num 2A00:2381:C3BE::/48", "mntner MHM-MNT", "mntner MHM3-MNT",
				"mntner MNT-AS47524", "person DUMY-RIPE", "route 176.240.50.0/24AS47524",
			}
			if got := objectKeys(m, "RIPE"); !slices.Equal(got, want) {
				t.Errorf("RIPE v5 objects = %v\nwant %v", got, want)
			}
			if st, _ := m.State("RIPE"); st.Version != 5 || st.Objects != 7 {
				t.Errorf("RIPE state after v5 = %+v", st)
			}
			if o := find(m, "RIPE", "route", "176.240.50.0/24AS47524"); o == nil || !strings.Contains(o.Text, "SECOND DELTA DUMMY") {
				t.Errorf("route 176.240.50.0/24 is not the delta-3 version: %v", o)
			}
			if o := find(m, "RIPE", "aut-num", "AS211871"); o == nil || !strings.Contains(o.Text, "import:         from AS15924 accept ANY") {
				t.Errorf("aut-num AS211871 not re-added by delta 4: %v", o)
			}
			// RIPE-NONAUTH: delta 2's mntner with "source: RIPE" is not RIPE-NONAUTH data.
			if got := objectKeys(m, "RIPE-NONAUTH"); !slices.Equal(got, []string{"route 144.172.90.0/24AS201106", "route6 2001:490:F000::/36AS1248"}) {
				t.Errorf("RIPE-NONAUTH v5 objects = %v", got)
			}
			// The live index agrees.
			if got := routes(t, ix, "RIPE", 47524, false); !slices.Equal(got, []string{"176.240.50.0/24"}) {
				t.Errorf("index RIPE AS47524 = %v", got)
			}
			if got := routes(t, ix, "RIPE-NONAUTH", 1248, true); !slices.Equal(got, []string{"2001:490:f000::/36"}) {
				t.Errorf("index RIPE-NONAUTH AS1248 v6 = %v", got)
			}
			for _, asn := range []routing.ASN{15951, 18666} {
				if got := append(routes(t, ix, "RIPE-NONAUTH", asn, false), routes(t, ix, "RIPE-NONAUTH", asn, true)...); len(got) != 0 {
					t.Errorf("index RIPE-NONAUTH AS%d = %v, want deleted", asn, got)
				}
			}
			if got := routes(t, ix, "RIPE-NONAUTH", 201106, false); !slices.Equal(got, []string{"144.172.90.0/24"}) {
				t.Errorf("index RIPE-NONAUTH AS201106 = %v", got)
			}
			// Persisted: a fresh open has the same objects and versions.
			m.Close()
			m2, err := Open(Config{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if got := objectKeys(m2, "RIPE"); !slices.Equal(got, want) {
				t.Errorf("reopened RIPE = %v", got)
			}
			if st, _ := m2.State("RIPE-NONAUTH"); st.Version != 5 || st.SessionID != nonauthSession {
				t.Errorf("reopened RIPE-NONAUTH state = %+v", st)
			}
		})
	}
}

// TestNRTM4WrongSignature feeds the two published wrong-signature notifications with
// the published public key: both are refused and the mirror stays empty.
func TestNRTM4WrongSignature(t *testing.T) {
	keyPEM, err := os.ReadFile(peer.SharedData(t, "nrtm/ripe-whois-nrtm4/public.key"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePublicKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	for _, source := range []string{"RIPE", "RIPE-NONAUTH"} {
		t.Run(source, func(t *testing.T) {
			jose, err := os.ReadFile(peer.SharedData(t, "nrtm/ripe-whois-nrtm4/nrtm-"+source+"-wrong-signature.jose"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := VerifyJWS(jose, key); !errors.Is(err, ErrSignature) {
				t.Fatalf("VerifyJWS = %v, want ErrSignature", err)
			}
			// Not only the algorithm mismatch: the 64 signature bytes do not verify as
			// ES256 under the published P-256 key either.
			parts := strings.Split(strings.TrimSpace(string(jose)), ".")
			sig, err := base64.RawURLEncoding.DecodeString(parts[2])
			if err != nil || len(sig) != 64 {
				t.Fatalf("signature: %d bytes, %v", len(sig), err)
			}
			if err := verifyES256(key.(*ecdsa.PublicKey), []byte(parts[0]+"."+parts[1]), sig); err == nil {
				t.Error("the wrong signature verifies as ES256")
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, NotificationName), jose, 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := Open(Config{Dir: t.TempDir(), Sources: []SourceConfig{{Name: source, NRTM4: dir, NRTM4Key: string(keyPEM)}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Update(context.Background()); !errors.Is(err, ErrSignature) {
				t.Fatalf("Update = %v, want ErrSignature", err)
			}
			if st, _ := m.State(source); st.SessionID != "" || st.Version != 0 || len(m.Objects(source)) != 0 {
				t.Errorf("state after refused notification = %+v", st)
			}
		})
	}
}

// TestFetchNRTM3Timeout: a server that accepts and never answers is cut off by the
// context, and the error says so.
func TestFetchNRTM3Timeout(t *testing.T) {
	release := make(chan struct{})
	srv := startNRTMServer(t, func(string) []byte { <-release; return nil })
	t.Cleanup(func() { close(release) })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := FetchNRTM3(ctx, srv.addr, "RADB", 1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

// BenchmarkApplyNRTM3 measures one single-object NRTMv3 update (index batch plus
// journal append and state commit) on a mirror holding the real RIPE-NONAUTH routes.
func BenchmarkApplyNRTM3(b *testing.B) {
	dump := peer.SharedData(b, "irr/ripe-nonauth.db.route.gz")
	m, err := Open(Config{Dir: b.TempDir(), Sources: []SourceConfig{{Name: "RIPE-NONAUTH", Dump: dump, DumpSerial: 1}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Attach(irr.NewIndex()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		serial := uint64(i + 2)
		text := fmt.Sprintf("%%START Version: 3 RIPE-NONAUTH %d-%d\n\nADD %d\n\nroute: 192.0.2.0/24\ndescr: update %d\norigin: AS64496\nsource: RIPE-NONAUTH\n\n%%END RIPE-NONAUTH\n",
			serial, serial, serial, i)
		s, err := ParseNRTM3(strings.NewReader(text), Expect{})
		if err != nil {
			b.Fatal(err)
		}
		if err := m.ApplyNRTM3("RIPE-NONAUTH", s); err != nil {
			b.Fatal(err)
		}
	}
}
