package flow

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/flow/pcap"
	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// datagram is one export datagram of a shared capture, with where it came from.
type datagram struct {
	src     netip.AddrPort
	dstPort uint16
	payload []byte
}

// captureGroup is the datagrams of one exporter's sample in the order a collector must
// see them (templates before data).
type captureGroup struct {
	name      string
	datagrams []datagram
}

// sharedCaptures loads every capture under ../shared/data/flows: the pcaps as they are,
// and logstash-codec-netflow's raw datagrams as if sent from 192.0.2.1:2055 to 2055.
// Files that belong together (akvorado's *-template/*-data, logstash's *_tpl*/*_data*)
// form one group, templates first.
func sharedCaptures(t testing.TB) []captureGroup {
	t.Helper()
	root := peer.SharedData(t, "flows")
	groups := map[string][]string{}
	var order []string
	add := func(key, file string) {
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], file)
	}
	for _, dir := range []string{"akvorado", "pmacct", "tcpdump", "ndpi"} {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.pcap"))
		sort.Strings(files)
		for _, f := range files {
			base := strings.TrimSuffix(filepath.Base(f), ".pcap")
			key := base
			if dir == "akvorado" {
				for _, suf := range []string{"-options-template", "-options-data", "-templates", "-template", "-data"} {
					if strings.HasSuffix(base, suf) {
						key = strings.TrimSuffix(base, suf)
						break
					}
				}
			}
			add(dir+"/"+key, f)
		}
	}
	dats, _ := filepath.Glob(filepath.Join(root, "logstash-codec-netflow", "*.dat"))
	sort.Strings(dats)
	for _, f := range dats {
		base := strings.TrimSuffix(filepath.Base(f), ".dat")
		key := base
		for _, m := range []string{"_opttpl", "_tplopt", "_tpl", "_data"} {
			if i := strings.Index(base, m); i > 0 && (len(key) > i) {
				key = base[:i]
			}
		}
		add("logstash/"+key, f)
	}
	if len(order) == 0 {
		peer.Missing(t, "no captures under "+root)
	}
	rank := func(f string) int {
		b := filepath.Base(f)
		switch {
		case strings.Contains(b, "options-template"):
			return 1
		case strings.Contains(b, "options-data"):
			return 2
		case strings.Contains(b, "template"), strings.Contains(b, "_tpl"), strings.Contains(b, "_opttpl"):
			return 0
		}
		return 3
	}
	var out []captureGroup
	for _, key := range order {
		files := groups[key]
		sort.SliceStable(files, func(i, j int) bool { return rank(files[i]) < rank(files[j]) })
		g := captureGroup{name: key}
		for _, f := range files {
			if strings.HasSuffix(f, ".dat") {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				g.datagrams = append(g.datagrams, datagram{netip.MustParseAddrPort("192.0.2.1:2055"), 2055, b})
				continue
			}
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := pcap.NewReader(fh)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for {
				d, err := r.Next()
				if err != nil {
					break
				}
				g.datagrams = append(g.datagrams, datagram{d.Src, d.Dst.Port(), bytes.Clone(d.Payload)})
			}
			fh.Close()
		}
		out = append(out, g)
	}
	return out
}

// writeCapturesPcap writes every group's datagrams into one raw-IP pcap for a single
// tshark run (see outerSource).
func writeCapturesPcap(t testing.TB, path string, groups []captureGroup) {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, pcap.LinkRaw)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	i := 0
	for gi, g := range groups {
		for _, d := range g.datagrams {
			i++
			src := netip.AddrPortFrom(d.src.Addr(), uint16(20000+gi))
			port := capturePort(d)
			dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
			if !src.Addr().Is4() {
				dst = netip.AddrPortFrom(netip.IPv6Loopback(), port)
			}
			if src.Addr().Is6() && !src.Addr().Is4In6() {
				dst = netip.AddrPortFrom(netip.IPv6Loopback(), port)
			}
			if err := w.WriteUDP(ts.Add(time.Duration(i)*time.Millisecond), src, dst, d.payload); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// capturePort is the UDP port a datagram is sent to in the tshark capture: its own,
// except that a port carrying sFlow (tcpdump's capture also sends NetFlow v5 to 6343)
// is kept for sFlow, as tshark decodes a port as one protocol.
func capturePort(d datagram) uint16 {
	if Detect(d.payload) == ProtoSFlowV5 {
		return 6343
	}
	if d.dstPort == 6343 || d.dstPort == 0 {
		return 2055
	}
	return d.dstPort
}

// outerSource is the address a datagram is sent from in the tshark capture: the
// original port, and an address of its own per group and original address (the
// original family kept), so that groups recorded from the same exporter do not share
// templates in tshark while a group's own sessions stay as they were.
func outerSource(g captureGroup, gi int, d datagram) netip.AddrPort {
	seen := map[netip.Addr]int{}
	for _, o := range g.datagrams {
		if _, ok := seen[o.src.Addr()]; !ok {
			seen[o.src.Addr()] = len(seen)
		}
	}
	k := seen[d.src.Addr()]
	if d.src.Addr().Is4() {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, byte(gi + 1), byte(k), 1}), d.src.Port())
	}
	return netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, byte(gi), 15: byte(k + 1)}), d.src.Port())
}

// tsharkFields runs tshark over a pcap, decoding the given UDP ports as cflow or sflow,
// and returns one line per packet of the requested fields (all occurrences).
func tsharkFields(t testing.TB, file string, ports map[uint16]string, fields ...string) []string {
	t.Helper()
	tshark := peer.Require(t, "tshark")
	args := []string{"-r", file, "-n", "-T", "fields", "-E", "occurrence=a", "-E", "separator=;", "-E", "aggregator=,"}
	for p, proto := range ports {
		args = append(args, "-d", "udp.port=="+strconv.Itoa(int(p))+","+proto)
	}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(tshark, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %v: %v\n%s", args, err, stderr.String())
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}

// captureExceptions are the groups where tshark and this decoder differ on purpose, each
// checked by hand against the bytes.
var captureExceptions = map[string]string{
	// header count 55582 / 163 in a 1464-byte datagram (room for 30 records): the sample's
	// own name says invalid; tshark decodes 30 records of garbage, we refuse the datagram
	"logstash/netflow5_test_invalid01": "refused",
	"logstash/netflow5_test_invalid02": "refused",
	// 16 data sets of one record each (the v9 header says count 16); tshark 4.0 dissects
	// only the first set
	"logstash/netflow9_test_h3c": "count16",
	// the header says count 2 and 5 sets follow (2 templates, an options template,
	// options data, 2 data sets); tshark stops after the 2 template sets, we decode the
	// IPv4 and the IPv6 record (softflowd, a real exporter, counts only data records,
	// see netflow.go)
	"logstash/netflow9_test_invalid01": "count2",
	// two records fill both sourceIPv4Address and sourceIPv6Address; we take the IPv4 one
	"pmacct/106-IPFIXv10-HUAWEI-vrf_name__traffic-00": "dualsrc",
	// the exporter restarts on a new source port (61853 -> 65156) and sends data set
	// 347 before re-sending template 347: templates belong to the transport session
	// (RFC 7011 §8), so those records cannot be decoded. tshark on the original capture
	// decodes none either; in the re-addressed capture it applies the old session's
	// template, which we do not
	"pmacct/112-IPFIXv10-CISCO-options-map-reassignment__traffic-00": "newsession",
}

// TestSharedCapturesAgainstTshark decodes every capture of ../shared/data/flows and
// checks, per group, the multiset of NetFlow/IPFIX source addresses against tshark's
// (cflow.srcaddr/srcaddrv6, unspecified addresses left out on both sides: templates
// that carry both families fill one with zeros) and the number of sFlow records against
// tshark's flow samples, each of whose sources tshark must also show.
func TestSharedCapturesAgainstTshark(t *testing.T) {
	groups := sharedCaptures(t)
	f := filepath.Join(t.TempDir(), "all.pcap")
	writeCapturesPcap(t, f, groups)
	ports := map[uint16]string{2055: "cflow", 6343: "sflow"}
	for _, g := range groups {
		for _, d := range g.datagrams {
			if p := capturePort(d); p != 6343 {
				ports[p] = "cflow"
			}
		}
	}
	all := tsharkFields(t, f, ports,
		"cflow.srcaddr", "cflow.srcaddrv6", "sflow_245.sampletype", "ip.src", "ipv6.src",
		"sflow_245.ipv4_src", "sflow_245.ipv6_src")
	ndg := 0
	for _, g := range groups {
		ndg += len(g.datagrams)
	}
	if len(all) != ndg {
		t.Fatalf("tshark printed %d lines for %d datagrams", len(all), ndg)
	}
	total := 0
	for gi, g := range groups {
		lines := all[:len(g.datagrams)]
		all = all[len(g.datagrams):]
		t.Run(strings.ReplaceAll(g.name, "/", "_"), func(t *testing.T) {
			d := NewDecoder(Limits{}, nil)
			var nf, sf []string
			nsf := make([]int, len(g.datagrams))
			var recs []Record
			for i, dg := range g.datagrams {
				n0 := len(recs)
				recs, _ = d.Decode(dg.src, dg.payload, recs)
				for _, r := range recs[n0:] {
					if r.Proto == ProtoSFlowV5 {
						sf = append(sf, r.Src.String())
						nsf[i]++
					} else if !r.Src.IsUnspecified() {
						nf = append(nf, r.Src.String())
					}
				}
			}
			total += len(recs)
			var tnf []string
			sfAt := 0
			for i, l := range lines {
				cols := strings.Split(l, ";")
				for len(cols) < 7 {
					cols = append(cols, "")
				}
				list := func(c string) []string {
					if c == "" {
						return nil
					}
					return strings.Split(c, ",")
				}
				for _, a := range append(list(cols[0]), list(cols[1])...) {
					if a != "0.0.0.0" && a != "::" {
						tnf = append(tnf, a)
					}
				}
				samples := 0
				for _, st := range list(cols[2]) {
					if st == "1" || st == "3" {
						samples++
					}
				}
				if Detect(g.datagrams[i].payload) != ProtoSFlowV5 {
					continue
				}
				if nsf[i] != samples {
					t.Errorf("datagram %d: %d sFlow records, tshark shows %d flow samples", i+1, nsf[i], samples)
				}
				// every source we report appears among the addresses tshark dissected
				// (minus the outer header's)
				seen := map[string]int{}
				inner := append(append(list(cols[3]), list(cols[4])...), append(list(cols[5]), list(cols[6])...)...)
				for _, a := range inner {
					seen[a]++
				}
				seen[outerSource(g, gi, g.datagrams[i]).Addr().String()]--
				for _, a := range sf[sfAt : sfAt+nsf[i]] {
					if seen[a] <= 0 {
						t.Errorf("datagram %d: sFlow source %s is not among tshark's %v", i+1, a, inner)
					}
					seen[a]--
				}
				sfAt += nsf[i]
			}
			sort.Strings(nf)
			sort.Strings(tnf)
			got, want := strings.Join(nf, " "), strings.Join(tnf, " ")
			switch captureExceptions[g.name] {
			case "refused":
				if len(recs) != 0 || d.Stats().Malformed != 1 || len(tnf) != 30 {
					t.Errorf("want the datagram refused (tshark: %d records), got %d records, %+v", len(tnf), len(recs), d.Stats())
				}
			case "count2":
				if got != "192.168.0.1 2001:44b8:1118:7200::10" || len(tnf) != 0 {
					t.Errorf("want the 2 records after the count (tshark none: %s), got %s", want, got)
				}
			case "count16":
				if len(nf) != 16 || len(tnf) != 1 || !strings.Contains(got, want) {
					t.Errorf("want 16 records (tshark shows 1: %s), got %d: %s", want, len(nf), got)
				}
			case "newsession":
				if len(recs) != 0 || d.Stats().TemplateNotFound == 0 || len(tnf) == 0 {
					t.Errorf("want no records and template-not-found counted, got %d records, %+v (tshark %d)", len(recs), d.Stats(), len(tnf))
				}
			case "dualsrc":
				if len(nf) != len(tnf)-2 {
					t.Errorf("want tshark's %d sources minus the 2 IPv6 ones of dual-source records, got %d", len(tnf), len(nf))
				}
			default:
				if got != want {
					t.Errorf("NetFlow/IPFIX sources differ from tshark's\n ours:   %s\n tshark: %s", got, want)
				}
			}
			t.Logf("%d datagrams, %d records (%d NetFlow/IPFIX with a source, %d sFlow)", len(g.datagrams), len(recs), len(nf), len(sf))
		})
	}
	if total < 500 {
		t.Errorf("only %d records over all captures", total)
	}
}
