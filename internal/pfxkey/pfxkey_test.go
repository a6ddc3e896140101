package pfxkey

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

func TestRoundTripAndMask(t *testing.T) {
	for _, tc := range []struct {
		in, masked string
		v6         bool
	}{
		{"0.0.0.0/0", "0.0.0.0/0", false},
		{"192.0.2.1/24", "192.0.2.0/24", false},
		{"198.51.100.255/32", "198.51.100.255/32", false},
		{"203.0.113.77/25", "203.0.113.0/25", false},
		{"::/0", "::/0", true},
		{"2001:db8::1/32", "2001:db8::/32", true},
		{"2001:db8:ffff:ffff:ffff::/64", "2001:db8:ffff:ffff::/64", true},
		{"2001:db8::ffff/120", "2001:db8::ff00/120", true},
		{"2001:db8::1/128", "2001:db8::1/128", true},
		{"::ffff:192.0.2.1/120", "::ffff:192.0.2.0/120", true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p := netip.MustParsePrefix(tc.in)
			k := FromPrefix(p)
			if k.V6 != tc.v6 {
				t.Fatalf("V6 = %v, want %v", k.V6, tc.v6)
			}
			if got := k.Prefix(); got != p {
				t.Fatalf("Prefix() = %s, want %s", got, p)
			}
			if got := k.Masked().Prefix(); got != netip.MustParsePrefix(tc.masked) {
				t.Fatalf("Masked().Prefix() = %s, want %s", got, tc.masked)
			}
			if !tc.v6 {
				if got := Unpack4(Pack4(k)); got != k {
					t.Fatalf("Unpack4(Pack4(k)) = %+v, want %+v", got, k)
				}
			}
		})
	}
}

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int // sign
	}{
		{"192.0.2.0/24", "192.0.2.0/24", 0},
		{"192.0.2.0/24", "192.0.2.0/25", -1},
		{"192.0.2.0/25", "192.0.2.128/25", -1},
		{"198.51.100.0/24", "192.0.2.0/24", 1},
		{"255.255.255.255/32", "::/0", -1},
		{"2001:db8::/32", "2001:db8::/48", -1},
		{"2001:db8::1/128", "2001:db8::/128", 1},
		{"2001:db8:0:0:1::/80", "2001:db8::/128", 1},
	} {
		a, b := netip.MustParsePrefix(tc.a), netip.MustParsePrefix(tc.b)
		got := Compare(FromPrefix(a), FromPrefix(b))
		if sign(got) != tc.want {
			t.Errorf("Compare(%s, %s) = %d, want sign %d", tc.a, tc.b, got, tc.want)
		}
		if sign(got) != sign(a.Addr().Compare(b.Addr())*2+sign(a.Bits()-b.Bits())) && a.Addr().BitLen() == b.Addr().BitLen() {
			t.Errorf("Compare(%s, %s) disagrees with address-then-length order", tc.a, tc.b)
		}
	}
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

// randomKeys returns n masked keys with many duplicates and shared high bytes, so that
// both skipped and counted radix passes run; mix selects IPv4 (0), IPv6 (1) or both (2).
func randomKeys(r *rand.Rand, n int, mix int) []Key {
	keys := make([]Key, n)
	for i := range keys {
		k := Key{V6: mix == 1 || mix == 2 && r.IntN(2) == 0}
		if k.V6 {
			k.Hi = 0x20010db8<<32 | uint64(r.IntN(4))<<16 | uint64(r.IntN(3))
			k.Lo = uint64(r.IntN(16)) << (8 * uint(r.IntN(8)))
			k.Bits = uint8(32 + r.IntN(97))
		} else {
			k.Hi = (0xc6<<24 | uint64(r.IntN(4))<<16 | uint64(r.IntN(1<<16))) << 32
			k.Bits = uint8(16 + r.IntN(17))
		}
		keys[i] = k.Masked()
	}
	return keys
}

func TestSortMatchesCompare(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		n    int
		mix  int // 0 IPv4, 1 IPv6, 2 both
	}{
		{"empty", 0, 0},
		{"v4 small", 50, 0},
		{"v4 large", 20000, 0},
		{"v6 small", 70, 1},
		{"v6 large", 20000, 1},
		{"mixed large", 20000, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := randomKeys(r, tc.n, tc.mix)
			keys = append(keys, keys[:tc.n/3]...) // duplicates
			want := slices.Clone(keys)
			slices.SortFunc(want, Compare)
			Sort(keys)
			if !slices.Equal(keys, want) {
				t.Fatal("Sort order differs from slices.SortFunc(Compare)")
			}
			for i := 1; i < len(keys); i++ {
				if Compare(keys[i-1], keys[i]) > 0 {
					t.Fatalf("not ascending at %d: %s, %s", i, keys[i-1].Prefix(), keys[i].Prefix())
				}
			}
		})
	}
}

func TestSortPacked(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 255, 256, 5000} {
		keys := randomKeys(r, n, 0)
		a := make([]uint64, n)
		for i, k := range keys {
			a[i] = Pack4(k)
		}
		SortPacked(a)
		slices.SortFunc(keys, Compare)
		for i, v := range a {
			if Unpack4(v) != keys[i] {
				t.Fatalf("n=%d: element %d is %s, want %s", n, i, Unpack4(v).Prefix(), keys[i].Prefix())
			}
		}
	}
}

// FuzzSort checks Sort against slices.SortFunc(Compare) on keys decoded from the
// input (18 bytes a key: family, 16 address bytes, length), padded to reach the radix
// path.
func FuzzSort(f *testing.F) {
	f.Add([]byte{}, uint16(0))
	f.Add(make([]byte, 18*3), uint16(300))
	f.Add([]byte("\x01\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x80\x00\xc0\x00\x02\x00"), uint16(600))
	f.Fuzz(func(t *testing.T, data []byte, pad uint16) {
		var keys []Key
		for len(data) >= 18 {
			k := Key{Hi: binary.BigEndian.Uint64(data[1:9]), Lo: binary.BigEndian.Uint64(data[9:17]), Bits: data[17], V6: data[0]&1 == 1}
			keys = append(keys, k)
			data = data[18:]
		}
		if len(keys) > 0 {
			for i := 0; i < int(pad%2048); i++ {
				k := keys[i%len(keys)]
				k.Lo ^= uint64(i) * 0x9e3779b97f4a7c15 >> (i % 64)
				k.Bits ^= byte(i)
				keys = append(keys, k)
			}
		}
		want := slices.Clone(keys)
		slices.SortFunc(want, Compare)
		Sort(keys)
		if !slices.Equal(keys, want) {
			t.Fatalf("Sort differs from slices.SortFunc(Compare) for %d keys", len(keys))
		}
	})
}
