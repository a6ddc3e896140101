package mrt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// Announcement is one announced route reduced to what the MANRS report needs.
type Announcement struct {
	Prefix netip.Prefix
	Origin uint32
	Path   []uint32 // flat AS path; nil for tables that carry only the origin
}

// Format names the input formats ReadAnnouncements recognises.
type Format string

const (
	FormatMRT     Format = "mrt"
	FormatBgpdump Format = "bgpdump"
	FormatPfx2as  Format = "pfx2as"
	FormatRISDump Format = "riswhois"
)

// Stats counts what ReadAnnouncements read.
type Stats struct {
	Format  Format
	Entries int64 // routes (MRT), lines (text)
	Skipped int64 // withdrawals, state changes, AS_SET origins, comment lines
}

// ReadAnnouncements reads every announcement of the file at path (MRT RIB or updates,
// `bgpdump -m` text, RouteViews pfx2as, or the RIS whois dump; gzip or not, detected
// from the contents) and calls fn for each. Withdrawals are skipped: an update file
// counts what was announced during its window. pfx2as MOAS entries ("a_b") yield one
// announcement per origin; AS_SET origins ("a,b", "{a,b}") are skipped.
func ReadAnnouncements(path string, progress func(read, total int64), fn func(Announcement)) (Stats, error) {
	f, err := OpenFile(path)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	head, _ := br.Peek(12)
	var st Stats
	if len(head) >= 6 && head[4] == 0 && (head[5] == TypeTableDump || head[5] == TypeTableDumpV2 || head[5] == TypeBGP4MP || head[5] == TypeBGP4MPET) {
		st.Format = FormatMRT
		rd := NewReader(br)
		for {
			r, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return st, nil
			}
			if err != nil {
				return st, fmt.Errorf("%s: %w", path, err)
			}
			st.Entries++
			if progress != nil && st.Entries%4096 == 0 {
				progress(f.Progress())
			}
			if r.Kind != RIB && r.Kind != Announce {
				st.Skipped++
				continue
			}
			o, ok := r.OriginAS()
			if !ok {
				st.Skipped++
				continue
			}
			fn(Announcement{Prefix: r.Prefix, Origin: o, Path: r.Attrs.Flat()})
		}
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	line := 0
	for sc.Scan() {
		line++
		st.Entries++
		if progress != nil && line%16384 == 0 {
			progress(f.Progress())
		}
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '%' || s[0] == '#' {
			st.Skipped++
			continue
		}
		if st.Format == "" {
			st.Format = sniffText(s)
		}
		var err error
		switch st.Format {
		case FormatBgpdump:
			err = bgpdumpAnnouncement(s, &st, fn)
		case FormatPfx2as:
			err = pfx2asAnnouncement(s, &st, fn)
		case FormatRISDump:
			err = risAnnouncement(s, &st, fn)
		default:
			err = errors.New("unrecognised format (not MRT, bgpdump -m, pfx2as or RIS whois dump)")
		}
		if err != nil {
			return st, fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

func sniffText(s string) Format {
	if strings.Count(s, "|") >= 5 {
		return FormatBgpdump
	}
	f := strings.Fields(s)
	if len(f) >= 3 {
		if _, err := netip.ParseAddr(f[0]); err == nil {
			return FormatPfx2as
		}
		if _, err := netip.ParsePrefix(f[1]); err == nil {
			return FormatRISDump
		}
	}
	return ""
}

func parseOrigin(s string) (uint32, bool) {
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "AS"), "as"), 10, 32)
	return uint32(n), err == nil
}

// bgpdumpAnnouncement reads one `bgpdump -m` line (A and B lines; others skipped).
func bgpdumpAnnouncement(s string, st *Stats, fn func(Announcement)) error {
	f := strings.Split(s, "|")
	if len(f) < 3 {
		return fmt.Errorf("bgpdump line with %d fields", len(f))
	}
	if f[2] != "A" && f[2] != "B" {
		st.Skipped++
		return nil
	}
	pi := 7
	if strings.HasSuffix(f[0], "_AP") {
		pi = 8
	}
	if len(f) <= pi {
		return fmt.Errorf("bgpdump %s line with %d fields", f[2], len(f))
	}
	p, err := netip.ParsePrefix(f[5])
	if err != nil {
		return err
	}
	segs, err := ParsePath(f[pi-1])
	if err != nil {
		return err
	}
	a := Attrs{Path: segs}
	o, ok := a.OriginAS()
	if !ok {
		st.Skipped++
		return nil
	}
	fn(Announcement{Prefix: p.Masked(), Origin: o, Path: a.Flat()})
	return nil
}

// pfx2asAnnouncement reads one RouteViews pfx2as line: address, length, origins.
func pfx2asAnnouncement(s string, st *Stats, fn func(Announcement)) error {
	f := strings.Fields(s)
	if len(f) != 3 {
		return fmt.Errorf("pfx2as line with %d fields", len(f))
	}
	p, err := netip.ParsePrefix(f[0] + "/" + f[1])
	if err != nil {
		return err
	}
	for _, o := range strings.Split(f[2], "_") {
		if strings.Contains(o, ",") {
			st.Skipped++ // an AS_SET origin
			continue
		}
		asn, ok := parseOrigin(o)
		if !ok {
			return fmt.Errorf("pfx2as origin %q", o)
		}
		fn(Announcement{Prefix: p.Masked(), Origin: asn})
	}
	return nil
}

// risAnnouncement reads one RIS whois dump line: origin, prefix, peers seeing it.
func risAnnouncement(s string, st *Stats, fn func(Announcement)) error {
	f := strings.Fields(s)
	if len(f) < 2 {
		return fmt.Errorf("RIS dump line with %d fields", len(f))
	}
	p, err := netip.ParsePrefix(f[1])
	if err != nil {
		return err
	}
	asn, ok := parseOrigin(f[0])
	if !ok {
		st.Skipped++ // "{a,b}" AS_SET origins
		return nil
	}
	fn(Announcement{Prefix: p.Masked(), Origin: asn})
	return nil
}
