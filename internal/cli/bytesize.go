package cli

import (
	"fmt"
	"strconv"
	"strings"
)

// byteSize is a flag value in bytes, written as a number with an optional binary
// suffix: "65536", "512KiB", "64MiB", "1GiB" (K, M, G and KB, MB, GB mean the same
// powers of 1024, case-insensitive). It bounds memory, so zero, negative values and
// values beyond maxByteSize are refused when the flag is parsed (a usage error).
type byteSize struct{ n int64 }

// maxByteSize keeps every accepted size well inside an int on 64-bit platforms and
// within what a whois reply can be (far beyond any real IRR answer).
const maxByteSize = 1 << 40

// parseByteSize parses s as described on byteSize.
func parseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q: want a number of bytes, e.g. 65536 or 64MiB", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > maxByteSize {
		return 0, fmt.Errorf("size %q: larger than %d bytes", s, int64(maxByteSize))
	}
	var mul int64
	switch strings.ToLower(strings.TrimSpace(t[i:])) {
	case "", "b":
		mul = 1
	case "k", "kb", "kib":
		mul = 1 << 10
	case "m", "mb", "mib":
		mul = 1 << 20
	case "g", "gb", "gib":
		mul = 1 << 30
	default:
		return 0, fmt.Errorf("size %q: unknown unit %q (B, KiB, MiB or GiB)", s, t[i:])
	}
	if n > maxByteSize/mul {
		return 0, fmt.Errorf("size %q: larger than %d bytes", s, int64(maxByteSize))
	}
	if n == 0 {
		return 0, fmt.Errorf("size %q: must be at least 1 byte", s)
	}
	return n * mul, nil
}

// Set implements flag.Value.
func (b *byteSize) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return err
	}
	b.n = n
	return nil
}

// String implements flag.Value: the size in the largest unit that divides it.
func (b *byteSize) String() string {
	if b == nil {
		return ""
	}
	for _, u := range []struct {
		name string
		mul  int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b.n >= u.mul && b.n%u.mul == 0 {
			return strconv.FormatInt(b.n/u.mul, 10) + u.name
		}
	}
	return strconv.FormatInt(b.n, 10)
}
