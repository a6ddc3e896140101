package mrt

import (
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// BenchmarkReadAnnouncementsRIB reads the RIS RIB of 2002-07-22 (TABLE_DUMP, gzip) as the
// report does and reports MRT entries parsed per second (bench/report.sh, BENCHMARKS.md).
func BenchmarkReadAnnouncementsRIB(b *testing.B) {
	path := peer.SharedData(b, "mrt/ris.bview.20020722.2337.gz")
	var entries int64
	for b.Loop() {
		st, err := ReadAnnouncements(path, nil, func(Announcement) {})
		if err != nil {
			b.Fatal(err)
		}
		entries += st.Entries
	}
	b.ReportMetric(float64(entries)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64(entries)/float64(b.N), "entries/op")
}
