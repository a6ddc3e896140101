package whois_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/bgpq4"
	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/internal/whoistest"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/irr/rpsl"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/whois"
	"github.com/bgpfilter/bgpfilter/whoisd"
)

// dataset is IRR data loaded twice over: the local Index, and a bgpfilter whois server
// serving that same Index on loopback.
type dataset struct {
	name    string
	ix      *irr.Index
	addr    string // the whois server
	noA     string // a proxy in front of it that answers "!a" as IRRd < 4.1 does
	sets    []string
	origins []routing.ASN
}

func loadDataset(t *testing.T, name string, paths ...string) *dataset {
	t.Helper()
	ix, _, err := irr.Load(context.Background(), paths, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := &dataset{name: name, ix: ix, addr: whoistest.Serve(t, ix, whoisd.Options{})}
	d.noA = startNoAProxy(t, d.addr)
	seen := map[routing.ASN]bool{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := rpsl.NewScanner(f, p)
		for {
			o, err := sc.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				continue
			}
			switch o.Class {
			case "as-set", "route-set":
				d.sets = append(d.sets, o.Key)
			case "route", "route6":
				if a, err := routing.ParseASN(strings.TrimSpace(o.Get("origin"))); err == nil && !seen[a] {
					seen[a] = true
					d.origins = append(d.origins, a)
				}
			}
		}
		sc.Close()
		f.Close()
	}
	slices.Sort(d.sets)
	d.sets = slices.Compact(d.sets)
	return d
}

// startNoAProxy forwards a client's queries to upstream and the replies back in order,
// except that it answers every "!a" query itself with IRRd 3's "F Unrecognised
// command", so that the client takes its "!i…,1" + "!g" path against real data.
func startNoAProxy(t *testing.T, upstream string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			type item struct {
				local   string
				forward bool
			}
			queue := make(chan item, 1<<17)
			wg.Add(2)
			go func() { // client -> upstream
				defer wg.Done()
				defer close(queue)
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					q := strings.TrimSpace(line)
					if strings.HasPrefix(q, "!a") {
						queue <- item{local: "F Unrecognised command: a\n"}
						continue
					}
					if _, err := io.WriteString(up, line); err != nil {
						return
					}
					if q != "!!" && q != "!q" {
						queue <- item{forward: true}
					}
				}
			}()
			go func() { // upstream -> client, in query order
				defer wg.Done()
				defer c.Close()
				defer up.Close()
				ubr := bufio.NewReader(up)
				bw := bufio.NewWriter(c)
				for it := range queue {
					if !it.forward {
						bw.WriteString(it.local)
					} else {
						r, err := whois.ReadReply(ubr, 1<<30)
						if err != nil {
							return
						}
						switch r.Kind {
						case whois.ReplyA:
							whois.WriteA(bw, r.Data)
						case whois.ReplyF:
							whois.WriteF(bw, r.Msg)
						default:
							bw.WriteString(string(rune(r.Kind)) + "\n")
						}
					}
					if len(queue) == 0 && bw.Flush() != nil {
						return
					}
				}
				bw.Flush()
			}()
		}
	}()
	return ln.Addr().String()
}

func ripePaths(t *testing.T) []string {
	return []string{
		peer.SharedData(t, "irr/ripe.db.as-set.gz"),
		peer.SharedData(t, "irr/ripe-nonauth.db.route.gz"),
		peer.SharedData(t, "irr/ripe-nonauth.db.route6.gz"),
		peer.SharedData(t, "irr/ripe-nonauth.db.aut-num.gz"),
	}
}

// sourceVariants are the source selections every query is asked with.
func sourceVariants(ix *irr.Index) [][]string {
	all := ix.AllSources()
	out := [][]string{nil}
	for _, s := range all {
		out = append(out, []string{s})
	}
	if len(all) > 1 {
		rev := slices.Clone(all)
		slices.Reverse(rev)
		out = append(out, rev)
	}
	return out
}

// TestClientEqualsLocal is the Querier-level differential test: every query of the
// core matrix (each set: !i, !i,1, !a4, !a6; every origin: !g and !6 in one pipelined
// batch; each source selection) gives the same answer from the remote client against
// bgpfilter's whois server — on the "!a" path and on the "!i,1 + !g" fallback — as from
// the local Index the server serves.
func TestClientEqualsLocal(t *testing.T) {
	root := peer.RepoRoot(t)
	sets := []*dataset{
		loadDataset(t, "edge.db", root+"/irr/testdata/edge.db"),
		loadDataset(t, "example.db", root+"/examples/irr/example.db"),
	}
	if peer.Short(t, "the RIPE dumps") {
		t.Log("-short: RIPE dumps skipped")
	} else {
		sets = append(sets, loadDataset(t, "RIPE", ripePaths(t)...))
	}
	total := 0
	for _, d := range sets {
		sample := d.sets
		if len(sample) > 400 {
			// Every 150th set of the 25,000 RIPE as-sets keeps the test short.
			var s []string
			for i := 0; i < len(sample); i += 150 {
				s = append(s, sample[i])
			}
			sample = append(s, "AS-AS112", "AS-NOT-THERE")
		}
		for _, mode := range []struct{ name, addr string }{{"!a", d.addr}, {"no-!a", d.noA}} {
			t.Run(d.name+"/"+mode.name, func(t *testing.T) {
				ctx := context.Background()
				var logBuf peer.SyncBuffer
				c := whois.NewClient(mode.addr, whois.ClientOptions{QueryTimeout: 20 * time.Second,
					Logger: slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
				defer c.Close()
				defer func() {
					// The debug log names the path each SetPrefixes call took.
					fallback := strings.Contains(logBuf.String(), "server has no !a")
					if fallback != (mode.name == "no-!a") || !strings.Contains(logBuf.String(), "a_queries="+strconv.FormatBool(mode.name == "!a")) {
						t.Errorf("%s: the client did not take the expected path", mode.name)
					}
				}()
				n := 0
				for _, src := range sourceVariants(d.ix) {
					for _, set := range sample {
						for _, rec := range []bool{false, true} {
							lm, lf, lerr := d.ix.Members(ctx, src, set, rec)
							rm, rf, rerr := c.Members(ctx, src, set, rec)
							if lerr != nil || rerr != nil {
								t.Fatalf("Members(%v, %s, %v): local %v, remote %v", src, set, rec, lerr, rerr)
							}
							if !sameMembers(lm, lf, rm, rf) {
								t.Errorf("Members(%v, %s, %v): local %v/%v, remote %v/%v", src, set, rec, lf, lm, rf, rm)
							}
							n++
						}
						for _, v6 := range []bool{false, true} {
							lp, lf, lerr := d.ix.SetPrefixes(ctx, src, set, v6)
							rp, rf, rerr := c.SetPrefixes(ctx, src, set, v6)
							if lerr != nil || rerr != nil {
								t.Fatalf("SetPrefixes(%v, %s, %v): local %v, remote %v", src, set, v6, lerr, rerr)
							}
							if !samePrefixes(lp, lf, rp, rf) {
								t.Errorf("SetPrefixes(%v, %s, v6=%v): local %v/%v, remote %v/%v", src, set, v6, lf, lp, rf, rp)
							}
							n++
						}
					}
					for _, v6 := range []bool{false, true} {
						asns := append(slices.Clone(d.origins), 64511, 4200000000)
						lr, lerr := d.ix.Routes(ctx, src, asns, v6)
						rr, rerr := c.Routes(ctx, src, asns, v6)
						if lerr != nil || rerr != nil {
							t.Fatalf("Routes: local %v, remote %v", lerr, rerr)
						}
						for i := range asns {
							if !slices.Equal(lr[i], rr[i]) {
								t.Errorf("Routes(%v, %s, v6=%v): local %v, remote %v", src, asns[i], v6, lr[i], rr[i])
							}
						}
						n += len(asns)
					}
				}
				total += n
				t.Logf("%s via %s: %d queries, remote == local", d.name, mode.name, n)
			})
		}
	}
	t.Logf("%d queries compared in total", total)
}

// sameMembers compares "!i" answers: the same found, the same members (order is not
// part of the answer). The client tells an empty set from a missing one with "!m", so
// found must match exactly.
func sameMembers(lm []string, lf bool, rm []string, rf bool) bool {
	a, b := slices.Clone(lm), slices.Clone(rm)
	slices.Sort(a)
	slices.Sort(b)
	return lf == rf && slices.Equal(a, b)
}

func samePrefixes(lp []netip.Prefix, lf bool, rp []netip.Prefix, rf bool) bool {
	return lf == rf && slices.Equal(lp, rp)
}

// byteDiff describes the first difference of two outputs.
func byteDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-80)
	return fmt.Sprintf("first difference at byte %d:\n--- a: %q\n--- b: %q", i, a[lo:min(len(a), i+80)], b[lo:min(len(b), i+80)])
}

// bgpq4Cases is the core case matrix: flag sets × objects of the dataset.
func bgpq4Cases(d *dataset) [][]string {
	flagSets := [][]string{
		{}, {"-6"}, {"-A"}, {"-J"}, {"-J", "-z"}, {"-J", "-E"}, {"-X"}, {"-b"}, {"-j"}, {"-B"},
		{"-U"}, {"-N"}, {"-F", "%n/%l "}, {"-R", "28"}, {"-m", "25"}, {"-6", "-A", "-J"},
		{"-f", "64496"}, {"-G", "64496"}, {"-f", "64496", "-J"}, {"-f", "64496", "-X"}, {"-f", "64496", "-b"},
		{"-L", "1"}, {"-L", "2", "-f", "64496"},
	}
	var objects [][]string
	for _, s := range d.sets {
		objects = append(objects, []string{s})
	}
	objects = append(objects, []string{"AS64496"}, []string{"AS64496", "AS65536"}, []string{"AS-NOT-THERE"})
	var out [][]string
	for _, f := range flagSets {
		for _, o := range objects {
			out = append(out, append(slices.Clone(f), o...))
		}
	}
	for _, src := range d.ix.AllSources() {
		for _, s := range d.sets[:min(len(d.sets), 8)] {
			out = append(out, []string{"-S", src, s}, []string{src + "::" + s})
		}
	}
	return out
}

func ripeCases() [][]string {
	var out [][]string
	for _, f := range [][]string{{"-b"}, {"-j"}, {"-J"}, {"-X"}, {}, {"-U"}, {"-N"}, {"-B"}, {"-F", "%n/%l "}} {
		out = append(out, append([]string{"-4"}, append(f, "AS112")...), append([]string{"-6"}, append(f, "AS112")...),
			append([]string{"AS-AS112", "-f", "112"}, f...))
	}
	return append(out, []string{"AS112", "-S", "RIPE-NONAUTH"}, []string{"RIPE-NONAUTH::AS-AS112"}, []string{"-A", "AS-AS112"})
}

// TestBGPQ4OverClient: for every case, (1) Debian's bgpq4 against bgpfilter's whois
// server and (2) bgpfilter's bgpq4 engine through this client against the same server
// print the same bytes with the same exit status; and (3) the engine on the local Index
// (the --irr FILE path) prints those bytes too.
func TestBGPQ4OverClient(t *testing.T) {
	bin := peer.Require(t, "bgpq4")
	root := peer.RepoRoot(t)
	type suite struct {
		d     *dataset
		cases [][]string
	}
	edge := loadDataset(t, "edge.db", root+"/irr/testdata/edge.db")
	example := loadDataset(t, "example.db", root+"/examples/irr/example.db")
	suites := []suite{{edge, bgpq4Cases(edge)}, {example, bgpq4Cases(example)}}
	if !peer.Short(t, "the RIPE dumps") {
		suites = append(suites, suite{loadDataset(t, "RIPE", ripePaths(t)...), ripeCases()})
	}
	compared := 0
	var excluded []string
	defer func() {
		t.Logf("%d cases compared; %d excluded because bgpq4 cannot enumerate their ranges (bgp/bgpq4#66): %q", compared, len(excluded), excluded)
	}()
	for _, s := range suites {
		t.Run(s.d.name, func(t *testing.T) {
			ctx := context.Background()
			c := whois.NewClient(s.d.addr, whois.ClientOptions{QueryTimeout: 20 * time.Second})
			defer c.Close()
			for _, args := range s.cases {
				name := strings.Join(args, " ")
				var rout, rerr, lout, lerr bytes.Buffer
				rcode := bgpq4.Run(ctx, args, nil, c, &rout, &rerr)
				lcode := bgpq4.Run(ctx, args, nil, s.d.ix, &lout, &lerr)
				if lcode != rcode || lout.String() != rout.String() || lerr.String() != rerr.String() {
					t.Errorf("bgpq4 %s: local file (exit %d) vs client (exit %d): %s\nstderr: %q / %q",
						name, lcode, rcode, byteDiff(lout.String(), rout.String()), lerr.String(), rerr.String())
				}
				if hugeRange(s.d, args) {
					// bgpq4 enumerates every prefix of a range (2001:db8::/48^49-128
					// is 2^80 of them) until it runs out of memory (bgp/bgpq4#66).
					excluded = append(excluded, name)
					continue
				}
				dout, derr, dcode := runBGPQ4(t, bin, append([]string{"-h", s.d.addr}, args...))
				dout = peer.NormalizeBGPQ4From19(dout)
				if rcode != dcode || rout.String() != dout {
					t.Errorf("bgpq4 %s: Debian bgpq4 (exit %d) vs engine over the client (exit %d): %s\nstderr: %s / %s",
						name, dcode, rcode, byteDiff(dout, rout.String()), derr, rerr.String())
				}
				compared++
			}
			t.Logf("%s: %d bgpq4 invocations, Debian bgpq4 == engine over client == engine over local file", s.d.name, len(s.cases))
		})
	}
}

// runBGPQ4 runs Debian's bgpq4 with a memory cap (1 GiB of address space) and a time
// limit, so that no input can make it eat the machine.
func runBGPQ4(t *testing.T, bin string, args []string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	argv := append([]string{"--as=1073741824", bin}, args...)
	cmd := exec.CommandContext(ctx, "prlimit", argv...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("bgpq4 %s: no answer within 60 s", strings.Join(args, " "))
	}
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("bgpq4 %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// hugeRange reports whether a case expands a route-set holding a prefix range of more
// than 2^16 prefixes in the case's address family.
func hugeRange(d *dataset, args []string) bool {
	v6 := slices.Contains(args, "-6")
	for _, a := range args {
		name := a
		if i := strings.Index(a, "::"); i >= 0 {
			name = a[i+2:]
		}
		if !strings.Contains(strings.ToUpper(name), "RS-") {
			continue
		}
		m, _, _ := d.ix.Members(context.Background(), nil, name, true)
		for _, tok := range m {
			pr, err := irr.ParsePrefixRange(tok)
			if err != nil || pr.Prefix.Addr().Is6() != v6 {
				continue
			}
			if pr.Max-pr.Prefix.Bits() > 16 {
				return true
			}
		}
	}
	return false
}
