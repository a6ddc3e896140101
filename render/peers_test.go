package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/policy"
)

const birdHeader = "log stderr all;\nrouter id 198.18.0.1;\nprotocol device {}\n"

// birdParse runs bird -p on conf and fails the test with bird's message.
func birdParse(t *testing.T, bird, conf string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bird.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bird, "-p", "-c", path).CombinedOutput()
	if err != nil {
		t.Fatalf("bird -p: %v: %s\n%s", err, out, conf)
	}
}

// TestBirdParsesGoldens: every BIRD golden file, wrapped in a config with a filter that
// uses the set, is accepted by bird -p (BIRD 2).
func TestBirdParsesGoldens(t *testing.T) {
	bird := peer.Require(t, "bird")
	files, _ := filepath.Glob("testdata/golden/bird_*.golden")
	if len(files) < 9 {
		t.Fatalf("only %d bird golden files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			use := "if net ~ AS_EXAMPLE then accept;"
			if strings.Contains(f, "aspath") {
				use = "if bgp_path.last ~ AS_EXAMPLE then accept;"
			}
			birdParse(t, bird, birdHeader+string(b)+"filter f { "+use+" reject; }\n")
		})
	}
}

// matches is the model: does any entry permit route p?
func matches(entries []policy.Entry, p netip.Prefix) bool {
	for _, e := range entries {
		if p.Bits() >= e.Min && p.Bits() <= e.Max && e.Prefix.Contains(p.Addr()) && p.Bits() >= e.Prefix.Bits() {
			return true
		}
	}
	return false
}

// probes returns routes around every entry: the prefix, its first sub-prefix at each
// length from Min-1 to Max+1, and the covering prefix one bit shorter.
func probes(entries []policy.Entry, extra ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, e := range entries {
		max := 32
		if e.Prefix.Addr().Is6() {
			max = 128
		}
		for l := e.Min - 1; l <= e.Max+1 && l <= max; l++ {
			if l >= e.Prefix.Bits() {
				out = append(out, netip.PrefixFrom(e.Prefix.Addr(), l))
				last := e.Prefix.Addr()
				if l > e.Prefix.Bits() && e.Prefix.Addr().Is4() {
					a := last.As4()
					a[3] |= byte(1<<(32-l)) & 0xff
					out = append(out, netip.PrefixFrom(netip.AddrFrom4(a), l).Masked())
				}
			}
		}
		if e.Prefix.Bits() > 0 {
			out = append(out, netip.PrefixFrom(e.Prefix.Addr(), e.Prefix.Bits()-1).Masked())
		}
	}
	for _, s := range extra {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// TestBirdLiveSemantics loads the rendered sets into a running BIRD and asks it, for
// probe routes around every entry, whether "net ~ SET" holds; BIRD must agree with the
// model (and deny everything for the empty sets).
func TestBirdLiveSemantics(t *testing.T) {
	r, err := New("bird", Options{})
	if err != nil {
		t.Fatal(err)
	}
	sets := map[string]*policy.PrefixFilter{
		"V4": withName(fixture4(), "V4"), "V6": withName(fixture6(), "V6"),
		"E4": {Name: "E4", Family: 4}, "E6": {Name: "E6", Family: 6},
	}
	var conf bytes.Buffer
	conf.WriteString(birdHeader)
	for _, pf := range sets {
		out, err := r.PrefixList(pf)
		if err != nil {
			t.Fatal(err)
		}
		conf.Write(out)
	}
	b := peer.StartBIRD(t, t.TempDir(), conf.String())
	peer.Eventually(t, "bird to start", 10*time.Second, b.Up, b.Daemon)
	extra4 := []string{"0.0.0.0/0", "10.0.0.0/8", "192.0.2.0/23", "203.0.113.128/26"}
	extra6 := []string{"::/0", "2001:db8::/32", "2001:db8:3000::/49"}
	checked := 0
	for name, pf := range sets {
		ps := probes(pf.Entries, extra4...)
		if pf.Family == 6 {
			ps = probes(pf.Entries, extra6...)
		}
		for _, p := range ps {
			out, err := b.Birdc(fmt.Sprintf("eval %s ~ %s", p, name))
			if err != nil {
				t.Fatalf("birdc eval %s ~ %s: %v", p, name, err)
			}
			got := strings.Contains(out, "TRUE")
			if !got && !strings.Contains(out, "FALSE") {
				t.Fatalf("birdc eval %s ~ %s: %s", p, name, out)
			}
			if want := matches(pf.Entries, p); got != want {
				t.Errorf("BIRD says %s ~ %s is %v, model says %v", p, name, got, want)
			}
			checked++
		}
	}
	if checked < 50 {
		t.Fatalf("only %d probes", checked)
	}
	t.Logf("%d probes agree with BIRD", checked)
}

// TestFRRLoadsOutput starts FRR 8.4 bgpd with the rendered prefix-lists and as-path
// lists and reads every list back over vtysh: each entry must be there with the same
// sequence, action, prefix and length bounds; the empty lists must deny everything.
func TestFRRLoadsOutput(t *testing.T) {
	r, err := New("frr", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var conf bytes.Buffer
	pls := []*policy.PrefixFilter{withName(fixture4(), "PL4"), withName(fixture4Exact(), "PL4X"), withName(fixture6(), "PL6"),
		{Name: "PLE4", Family: 4}, {Name: "PLE6", Family: 6}}
	for _, pf := range pls {
		out, err := r.PrefixList(pf)
		if err != nil {
			t.Fatal(err)
		}
		conf.Write(out)
	}
	aps := []*policy.ASPathFilter{fixtureAS(0), fixtureAS(64496), fixtureAS(64510), {}}
	for i, af := range aps {
		af.Name = fmt.Sprintf("AP%d", i)
		out, err := r.ASPath(af)
		if err != nil {
			t.Fatal(err)
		}
		conf.Write(out)
	}
	f := peer.StartFRR(t, t.TempDir(), peer.FRRConfig{Listen: "127.0.0.1", Policy: conf.String()})
	if err := f.CheckConf(); err != nil {
		t.Fatal(err)
	}
	vty := func(cmd string) ([]byte, error) {
		out, err := f.Vty(cmd)
		return []byte(out), err
	}
	peer.Eventually(t, "bgpd to start", 15*time.Second, f.Up, f.Daemon)
	if log, _ := os.ReadFile(f.LogFile); bytes.Contains(log, []byte("Config Failed")) ||
		bytes.Contains(log, []byte("No such command")) || bytes.Contains(log, []byte("Unknown command")) {
		t.Fatalf("bgpd config errors:\n%s", log)
	}

	type plEntry struct {
		Seq    int    `json:"sequenceNumber"`
		Type   string `json:"type"`
		Prefix string `json:"prefix"`
		Min    int    `json:"minimumPrefixLength"`
		Max    int    `json:"maximumPrefixLength"`
	}
	for _, pf := range pls {
		kw := "ip"
		if pf.Family == 6 {
			kw = "ipv6"
		}
		out, err := vty(fmt.Sprintf("show %s prefix-list %s json", kw, pf.Name))
		if err != nil {
			t.Fatalf("%s: %v", pf.Name, err)
		}
		var doc map[string]map[string]struct {
			Entries []plEntry `json:"entries"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("%s: %v: %s", pf.Name, err, out)
		}
		got := doc["BGP"][pf.Name].Entries
		if pf.Empty() {
			any, max := "0.0.0.0/0", 32 // FRR stores "any" as 0.0.0.0/0 le 32
			if pf.Family == 6 {
				any, max = "::/0", 128
			}
			if len(got) != 1 || got[0].Type != "deny" || got[0].Prefix != any || got[0].Max != max {
				t.Errorf("%s: empty list in FRR = %+v, want one deny any", pf.Name, got)
			}
			continue
		}
		if len(got) != len(pf.Entries) {
			t.Fatalf("%s: FRR has %d entries, want %d: %s", pf.Name, len(got), len(pf.Entries), out)
		}
		for i, e := range pf.Entries {
			want := plEntry{Seq: (i + 1) * 5, Type: "permit", Prefix: e.Prefix.String()}
			if e.HasGE() {
				want.Min = e.Min
			}
			if e.HasLE() {
				want.Max = e.Max
			}
			if got[i] != want {
				t.Errorf("%s entry %d: FRR %+v, want %+v", pf.Name, i, got[i], want)
			}
		}
	}

	out, err := vty("show bgp as-path-access-list json")
	if err != nil {
		t.Fatal(err)
	}
	type apEntry struct {
		Seq    int    `json:"sequenceNumber"`
		Type   string `json:"type"`
		RegExp string `json:"regExp"`
	}
	var apDoc map[string][]apEntry
	if err := json.Unmarshal(out, &apDoc); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, af := range aps {
		rendered, _ := r.ASPath(af)
		var want []apEntry
		for _, line := range strings.Split(strings.TrimSpace(string(rendered)), "\n") {
			var e apEntry
			var name string
			if strings.HasPrefix(line, "no ") {
				want = nil // the list is replaced from here on
				continue
			}
			if strings.HasPrefix(line, "!") {
				continue
			}
			if _, err := fmt.Sscanf(line, "bgp as-path access-list %s seq %d %s %s", &name, &e.Seq, &e.Type, &e.RegExp); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			want = append(want, e)
		}
		if len(want) == 0 {
			t.Fatalf("%s: nothing rendered", af.Name)
		}
		if got := apDoc[af.Name]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: FRR has %+v, want %+v", af.Name, got, want)
		}
	}
	if got := apDoc["AP3"]; len(got) != 1 || got[0].Type != "deny" || got[0].RegExp != ".*" {
		t.Errorf("empty as-path list in FRR = %+v, want one deny .*", got)
	}

	// Applying a shorter list to the running daemon replaces it: no stale entries.
	short, _ := r.PrefixList(withName(fixture4Exact(), "PL4"))
	af := &policy.ASPathFilter{Name: "AP0", Origins: fixtureAS(0).Origins[:2]}
	shortAP, _ := r.ASPath(af)
	if err := f.Apply(string(append(short, shortAP...))); err != nil {
		t.Fatal(err)
	}
	out, _ = vty("show ip prefix-list PL4")
	if n := strings.Count(string(out), " permit "); n != 3 || !strings.Contains(string(out), "seq 10 permit 192.0.2.0/25") {
		t.Errorf("after reload, PL4 is\n%s", out)
	}
	out, _ = vty("show bgp as-path-access-list AP0")
	if n := strings.Count(string(out), "permit"); n != 1 || !strings.Contains(string(out), "_(64496|64497)$") || strings.Contains(string(out), "deny") {
		t.Errorf("after reload, AP0 is\n%s", out)
	}
}
