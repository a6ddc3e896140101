package mirror

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

type wantOp struct {
	kind   OpKind
	serial uint64
	class  string
	key    string
}

// TestParseNRTM3Samples parses every real NRTM reply excerpt of the shared data.
func TestParseNRTM3Samples(t *testing.T) {
	var se *ServerError
	tests := []struct {
		file    string
		want    Expect
		version int
		source  string
		first   uint64
		last    uint64
		ops     []wantOp
		wantErr error
		srvErr  bool
		rangeLo uint64
		rangeHi uint64
	}{
		{file: "radb.updates.sample", want: Expect{Source: "RADB", First: 2393925}, version: 3, source: "RADB",
			first: 2393925, last: 2393950, ops: []wantOp{
				{OpAdd, 2393925, "as-set", "AS-HURRICANE"},
				{OpDel, 2393926, "route", "42.116.22.0/24AS18403"},
			}},
		{file: "l3.updates.sample", version: 1, source: "LEVEL3", first: 767081, last: 767082, ops: []wantOp{
			{OpAdd, 767081, "as-set", "AS-HURRICANE"},
			{OpDel, 767082, "route", "42.116.22.0/24AS18403"},
		}},
		{file: "radb.updates.sample", want: Expect{Source: "RIPE"}, wantErr: ErrNRTMFormat},
		{file: "radb.updates.sample", want: Expect{First: 2393924}, wantErr: ErrSerial},
		// Header-only excerpts: a %START without %END is an incomplete reply.
		{file: "arin.header.ok.sample", wantErr: ErrTruncated},
		{file: "ripe.header.ok.sample", wantErr: ErrTruncated},
		{file: "arin.header.rangeerror.sample", srvErr: true, rangeLo: 1, rangeHi: 66844},
		{file: "ripe.header.rangeerror.sample", srvErr: true, rangeLo: 2278326, rangeHi: 38325450},
		{file: "ripe.header.outofsync.sample", srvErr: true},
		{file: "radb.header.rangeerror.sample", srvErr: true},
		{file: "level3.header.rangeerror.sample", srvErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(peer.SharedData(t, "nrtm/pytinyirrdbcache/"+tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s, err := ParseNRTM3(f, tc.want)
			switch {
			case tc.srvErr:
				if !errors.As(err, &se) {
					t.Fatalf("err = %v, want a *ServerError", err)
				}
				lo, hi, ok := se.Range()
				if ok != (tc.rangeHi != 0) || lo != tc.rangeLo || hi != tc.rangeHi {
					t.Errorf("Range() = %d, %d, %v; want %d, %d", lo, hi, ok, tc.rangeLo, tc.rangeHi)
				}
				return
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if s.Version != tc.version || s.Source != tc.source || s.First != tc.first || s.Last != tc.last {
				t.Errorf("header = v%d %s %d-%d, want v%d %s %d-%d", s.Version, s.Source, s.First, s.Last,
					tc.version, tc.source, tc.first, tc.last)
			}
			if len(s.Ops) != len(tc.ops) {
				t.Fatalf("%d ops, want %d", len(s.Ops), len(tc.ops))
			}
			for i, w := range tc.ops {
				op := s.Ops[i]
				if op.Kind != w.kind || op.Serial != w.serial || op.Object.Class != w.class || op.Object.Key != w.key {
					t.Errorf("op %d = %v %d %s %s, want %v %d %s %s", i, op.Kind, op.Serial, op.Object.Class, op.Object.Key,
						w.kind, w.serial, w.class, w.key)
				}
			}
		})
	}
}

const routeA = "route: 192.0.2.0/24\norigin: AS64496\nsource: TEST\n"
const routeB = "route: 198.51.100.0/24\norigin: AS64497\nsource: TEST\n"

// TestParseNRTM3Errors covers serial gaps, reordering and framing errors with own
// fixtures (documentation prefixes and ASNs).
func TestParseNRTM3Errors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Expect
		wantErr error
		nops    int
	}{
		{"ok", "%START Version: 3 TEST 10-11\n\nADD 10\n\n" + routeA + "\nDEL 11\n\n" + routeB + "\n%END TEST\n", Expect{First: 10}, nil, 2},
		{"ok FILTERED, comments, CRLF", "% comment\r\n%START Version: 3 TEST 10-11 FILTERED\r\n\r\nADD 10\r\n\r\n" + routeA + "\r\n%END TEST\r\n", Expect{Source: "test"}, nil, 1},
		{"gap", "%START Version: 3 TEST 10-12\n\nADD 10\n\n" + routeA + "\nADD 12\n\n" + routeB + "\n%END TEST\n", Expect{}, ErrSerial, 0},
		{"out of order", "%START Version: 3 TEST 10-12\n\nADD 11\n\n" + routeA + "\nADD 10\n\n" + routeB + "\n%END TEST\n", Expect{}, ErrSerial, 0},
		{"repeated", "%START Version: 3 TEST 10-12\n\nADD 10\n\n" + routeA + "\nADD 10\n\n" + routeB + "\n%END TEST\n", Expect{}, ErrSerial, 0},
		{"beyond range", "%START Version: 3 TEST 10-10\n\nADD 10\n\n" + routeA + "\nADD 11\n\n" + routeB + "\n%END TEST\n", Expect{}, ErrSerial, 0},
		{"wrong first", "%START Version: 3 TEST 10-10\n\nADD 10\n\n" + routeA + "\n%END TEST\n", Expect{First: 9}, ErrSerial, 0},
		{"no END", "%START Version: 3 TEST 10-10\n\nADD 10\n\n" + routeA, Expect{}, ErrTruncated, 0},
		{"END of other source", "%START Version: 3 TEST 10-10\n\nADD 10\n\n" + routeA + "\n%END RIPE\n", Expect{}, ErrNRTMFormat, 0},
		{"no START", "ADD 10\n\n" + routeA, Expect{}, ErrNRTMFormat, 0},
		{"empty", "", Expect{}, ErrTruncated, 0},
		{"bad version", "%START Version: 2 TEST 10-10\n%END TEST\n", Expect{}, ErrNRTMFormat, 0},
		{"bad range", "%START Version: 3 TEST 10-9\n%END TEST\n", Expect{}, ErrNRTMFormat, 0},
		{"v1 with serial", "%START Version: 1 TEST 10-10\n\nADD 10\n\n" + routeA + "\n%END TEST\n", Expect{}, ErrNRTMFormat, 0},
		{"v3 without serial", "%START Version: 3 TEST 10-10\n\nADD\n\n" + routeA + "\n%END TEST\n", Expect{}, ErrNRTMFormat, 0},
		{"op without object", "%START Version: 3 TEST 10-10\n\nADD 10\n\n%END TEST\n", Expect{}, ErrNRTMFormat, 0},
		{"bad op", "%START Version: 3 TEST 10-10\n\nUPD 10\n\n" + routeA + "\n%END TEST\n", Expect{}, ErrNRTMFormat, 0},
		{"route without origin", "%START Version: 3 TEST 10-10\n\nADD 10\n\nroute: 192.0.2.0/24\nsource: TEST\n\n%END TEST\n", Expect{}, ErrObject, 0},
		{"object without source", "%START Version: 3 TEST 10-10\n\nADD 10\n\nas-set: AS-DOC\n\n%END TEST\n", Expect{}, ErrObject, 0},
		{"error after START", "%START Version: 3 TEST 10-10\n\n%ERROR:401: something\n", Expect{}, nil, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseNRTM3(strings.NewReader(tc.in), tc.want)
			if tc.nops == -1 {
				var se *ServerError
				if !errors.As(err, &se) {
					t.Fatalf("err = %v, want *ServerError", err)
				}
				return
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || s != nil {
					t.Fatalf("got %v, %v; want error %v", s, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Ops) != tc.nops {
				t.Fatalf("%d ops, want %d", len(s.Ops), tc.nops)
			}
		})
	}
}

func FuzzParseNRTM3(f *testing.F) {
	for _, name := range []string{"radb.updates.sample", "l3.updates.sample", "ripe.header.rangeerror.sample", "arin.header.ok.sample"} {
		if b, err := os.ReadFile("../../shared/data/nrtm/pytinyirrdbcache/" + name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("%START Version: 3 TEST 10-11\n\nADD 10\n\n" + routeA + "\nDEL 11\n\n" + routeB + "\n%END TEST\n"))
	f.Add([]byte("%START Version: 1 TEST 1-2\nADD\n\n" + routeA + "\n%END TEST\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseNRTM3(strings.NewReader(string(b)), Expect{})
		if err != nil {
			return
		}
		// Invariants of an accepted stream: consecutive serials from First within Last.
		for i, op := range s.Ops {
			if op.Serial != s.First+uint64(i) || op.Serial > s.Last || op.Object == nil {
				t.Fatalf("accepted stream breaks invariants at op %d: %+v", i, op)
			}
			if op.Object.Class == "" || op.Object.Key == "" || op.Object.Source == "" {
				t.Fatalf("accepted object without identity: %+v", op.Object)
			}
		}
	})
}
