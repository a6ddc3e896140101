package policy

// The hygiene data of the bogon-asn, bogon-prefix and peerlock rules: commented text
// files kept in the repo (policy/data/*.txt), embedded, parsed once.

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

var (
	//go:embed data/bogon-asns.txt
	bogonASNsText []byte
	//go:embed data/bogon-prefixes.txt
	bogonPrefixesText []byte
	//go:embed data/peerlock.txt
	peerlockText []byte
)

// maxListLine bounds one line of a list file; longer lines are an error.
const maxListLine = 4096

// ParseASNRanges reads a list of ASN ranges: one "FROM[-TO] reason…" per line (asplain
// or "AS"-prefixed numbers), '#' starts a comment, blank lines are skipped. The result
// is sorted by From; overlapping ranges and FROM > TO are errors naming the line.
func ParseASNRanges(r io.Reader) ([]ASNRange, error) {
	var out []ASNRange
	lines := map[routing.ASN]int{}
	err := eachLine(r, func(n int, key, reason string) error {
		from, to, isRange := strings.Cut(key, "-")
		a, err := routing.ParseASNumber(from)
		if err != nil {
			return err
		}
		b := a
		if isRange {
			if b, err = routing.ParseASNumber(to); err != nil {
				return err
			}
			if b < a {
				return fmt.Errorf("range %q: %s is below %s", key, to, from)
			}
		}
		out = append(out, ASNRange{From: a, To: b, Reason: reason})
		lines[a] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(x, y ASNRange) int { return cmpASN(x.From, y.From) })
	for i := 1; i < len(out); i++ {
		if out[i].From <= out[i-1].To {
			return nil, fmt.Errorf("line %d: %s overlaps %s (line %d)", lines[out[i].From], out[i], out[i-1], lines[out[i-1].From])
		}
	}
	return out, nil
}

func cmpASN(a, b routing.ASN) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ParseBogonPrefixes reads a list of prefix ranges: one "PREFIX[^OP] reason…" per line
// in RPSL form ("192.0.2.0/24^+", "::/0"), comments and blank lines as in
// ParseASNRanges. Entries are returned sorted (IPv4 first); a duplicate prefix range
// is an error.
func ParseBogonPrefixes(r io.Reader) ([]BogonPrefix, error) {
	var out []BogonPrefix
	err := eachLine(r, func(_ int, key, reason string) error {
		pr, err := irr.ParsePrefixRange(key)
		if err != nil {
			return err
		}
		out = append(out, BogonPrefix{PrefixRange: pr, Reason: reason})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b BogonPrefix) int { return routing.Compare(a.PrefixRange, b.PrefixRange) })
	for i := 1; i < len(out); i++ {
		if out[i].PrefixRange == out[i-1].PrefixRange {
			return nil, fmt.Errorf("duplicate entry %s", out[i].PrefixRange)
		}
	}
	return out, nil
}

// eachLine calls fn with the 1-based line number, the first field and the rest of
// every non-empty line, comments stripped. Errors are prefixed with "line N".
func eachLine(r io.Reader, fn func(n int, key, reason string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxListLine)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if err := fn(n, f[0], strings.Join(f[1:], " ")); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading list: %w", err)
	}
	return nil
}

var (
	defaultBogonASNs = sync.OnceValue(func() []ASNRange {
		return must(ParseASNRanges(bytes.NewReader(bogonASNsText)))
	})
	defaultBogonPrefixes = sync.OnceValue(func() []BogonPrefix {
		return must(ParseBogonPrefixes(bytes.NewReader(bogonPrefixesText)))
	})
	defaultPeerlock = sync.OnceValue(func() []ASNRange {
		return must(ParseASNRanges(bytes.NewReader(peerlockText)))
	})
)

// must is for the embedded lists only, which a test parses: a broken list is a
// build defect, not bad input.
func must[T any](v T, err error) T {
	if err != nil {
		panic("policy: embedded list: " + err.Error())
	}
	return v
}

// DefaultBogonASNs returns the reserved ASN ranges of policy/data/bogon-asns.txt
// (0, 23456, 64496–64511, 64512–65534, 65535, 65536–65551, 65552–131071,
// 4200000000–4294967295 with RFCs 5398, 6793, 6996, 7300, 7607).
func DefaultBogonASNs() []ASNRange { return slices.Clone(defaultBogonASNs()) }

// DefaultBogonPrefixes returns the bogon prefix ranges of one family (4 or 6) from
// policy/data/bogon-prefixes.txt.
func DefaultBogonPrefixes(family int) []BogonPrefix {
	var out []BogonPrefix
	for _, e := range defaultBogonPrefixes() {
		if e.Prefix.Addr().Is6() == (family == 6) {
			out = append(out, e)
		}
	}
	return out
}

// DefaultPeerlock returns the default peerlock list (policy/data/peerlock.txt): the
// well-known transit-free networks.
func DefaultPeerlock() []ASNRange { return slices.Clone(defaultPeerlock()) }

// RemoveASNs returns ranges (sorted, not overlapping) without the ASNs of except,
// splitting ranges where needed; each piece keeps its reason.
func RemoveASNs(ranges, except []ASNRange) []ASNRange {
	out := slices.Clone(ranges)
	for _, x := range except {
		var next []ASNRange
		for _, r := range out {
			if x.To < r.From || x.From > r.To {
				next = append(next, r)
				continue
			}
			if x.From > r.From {
				next = append(next, ASNRange{From: r.From, To: x.From - 1, Reason: r.Reason})
			}
			if x.To < r.To {
				next = append(next, ASNRange{From: x.To + 1, To: r.To, Reason: r.Reason})
			}
		}
		out = next
	}
	return out
}

// RemovePrefixes returns entries without those whose prefix lies inside one of except
// (an exception removes whole entries: "except 192.0.2.0/24" drops 192.0.2.0/24^+).
// An exception strictly inside an entry's prefix would need the entry split into a
// form every vendor can express, so it is an error naming the entry to except instead.
func RemovePrefixes(entries []BogonPrefix, except []netip.Prefix) ([]BogonPrefix, error) {
	var out []BogonPrefix
	for _, e := range entries {
		drop := false
		for _, x := range except {
			if x.Addr().Is6() != e.Prefix.Addr().Is6() {
				continue
			}
			switch {
			case x.Bits() <= e.Prefix.Bits() && x.Contains(e.Prefix.Addr()):
				drop = true
			case x.Bits() > e.Prefix.Bits() && e.Prefix.Contains(x.Addr()) && e.Max >= x.Bits():
				return nil, fmt.Errorf("bogon exception %s is only part of bogon %s (%s): except %s",
					x, e.PrefixRange, e.Reason, e.Prefix)
			}
		}
		if !drop {
			out = append(out, e)
		}
	}
	return out, nil
}
