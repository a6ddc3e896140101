package report

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/mrt"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

type plainRoute struct {
	p string
	o uint32
}

// TestFiguresAgainstPlainComputation builds the report for 8 real origins of the
// RIPE-NONAUTH route data against the RouteViews pfx2as (IPv4) and RIS whois (IPv6)
// tables and the 723k-VRP set, and recomputes every figure here in the plainest way
// (own line scanning of the dumps, a JSON decode of the VRPs, linear scans; nothing
// shared with the package).
func TestFiguresAgainstPlainComputation(t *testing.T) {
	routeFiles := []string{peer.SharedData(t, "irr/ripe-nonauth.db.route.gz"), peer.SharedData(t, "irr/ripe-nonauth.db.route6.gz")}
	vrpFile := peer.SharedData(t, "rpki/rpki-client_20250720T093135Z.json.gz")
	annFiles := []string{peer.SharedData(t, "announcements/routeviews-pfx2as-ipv4.2020.pfx2as.gz"),
		peer.SharedData(t, "announcements/riswhoisdump.IPv6.20241220.gz")}

	// Plain route objects and the first 40 origins in file order.
	objects := map[plainRoute]bool{}
	var origins []uint32
	seenOrigin := map[uint32]bool{}
	for _, f := range routeFiles {
		cur := ""
		for _, l := range peer.GunzipLines(t, f) {
			if strings.HasPrefix(l, "route:") || strings.HasPrefix(l, "route6:") {
				cur = strings.TrimSpace(l[strings.Index(l, ":")+1:])
			}
			if strings.HasPrefix(l, "origin:") && cur != "" {
				n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(l[7:])), "AS"), 10, 32)
				if err != nil {
					continue
				}
				objects[plainRoute{cur, uint32(n)}] = true
				if !seenOrigin[uint32(n)] && len(origins) < 8 {
					seenOrigin[uint32(n)] = true
					origins = append(origins, uint32(n))
				}
				cur = ""
			}
		}
	}
	// Plain announcements of those origins.
	announced := map[plainRoute]bool{}
	for _, l := range peer.GunzipLines(t, annFiles[0]) {
		f := strings.Split(l, "\t")
		if len(f) != 3 {
			continue
		}
		for _, o := range strings.Split(f[2], "_") {
			n, err := strconv.ParseUint(o, 10, 32)
			if err == nil && seenOrigin[uint32(n)] {
				announced[plainRoute{f[0] + "/" + f[1], uint32(n)}] = true
			}
		}
	}
	for _, l := range peer.GunzipLines(t, annFiles[1]) {
		f := strings.Split(l, "\t")
		if len(f) != 3 || strings.HasPrefix(l, "%") {
			continue
		}
		n, err := strconv.ParseUint(f[0], 10, 32)
		if err == nil && seenOrigin[uint32(n)] {
			announced[plainRoute{f[1], uint32(n)}] = true
		}
	}
	if len(announced) < 5 {
		t.Fatalf("only %d announcements of the chosen origins: the test would prove little", len(announced))
	}
	// Plain VRPs.
	var doc struct {
		ROAs []struct {
			ASN       uint32 `json:"asn"`
			Prefix    string `json:"prefix"`
			MaxLength int    `json:"maxLength"`
		} `json:"roas"`
	}
	fh, _ := os.Open(vrpFile)
	zr, _ := gzip.NewReader(fh)
	if err := json.NewDecoder(zr).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	type vrp struct {
		p   netip.Prefix
		asn uint32
		max int
	}
	var vrps []vrp
	for _, r := range doc.ROAs {
		vrps = append(vrps, vrp{netip.MustParsePrefix(r.Prefix), r.ASN, r.MaxLength})
	}
	// Plain figures.
	type fig struct{ ann, exact, covered, other, none, valid, invalid, nf int }
	want := map[uint32]*fig{}
	var total fig
	for a := range announced {
		p := netip.MustParsePrefix(a.p)
		f := want[a.o]
		if f == nil {
			f = &fig{}
			want[a.o] = f
		}
		irrState := "none"
		if objects[a] {
			irrState = "exact"
		} else {
			for k := range objects {
				kp := netip.MustParsePrefix(k.p)
				if kp.Bits() <= p.Bits() && kp.Contains(p.Addr()) {
					if k.o == a.o && irrState != "covered" {
						irrState = "covered"
					} else if irrState == "none" {
						irrState = "other"
					}
				}
			}
		}
		rov := "nf"
		for _, v := range vrps {
			if v.p.Bits() <= p.Bits() && v.p.Contains(p.Addr()) {
				if v.asn == a.o && p.Bits() <= v.max && v.asn != 0 {
					rov = "valid"
					break
				}
				rov = "invalid"
			}
		}
		for _, x := range []*fig{f, &total} {
			x.ann++
			switch irrState {
			case "exact":
				x.exact++
			case "covered":
				x.covered++
			case "other":
				x.other++
			default:
				x.none++
			}
			switch rov {
			case "valid":
				x.valid++
			case "invalid":
				x.invalid++
			default:
				x.nf++
			}
		}
	}

	// The implementation.
	ctx := context.Background()
	ix, _, err := irr.Load(ctx, routeFiles, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := rpki.LoadFile(ctx, vrpFile, rpki.Options{IgnoreExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	var anns []mrt.Announcement
	for _, f := range annFiles {
		if _, err := mrt.ReadAnnouncements(f, nil, func(a mrt.Announcement) { anns = append(anns, a) }); err != nil {
			t.Fatal(err)
		}
	}
	var objs []string
	for _, o := range origins {
		objs = append(objs, "AS"+strconv.FormatUint(uint64(o), 10))
	}
	rep, err := Build(ctx, Options{Objects: objs, Q: ix, Index: ix, Res: &irr.Resolver{Q: ix}, RPKI: rt, Announcements: anns})
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got Origin, w fig) {
		t.Helper()
		g := fig{got.Announced, got.IRRExact, got.IRRCovered, got.IRROtherOrigin, got.IRRNone, got.RPKIValid, got.RPKIInvalid, got.RPKINotFound}
		if g != w {
			t.Errorf("%s: got %+v, plain computation %+v", name, g, w)
		}
		m7irr := 100 * float64(w.exact+w.covered) / float64(w.ann)
		m7rpki := max(0, 100*float64(w.valid-10*w.invalid)/float64(w.ann))
		if d := got.M7IRR - m7irr; d > 0.006 || d < -0.006 {
			t.Errorf("%s: m7irr %v, plain %v", name, got.M7IRR, m7irr)
		}
		if d := got.M7RPKI - m7rpki; d > 0.006 || d < -0.006 {
			t.Errorf("%s: m7rpki %v, plain %v", name, got.M7RPKI, m7rpki)
		}
	}
	check("totals", rep.Totals, total)
	if len(rep.Origins) != len(want) {
		t.Errorf("%d origins announce, plain computation %d", len(rep.Origins), len(want))
	}
	for _, o := range rep.Origins {
		if w := want[uint32(o.ASN)]; w != nil {
			check(o.ASN.String(), o, *w)
		}
	}
	// Route objects nobody announces.
	notAnn := 0
	for k := range objects {
		if seenOrigin[k.o] && !announced[k] {
			notAnn++
		}
	}
	gotNotAnn := 0
	for _, c := range rep.Conflicts {
		if c.Kind == ConflictNotAnnounced {
			gotNotAnn++
		}
	}
	if gotNotAnn != notAnn {
		t.Errorf("route objects not announced: %d, plain %d", gotNotAnn, notAnn)
	}
	t.Logf("%d origins, totals %+v, %d conflicts", len(rep.Origins), total, len(rep.Conflicts))
	_ = routing.ASN(0)
}
