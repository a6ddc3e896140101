package cli

import (
	"testing"
)

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64 // 0: an error
	}{
		{"65536", 65536}, {"1", 1}, {"512KiB", 512 << 10}, {"64MiB", 64 << 20}, {"64mb", 64 << 20},
		{"2G", 2 << 30}, {" 3 KiB ", 3 << 10}, {"7b", 7}, {"1024GiB", 1 << 40},
		{"", 0}, {"0", 0}, {"0MiB", 0}, {"-1", 0}, {"MiB", 0}, {"1.5MiB", 0}, {"12TiB", 0},
		{"1025GiB", 0}, {"1099511627777", 0}, {"99999999999999999999", 0}, {"64 MiB x", 0},
	}
	for _, tc := range tests {
		got, err := parseByteSize(tc.in)
		if tc.want == 0 {
			if err == nil {
				t.Errorf("parseByteSize(%q) = %d, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
		b := byteSize{n: got}
		if back, err := parseByteSize(b.String()); err != nil || back != got {
			t.Errorf("String() of %d = %q, which parses to %d, %v", got, b.String(), back, err)
		}
	}
}

// FuzzParseByteSize: no input panics; an accepted size lies in 1..maxByteSize and its
// String form parses back to it.
func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"65536", "64MiB", "1GiB", "0", "-1", "1099511627776", "9e9", "１MiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseByteSize(s)
		if err != nil {
			return
		}
		if n < 1 || n > maxByteSize {
			t.Fatalf("parseByteSize(%q) = %d, outside 1..%d", s, n, int64(maxByteSize))
		}
		b := byteSize{n: n}
		if back, err := parseByteSize(b.String()); err != nil || back != n {
			t.Fatalf("String() of %d = %q parses to %d, %v", n, b.String(), back, err)
		}
	})
}
