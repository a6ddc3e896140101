package bgpq4

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/internal/whoistest"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

// emptyQuerier serves the same (empty) registry as whoistest.Handshake: one source TEST.
type emptyQuerier struct{}

func (emptyQuerier) Sources(context.Context) ([]string, error) { return []string{"TEST"}, nil }
func (emptyQuerier) CheckSources(_ context.Context, s []string) error {
	for _, x := range s {
		if !strings.EqualFold(x, "TEST") {
			return fmt.Errorf("%s: %w", x, irr.ErrUnknownSource)
		}
	}
	return nil
}
func (emptyQuerier) Members(context.Context, []string, string, bool) ([]string, bool, error) {
	return nil, false, nil
}
func (emptyQuerier) SetPrefixes(context.Context, []string, string, bool) ([]netip.Prefix, bool, error) {
	return nil, false, nil
}
func (emptyQuerier) Routes(_ context.Context, _ []string, a []routing.ASN, _ bool) ([][]netip.Prefix, error) {
	return make([][]netip.Prefix, len(a)), nil
}

var diffVendors = [][]string{
	nil, {"-J"}, {"-X"}, {"-j"}, {"-b"}, {"-B"}, {"-e"}, {"-U"}, {"-u"}, {"-K"}, {"-K7"}, {"-N"}, {"-n"},
	{"-F", "%n/%l %a-%A %N %m %i|"}, {"-s"}, {"-E"}, {"-JE"}, {"-Jz"}, {"-BE"}, {"-NE"}, {"-nE"},
	{"-JE", "-l", "POL/TERM", "-M", "community x"}, {"-B", "-a", "65000"},
}

func randPrefix(rng *rand.Rand, v6, dense bool) string {
	if v6 {
		l := 32 + rng.IntN(17)
		if dense {
			l = 44 + rng.IntN(5)
		}
		a := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, byte(rng.IntN(4)), byte(rng.IntN(256))}
		return netip.PrefixFrom(netip.AddrFrom16(a), l).String() // host bits kept: bgpq4 masks them
	}
	l := 16 + rng.IntN(13)
	if dense {
		l = 20 + rng.IntN(5)
	}
	a := [4]byte{10, 0, byte(rng.IntN(16)), byte(rng.IntN(256))}
	return netip.PrefixFrom(netip.AddrFrom4(a), l).String()
}

// TestDifferentialLiteral runs random literal prefixes and ranges through every
// prefix-list format and -A/-R/-r/-m/-s on the installed bgpq4 and on Run, and requires
// identical exit status, stderr and stdout (stdout after the documented 1.9 → 1.16
// rewrites).
func TestDifferentialLiteral(t *testing.T) {
	bin := peer.Require(t, "bgpq4")
	addr := whoistest.Handshake(t)
	rng := rand.New(rand.NewPCG(3, 4))
	cases := 400
	if peer.Short(t, "60 of 400 random cases") {
		cases = 60
	}
	nonzero, traced := 0, 0
	for i := 0; i < cases; i++ {
		v6 := i%3 == 2
		dense := i%2 == 0
		var args []string
		vend := diffVendors[rng.IntN(len(diffVendors))]
		args = append(args, vend...)
		if v6 {
			args = append(args, "-6")
		}
		junosPL := len(vend) == 1 && vend[0] == "-J"
		if rng.IntN(2) == 0 && !junosPL {
			args = append(args, "-A")
			if rng.IntN(6) == 0 {
				args = append(args, "-A") // -AA: aggregation trace on stdout
			}
		}
		base, amax := 16, 32
		if v6 {
			base, amax = 32, 128
		}
		if rng.IntN(8) == 0 {
			// bgpq4 refuses literal prefixes longer than -m, so mostly pick a high -m
			args = append(args, "-m", strconv.Itoa(amax-rng.IntN(6)))
		}
		if rng.IntN(4) == 0 && !junosPL {
			args = append(args, "-R", strconv.Itoa(base+4+rng.IntN(10)))
		}
		if rng.IntN(5) == 0 && !junosPL {
			args = append(args, "-r", strconv.Itoa(base+rng.IntN(8)))
		}
		if rng.IntN(6) == 0 {
			args = append(args, "-l", "L"+strconv.Itoa(i))
		}
		n := 1 + rng.IntN(25)
		for j := 0; j < n; j++ {
			p := randPrefix(rng, v6, dense)
			switch rng.IntN(12) {
			case 0:
				p += "^-"
			case 1:
				p += "^+"
			case 2:
				pl := netip.MustParsePrefix(p).Bits()
				p += "^" + strconv.Itoa(pl+rng.IntN(3))
			case 3:
				pl := netip.MustParsePrefix(p).Bits()
				lo := pl + rng.IntN(3)
				p += "^" + strconv.Itoa(lo) + "-" + strconv.Itoa(lo+rng.IntN(3))
			}
			if strings.Contains(p, "^") {
				// keep enumerations small: ranges only on long prefixes
				pl := netip.MustParsePrefix(strings.Split(p, "^")[0]).Bits()
				if amax-pl > 6 && (strings.HasSuffix(p, "^-") || strings.HasSuffix(p, "^+")) {
					p = strings.Split(p, "^")[0]
				}
			}
			args = append(args, p)
		}
		r := peer.BGPQ4(t, bin, addr, nil, args...)
		want := r.Code
		var o2, e2 bytes.Buffer
		got := Run(context.Background(), args, nil, emptyQuerier{}, &o2, &e2)
		if want != 0 {
			nonzero++
		}
		if strings.Contains(r.Stdout, "Aggregating on node: ") {
			traced++
		}
		if got != want || o2.String() != peer.NormalizeBGPQ4From19(r.Stdout) || e2.String() != r.Stderr {
			t.Fatalf("case %d: bgpq4 %s\nexit %d vs %d\n--- bgpq4 stdout:\n%s--- bgpq4 stderr:\n%s--- ours stdout:\n%s--- ours stderr:\n%s",
				i, strings.Join(args, " "), want, got, r.Stdout, r.Stderr, o2.String(), e2.String())
		}
	}
	t.Logf("%d random literal-prefix runs identical to bgpq4 (%d with a non-zero exit, %d with an -AA trace)", cases, nonzero, traced)
	if traced == 0 && !testing.Short() {
		t.Error("no -AA trace compared")
	}
}

// TestDifferentialOddLiterals feeds bgpq4's prefix parser its odd inputs (octal and hex
// octets, junk after the address, out-of-range lengths, zones, ranges with bad bounds)
// and compares exit status, stdout and stderr with the installed bgpq4.
func TestDifferentialOddLiterals(t *testing.T) {
	bin := peer.Require(t, "bgpq4")
	addr := whoistest.Handshake(t)
	cases := [][]string{
		{"10.0.0.1/24"}, {"010.000.000.000/24"}, {"0x0a.0.0.0/8"}, {"10.1.2.3"}, {"10.0.0.0/33"},
		{"10.0.0.0/-1"}, {"10.0.0.0/"}, {"10.0.0.0/24x"}, {"256.0.0.0/8"}, {"1.2.3.4abc/24"},
		{" 10.0.0.0/8"}, {"10.0.0.0/8 "}, {"1.2.3/24"}, {"fltr-foo"}, {"-6", "2001:db8::1/32"},
		{"-6", "2001:db8::/129"}, {"-6", "fe80::1%eth0/64"}, {"-6", "10.0.0.0/8"}, {"2001:db8::/32"},
		{"10.0.0.0/24^"}, {"10.0.0.0/24^x"}, {"10.0.0.0/24^25x"}, {"10.0.0.0/24^25-"}, {"10.0.0.0/24^23"},
		{"10.0.0.0/24^26-25"}, {"10.0.0.0/24^25-33"}, {"-m", "24", "10.0.0.0/25^26"}, {"-6", "10.0.0.0/24^25"},
		{"-6", "2001:db8::/126^+"}, {"-6", "2001:db8::/64^64-129"}, {"192.0.2.0/24", "10.1.2.3", "2001:db8::/32", "AS1000"},
		{"AS1.10"}, {"RIPE::AS1000"}, {"AS1000:FOO"}, {"AS"}, {"-p", "AS64500", "AS23456"},
		{"-F", `%n %x\n`, "10.0.0.0/8", "10.1.0.0/16"}, {"-F", `%N\t%r%%%l\q\\`, "10.0.0.0/8"}, {"-F", "%", "10.0.0.0/8"},
		{"-F", `%m %i %a %A\n`, "-6", "-A", "2001:db8::/48", "2001:db8:1::/48"},
	}
	for _, args := range cases {
		r := peer.BGPQ4(t, bin, addr, nil, args...)
		want := r.Code
		var o2, e2 bytes.Buffer
		got := Run(context.Background(), args, nil, emptyQuerier{}, &o2, &e2)
		if got != want || r.Stdout != o2.String() || r.Stderr != e2.String() {
			t.Errorf("bgpq4 %q: exit %d vs %d\n--- bgpq4:\n%s%s--- ours:\n%s%s", args, want, got, r.Stdout, r.Stderr, o2.String(), e2.String())
		}
	}
}

// TestDifferentialMatchEscapes compares -M escape handling with the installed bgpq4.
func TestDifferentialMatchEscapes(t *testing.T) {
	bin := peer.Require(t, "bgpq4")
	addr := whoistest.Handshake(t)
	for _, m := range []string{"community blackhole", `a\nb`, "a\\\nb", `a\tb\rc\\d`, `a\qb`, `ab\`} {
		args := []string{"-JE", "-l", "P/T", "-M", m, "10.0.0.0/8"}
		r := peer.BGPQ4(t, bin, addr, nil, args...)
		want := r.Code
		var o2, e2 bytes.Buffer
		got := Run(context.Background(), args, nil, emptyQuerier{}, &o2, &e2)
		if got != want || r.Stdout != o2.String() || r.Stderr != e2.String() {
			t.Errorf("-M %q: exit %d vs %d\n--- bgpq4:\n%s%s--- ours:\n%s%s", m, want, got, r.Stdout, r.Stderr, o2.String(), e2.String())
		}
	}
}

// TestDifferentialOptions draws random flag combinations and compares exit status,
// stdout and stderr with the installed bgpq4: option parsing, the order of bgpq4's
// checks and their messages. Combinations whose result changed after 1.9 are skipped.
func TestDifferentialOptions(t *testing.T) {
	bin := peer.Require(t, "bgpq4")
	addr := whoistest.Handshake(t)
	pool := [][]string{{"-4"}, {"-6"}, {"-A"}, {"-b"}, {"-B"}, {"-e"}, {"-E"}, {"-F", "%n/%l"}, {"-J"}, {"-j"},
		{"-K"}, {"-K7"}, {"-N"}, {"-n"}, {"-U"}, {"-u"}, {"-X"}, {"-z"}, {"-f", "1"}, {"-G", "1"}, {"-H", "1"},
		{"-t"}, {"-s"}, {"-M", "x"}, {"-R", "24"}, {"-r", "20"}, {"-R", "33"}, {"-r", "140"}, {"-m", "24"},
		{"-m", "33"}, {"-m", "0"}, {"-R", "0"}, {"-w"}, {"-p"}, {"-W", "3"}, {"-l", "N"}, {"-a", "1"},
		{"-L", "2"}, {"-L", "0"}, {"-T"}, {"-7"}, {"-f", "1.5"}, {"-f", "70000.1"}, {"-f", "x"}, {"-a", "0"}, {"-D"},
		{"-q"}} // -d (debug lines on stderr) is not reproduced
	rng := rand.New(rand.NewPCG(5, 6))
	n := 600
	if peer.Short(t, "100 of 600 random flag combinations") {
		n = 100
	}
	compared := 0
	for i := 0; i < n; i++ {
		var args []string
		for k := 1 + rng.IntN(4); k > 0; k-- {
			args = append(args, pool[rng.IntN(len(pool))]...)
		}
		s := " " + strings.Join(args, " ") + " "
		if strings.Contains(s, " -e ") && strings.Contains(s, " -E ") && strings.Contains(s, " -6 ") {
			continue // 1.16 forbids -e -E -6
		}
		if strings.Contains(s, " -w ") {
			continue // -w is a no-op in 1.9
		}
		if rng.IntN(2) == 0 {
			args = append(args, "10.0.0.0/8")
		} else {
			args = append(args, "AS-X", "AS1")
		}
		r := peer.BGPQ4(t, bin, addr, nil, args...)
		want := r.Code
		out1 := peer.NormalizeBGPQ4From19(r.Stdout)               // the usage text too
		err1 := strings.ReplaceAll(r.Stderr, bin+": ", "bgpq4: ") // getopt prints argv[0]
		var o2, e2 bytes.Buffer
		got := Run(context.Background(), args, nil, emptyQuerier{}, &o2, &e2)
		if got != want || out1 != o2.String() || err1 != e2.String() {
			t.Errorf("bgpq4 %q: exit %d vs %d\n--- bgpq4:\n%s%s--- ours:\n%s%s", args, want, got, r.Stdout, r.Stderr, o2.String(), e2.String())
		}
		compared++
	}
	t.Logf("%d random flag combinations identical to bgpq4", compared)
}

// TestDifferentialFormats compares random -F formats with the installed bgpq4.
func TestDifferentialFormats(t *testing.T) {
	bin := peer.Require(t, "bgpq4")
	addr := whoistest.Handshake(t)
	rng := rand.New(rand.NewPCG(9, 9))
	atoms := []string{"%n", "%l", "%a", "%A", "%m", "%i", "%N", "%r", "%%", "%x", `\n`, `\t`, `\\`, `\q`, " ", "/", "-", "x"}
	for i := 0; i < 150; i++ {
		var f strings.Builder
		for k := 1 + rng.IntN(6); k > 0; k-- {
			f.WriteString(atoms[rng.IntN(len(atoms))])
		}
		args := []string{"-F", f.String(), "-A", "10.0.0.0/24", "10.0.1.0/24", "10.0.0.0/23", "192.0.2.1"}
		if i%3 == 0 {
			args = []string{"-F", f.String(), "-6", "-R", "64", "2001:db8::/48", "2001:db8:0:1::/64"}
		}
		r := peer.BGPQ4(t, bin, addr, nil, args...)
		if r.Code != 0 {
			t.Fatalf("bgpq4 %q: exit %d: %s", args, r.Code, r.Stderr)
		}
		var o2, e2 bytes.Buffer
		if code := Run(context.Background(), args, nil, emptyQuerier{}, &o2, &e2); code != 0 {
			t.Fatalf("exit %d", code)
		}
		if r.Stdout != o2.String() || r.Stderr != e2.String() {
			t.Errorf("-F %q:\n--- bgpq4:\n%q\n%q\n--- ours:\n%q\n%q", f.String(), r.Stdout, r.Stderr, o2.String(), e2.String())
		}
	}
}
