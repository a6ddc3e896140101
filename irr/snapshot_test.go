package irr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// answerOpts compares the values answers collects; errors only by presence.
var answerOpts = cmp.Options{
	cmpopts.EquateComparable(netip.Prefix{}),
	cmp.Comparer(func(a, b error) bool { return (a == nil) == (b == nil) }),
}

// answers collects what every query of the index returns for every key of edge.db, so
// that two indexes can be compared.
func answers(t *testing.T, ix *Index) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{"stats": ix.Stats(), "all": ix.AllSources()}
	ix.mu.RLock()
	ix.materialize() // for the keys below; the queries still answer lazily
	ix.mu.RUnlock()
	srcs, _ := ix.Sources(ctx)
	out["sources"] = srcs
	keys := map[string]bool{}
	for _, s := range ix.srcs {
		for k := range s.byKey {
			keys[k] = true
		}
		s.eachRoute(func(rk routeKey) { keys[rk.p.Prefix().String()] = true })
	}
	for k := range keys {
		var texts []string
		for _, o := range ix.Lookup(nil, k) {
			texts = append(texts, o.Text())
		}
		out["lookup "+k] = texts
		for _, rec := range []bool{false, true} {
			m, found, err := ix.Members(ctx, nil, k, rec)
			out["members "+k+map[bool]string{true: ",1"}[rec]] = []any{m, found, err}
		}
		for _, v6 := range []bool{false, true} {
			p, found, err := ix.SetPrefixes(ctx, nil, k, v6)
			out["a "+k+map[bool]string{true: "6"}[v6]] = []any{p, found, err}
		}
		if p, err := netip.ParsePrefix(k); err == nil {
			for _, m := range []RouteMatch{Exact, OneLessSpecific, AllLessSpecific, AllMoreSpecific} {
				out["find "+k+string(rune('0'+m))] = ix.FindRoutes(nil, p, m)
			}
		}
		if a, err := routing.ParseASN(k); err == nil {
			r4, _ := ix.Routes(ctx, nil, []routing.ASN{a}, false)
			r6, _ := ix.Routes(ctx, nil, []routing.ASN{a}, true)
			out["routes "+k] = [][][]netip.Prefix{r4, r6}
		}
	}
	return out
}

func snapshotOf(t testing.TB, ix *Index) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := ix.WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSnapshotRoundTrip(t *testing.T) {
	ix := loadEdge(t)
	data := snapshotOf(t, ix)
	if again := snapshotOf(t, ix); !bytes.Equal(data, again) {
		t.Fatal("two snapshots of one index differ")
	}
	path := filepath.Join(t.TempDir(), "edge.snap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if !IsSnapshot(path) || IsSnapshot("testdata/edge.db") {
		t.Fatal("IsSnapshot does not tell a snapshot from RPSL")
	}
	got, rep, err := Load(context.Background(), []string{path}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Objects["route"] != 21 || rep.Files != 1 || rep.Bytes != int64(len(data)) {
		t.Errorf("report = %+v", rep)
	}
	if n := got.snap.touched(); n != 0 {
		t.Errorf("opening the snapshot read %d blocks of its data", n)
	}
	if got.texts.chunks != nil {
		t.Error("texts were read before any query needed them")
	}
	for _, o := range got.srcs["EDGE"].origin[0] {
		if o.refs != nil {
			t.Fatal("route text references were read before any query needed them")
		}
	}
	if p, found, _ := got.SetPrefixes(context.Background(), nil, "AS-DUP", false); !found || len(p) == 0 || got.texts.chunks != nil {
		t.Errorf("SetPrefixes on a fresh snapshot: %v, %v (texts read: %v)", p, found, got.texts.chunks != nil)
	}
	want := answers(t, ix)
	if diff := cmp.Diff(want, answers(t, got), answerOpts); diff != "" {
		t.Fatalf("answers differ after a snapshot round trip (-text +snapshot):\n%s", diff)
	}
	if len(want) < 100 {
		t.Fatalf("compared only %d answers", len(want))
	}
	if _, _, err := Load(context.Background(), []string{path, "testdata/edge.db"}, LoadOptions{}); !errors.Is(err, ErrSnapshot) {
		t.Errorf("a snapshot with other files: %v, want ErrSnapshot", err)
	}

	// A decoded index stays writable, and adding does not write into the snapshot's
	// bytes (its texts are slices of them).
	buf := bytes.Clone(data)
	got, err = ReadSnapshot(buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range parseObjects(t, "route: 203.0.113.96/27\norigin: AS64511\nsource: EDGE\n\nroute: 192.0.2.0/24\norigin: AS64496\ndescr: replaced\nsource: EDGE\n") {
		if err := got.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	if objs := got.Lookup([]string{"EDGE"}, "203.0.113.96/27"); len(objs) != 1 || objs[0].Get("origin") != "AS64511" {
		t.Errorf("Lookup of an added route = %v", objs)
	}
	if objs := got.Lookup([]string{"EDGE"}, "192.0.2.0/24"); len(objs) != 1 || objs[0].Get("descr") != "replaced" {
		t.Errorf("Lookup of a replaced route = %v", objs)
	}
	if !bytes.Equal(buf, data) {
		t.Fatal("Add wrote into the snapshot's bytes")
	}

	// A delete as the first operation reads the references first.
	fresh, err := ReadSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	del := parseObjects(t, "route: 192.0.2.0/24\norigin: AS64496\nsource: EDGE\n")[0]
	if err := fresh.Delete(del); err != nil {
		t.Fatalf("Delete on a fresh snapshot: %v", err)
	}
	if objs := fresh.Lookup([]string{"EDGE"}, "192.0.2.0/24"); len(objs) != 0 {
		t.Errorf("deleted route still found: %v", objs)
	}
	if objs := fresh.Lookup([]string{"ALT"}, "192.0.2.0/24"); len(objs) != 1 {
		t.Errorf("the ALT route went with it: %v", objs)
	}
}

// TestSnapshotFileChanged: a snapshot read into memory (LoadOptions.ReadSnapshot, as
// the whois server reads one) is not affected by the file being truncated after Load;
// a truncated file then fails to load.
func TestSnapshotFileChanged(t *testing.T) {
	data := snapshotOf(t, loadEdge(t))
	path := filepath.Join(t.TempDir(), "edge.snap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ix, _, err := Load(context.Background(), []string{path}, LoadOptions{ReadSnapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(len(data)/2)); err != nil {
		t.Fatal(err)
	}
	if objs := ix.Lookup(nil, "AS-DUP"); len(objs) != 2 || objs[0].Get("source") != "EDGE" {
		t.Errorf("Lookup after truncation = %v", objs)
	}
	if p, found, err := ix.SetPrefixes(context.Background(), nil, "AS-DUP", false); err != nil || !found || len(p) == 0 {
		t.Errorf("SetPrefixes after truncation = %v, %v, %v", p, found, err)
	}
	for _, read := range []bool{false, true} {
		if _, _, err := Load(context.Background(), []string{path}, LoadOptions{ReadSnapshot: read}); !errors.Is(err, ErrSnapshot) {
			t.Errorf("Load of a truncated snapshot (read %v): %v, want ErrSnapshot", read, err)
		}
	}
}

func TestSnapshotCorrupt(t *testing.T) {
	data := snapshotOf(t, loadEdge(t))
	cases := map[string][]byte{
		"empty":        nil,
		"magic only":   []byte(SnapshotMagic),
		"no trailer":   data[:len(data)-1],
		"truncated":    append(slices.Clone(data[:len(data)/2]), SnapshotMagic...),
		"other format": []byte("as-set: AS-FOO\nsource: X\n"),
	}
	for name, b := range cases {
		if _, err := ReadSnapshot(b); !errors.Is(err, ErrSnapshot) {
			t.Errorf("%s: err = %v, want ErrSnapshot", name, err)
		}
	}
	// Flipping any single byte never crashes, and is mostly detected.
	stride := 7
	if raceEnabled {
		stride = 61
	}
	for i := len(SnapshotMagic); i < len(data)-len(SnapshotMagic); i += stride {
		b := slices.Clone(data)
		b[i] ^= 0xa5
		if ix, err := ReadSnapshot(b); err == nil {
			answers(t, ix) // must not panic
		}
	}
}

func FuzzReadSnapshot(f *testing.F) {
	ix, _, err := Load(context.Background(), []string{"testdata/edge.db"}, LoadOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(snapshotOf(f, ix))
	f.Add([]byte(SnapshotMagic + SnapshotMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := ReadSnapshot(data)
		if err != nil {
			if !errors.Is(err, ErrSnapshot) {
				t.Fatalf("error %v does not wrap ErrSnapshot", err)
			}
			return
		}
		answers(t, ix) // must not panic, whatever the blocks hold
		// Blocks are verified when first read: a corrupt one is an ErrSnapshot from
		// Verify (and from the queries that read it), and the index is not rewritten.
		if err := ix.Verify(); err != nil {
			if !errors.Is(err, ErrSnapshot) {
				t.Fatalf("Verify: %v does not wrap ErrSnapshot", err)
			}
			return
		}
		// A snapshot that verifies writes back to the same answers.
		again, err := ReadSnapshot(snapshotOf(t, ix))
		if err != nil {
			t.Fatalf("re-reading a re-written snapshot: %v", err)
		}
		if diff := cmp.Diff(answers(t, ix), answers(t, again), answerOpts); diff != "" {
			t.Fatalf("answers differ after rewriting:\n%s", diff)
		}
	})
}

func TestMaskedMatchesNetip(t *testing.T) {
	for _, s := range []string{"0.0.0.0/0", "192.0.2.0/24", "192.0.2.1/32", "::/0", "2001:db8::/32", "2001:db8::1/128", "2001:db8:0:1::/64", "2001:db8:0:0:8000::/65"} {
		p := netip.MustParsePrefix(s)
		for _, k := range []pkey{toKey(p), toKey(netip.PrefixFrom(p.Addr(), max(p.Bits()-1, 0)))} {
			if got, want := masked(k), k.Prefix().Masked() == k.Prefix(); got != want {
				t.Errorf("masked(%s) = %v, want %v", k.Prefix(), got, want)
			}
		}
	}
}

// TestSnapshotConcurrentFirstUse: the texts of a snapshot are read once, by whichever
// of several concurrent queries needs them first (run with -race).
func TestSnapshotConcurrentFirstUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "edge.snap")
	if err := os.WriteFile(path, snapshotOf(t, loadEdge(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, _, err := Load(context.Background(), []string{path}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan string, 8)
	for i := 0; i < 8; i++ {
		go func() {
			if objs := ix.Lookup(nil, "AS64496"); len(objs) != 1 || objs[0].Class != "aut-num" {
				errs <- fmt.Sprintf("Lookup = %v", objs)
				return
			}
			errs <- ""
		}()
	}
	for i := 0; i < 8; i++ {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
