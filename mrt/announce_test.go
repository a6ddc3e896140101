package mrt

import (
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// TestAnnouncementFormats reads each real format and checks counts against the shared
// data's README (845,161 pfx2as v4 rows, 270,345 RIS v6 rows) and that an MRT file and
// its bgpdump -m rendering yield the same announcements.
func TestAnnouncementFormats(t *testing.T) {
	type po struct {
		p string
		o uint32
	}
	count := func(rel string) (map[po]int, Stats) {
		m := map[po]int{}
		st, err := ReadAnnouncements(peer.SharedData(t, rel), nil, func(a Announcement) {
			m[po{a.Prefix.String(), a.Origin}]++
		})
		if err != nil {
			t.Fatal(err)
		}
		return m, st
	}
	_, st := count("announcements/routeviews-pfx2as-ipv4.2020.pfx2as.gz")
	if st.Format != FormatPfx2as || st.Entries != 845161 {
		t.Errorf("pfx2as: %+v", st)
	}
	_, st = count("announcements/riswhoisdump.IPv6.20241220.gz")
	if st.Format != FormatRISDump || st.Entries-st.Skipped > 270345 || st.Entries-st.Skipped < 270000 {
		t.Errorf("RIS dump: %+v", st)
	}
	a, sa := count("mrt/ris.updates.20160811.1600.gz")
	b, sb := count("mrt/expected/ris.updates.20160811.1600.gz.bgpdump-m.txt.gz")
	if sa.Format != FormatMRT || sb.Format != FormatBgpdump || len(a) == 0 || len(a) != len(b) {
		t.Fatalf("mrt %+v (%d) vs bgpdump %+v (%d)", sa, len(a), sb, len(b))
	}
	for k, n := range a {
		if b[k] != n {
			t.Fatalf("%v: %d in MRT, %d in bgpdump text", k, n, b[k])
		}
	}
}
