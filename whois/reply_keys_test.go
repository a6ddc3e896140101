package whois

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
)

// readModes reads one "!a"/"!g" reply carrying data in prefix mode and in key mode,
// through a bufio.Reader of size bytes (small sizes cut tokens between fills).
func readModes(t testing.TB, data []byte, v6 bool, size int) (want pfxkey.List, wantErr error, got pfxkey.List, gotErr error) {
	var b bytes.Buffer
	WriteA(&b, data)
	WriteC(&b)
	raw := b.Bytes()
	pm, km := dataPrefixes4, dataKeys4
	if v6 {
		pm, km = dataPrefixes6, dataKeys6
	}
	var scratch []netip.Prefix
	rp, wantErr := readReplyMode(bufio.NewReaderSize(bytes.NewReader(raw), size), 1<<30, pm, &scratch)
	if wantErr == nil {
		want = pfxkey.ListOf(rp.Prefixes, v6)
	}
	rk, gotErr := readReplyMode(bufio.NewReaderSize(bytes.NewReader(raw), size), 1<<30, km, &scratch)
	got = rk.Keys
	got.V6 = v6
	return want, wantErr, got, gotErr
}

func sameList(a, b pfxkey.List) bool {
	return a.V6 == b.V6 && slices.Equal(a.P4, b.P4) && slices.Equal(a.K6, b.K6) && a.Len() == b.Len()
}

// TestKeysMatchPrefixes: the key mode gives exactly the prefixes of the prefix mode (the
// netip parser, an independent implementation), masked, sorted and without duplicates,
// and fails on the same replies, for every buffer size from the smallest bufio allows.
func TestKeysMatchPrefixes(t *testing.T) {
	cases := []struct {
		name string
		data string
		v6   bool
		n    int  // prefixes expected
		bad  bool // the reply must be refused
	}{
		{"sorted", "192.0.2.0/24 198.51.100.0/24 203.0.113.0/24", false, 3, false},
		{"unsorted and duplicates", "203.0.113.0/24 192.0.2.0/24\n203.0.113.0/24 192.0.2.0/25 192.0.2.0/24", false, 3, false},
		{"host bits set", "192.0.2.1/24 192.0.2.0/24 198.51.100.77/32", false, 2, false},
		{"every whitespace", "\t192.0.2.0/24\r\n198.51.100.0/24\v\f203.0.113.0/24  ", false, 3, false},
		{"lengths 0 and 32", "0.0.0.0/0 203.0.113.255/32 10.0.0.0/8", false, 3, false},
		{"leading zero length", "192.0.2.0/024", false, 0, true},
		{"leading zero octet", "192.0.02.0/24", false, 0, true},
		{"too long", "192.0.2.0/33", false, 0, true},
		{"octet over 255", "192.0.256.0/24", false, 0, true},
		{"no length", "192.0.2.0", false, 0, true},
		{"empty length", "192.0.2.0/", false, 0, true},
		{"ipv6 in an ipv4 answer", "192.0.2.0/24 2001:db8::/32", false, 0, true},
		{"garbage", "192.0.2.0/24 AS64496", false, 0, true},
		{"ipv6", "2001:db8:1::/48 2001:db8::/32 2001:db8::/32 2001:DB8:0:0:0:0:0:1/128", true, 3, false},
		{"ipv6 host bits", "2001:db8::1/32 2001:db8::/32", true, 1, false},
		{"ipv6 embedded ipv4", "::ffff:192.0.2.0/120", true, 0, true},
		{"ipv6 written with an ipv4 tail", "2001:db8::192.0.2.0/120 2001:db8::/32", true, 2, false},
		{"ipv4 in an ipv6 answer", "2001:db8::/32 192.0.2.0/24", true, 0, true},
		{"ipv6 zone", "fe80::1%eth0/64", true, 0, true},
	}
	for _, tc := range cases {
		for _, size := range []int{16, 17, 23, 64, 4096} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, size), func(t *testing.T) {
				want, wantErr, got, gotErr := readModes(t, []byte(tc.data), tc.v6, size)
				if (wantErr != nil) != tc.bad || (gotErr != nil) != tc.bad {
					t.Fatalf("prefix mode err %v, key mode err %v; want refused=%v", wantErr, gotErr, tc.bad)
				}
				if tc.bad {
					return
				}
				if !sameList(got, want) || got.Len() != tc.n {
					t.Fatalf("keys %v, want %v (%d prefixes)", got.Prefixes(), want.Prefixes(), tc.n)
				}
			})
		}
	}
}

// TestKeysLargeReply: a reply of many prefixes in random order, cut at every fill of a
// small buffer, gives the prefix mode's set.
func TestKeysLargeReply(t *testing.T) {
	var sb strings.Builder
	seed := uint32(12345)
	for i := 0; i < 20000; i++ {
		seed = seed*1664525 + 1013904223
		bits := 8 + seed%25
		fmt.Fprintf(&sb, "%d.%d.%d.%d/%d\n", byte(seed>>24), byte(seed>>16), byte(seed>>8), byte(seed), bits)
	}
	for _, size := range []int{16, 100, 4096, 65536} {
		want, wantErr, got, gotErr := readModes(t, []byte(sb.String()), false, size)
		if wantErr != nil || gotErr != nil {
			t.Fatalf("size %d: errors %v, %v", size, wantErr, gotErr)
		}
		if !sameList(got, want) {
			t.Fatalf("size %d: %d keys, want %d", size, got.Len(), want.Len())
		}
	}
}

// FuzzKeysMatchPrefixes: on any reply data, the key mode and the prefix mode agree on
// whether the reply is refused and, when it is not, on the prefixes; and where the
// IPv4 fast parser takes a token, netip.ParsePrefix gives the same masked prefix.
func FuzzKeysMatchPrefixes(f *testing.F) {
	for _, s := range []string{
		"192.0.2.0/24 198.51.100.0/24", "203.0.113.9/24\n192.0.2.0/24", "0.0.0.0/0", "1.2.3.4/32",
		"192.0.2.0/024", "192.0.02.0/24", "2001:db8::/32 2001:db8::1/32", "::/0", "::ffff:1.2.3.4/128",
		"1.2.3.4/33", "1.2.3/24", "1.2.3.4.5/24", "  ", "a/b",
	} {
		f.Add([]byte(s), false, 16)
		f.Add([]byte(s), true, 17)
	}
	f.Fuzz(func(t *testing.T, data []byte, v6 bool, size int) {
		if len(data) == 0 {
			return
		}
		size = 16 + (size&0xff)%200
		want, wantErr, got, gotErr := readModes(t, data, v6, size)
		if (wantErr != nil) != (gotErr != nil) {
			t.Fatalf("prefix mode err %v, key mode err %v", wantErr, gotErr)
		}
		if wantErr == nil && !sameList(got, want) {
			t.Fatalf("keys %v, want %v", got.Prefixes(), want.Prefixes())
		}
		for _, tok := range bytes.Fields(data) {
			v, ok := parsePacked4(tok)
			if !ok {
				continue
			}
			p, err := netip.ParsePrefix(string(tok))
			if err != nil || !p.Addr().Is4() || pfxkey.Pack4(pfxkey.FromPrefix(p).Masked()) != v {
				t.Fatalf("parsePacked4(%q) = %#x, netip: %v %v", tok, v, p, err)
			}
		}
	})
}
