package whois

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/google/go-cmp/cmp"
)

func TestParseQuery(t *testing.T) {
	pfx := netip.MustParsePrefix
	tests := []struct {
		name    string
		line    string
		want    Query
		wantMsg string // QueryError message, "" for success
		text    bool   // QueryError.Text
	}{
		// What bgpq4 sends (reference §4.1, Appendix A).
		{name: "persistent", line: "!!\n", want: Query{Kind: KindPersistent}},
		{name: "client name", line: "!nbgpq4 1.9\n", want: Query{Kind: KindClientName, Name: "bgpq4 1.9"}},
		{name: "bare a probe", line: "!a\n", wantMsg: "Missing required set name for A query"},
		{name: "a4 without name", line: "!a4", wantMsg: "Missing required set name for A query"},
		{name: "a6 without name", line: "!a6", wantMsg: "Missing required set name for A query"},
		{name: "a4", line: "!a4AS-TEST\n", want: Query{Kind: KindSetPrefixes, Name: "AS-TEST", Family: FamilyV4}},
		{name: "a6 hierarchical", line: "!a6AS1000:AS-CUSTOMERS", want: Query{Kind: KindSetPrefixes, Name: "AS1000:AS-CUSTOMERS", Family: FamilyV6}},
		{name: "a both families", line: "!aAS-TEST", want: Query{Kind: KindSetPrefixes, Name: "AS-TEST", Family: FamilyAny}},
		{name: "sources list", line: "!s-lc\n", want: Query{Kind: KindSourcesList}},
		{name: "sources", line: "!sripe,Radb\n", want: Query{Kind: KindSources, Sources: []string{"RIPE", "RADB"}}},
		{name: "sources trailing comma", line: "!sRIPE,", want: Query{Kind: KindSources, Sources: []string{"RIPE", ""}}},
		{name: "members", line: "!iAS-TEST\n", want: Query{Kind: KindMembers, Name: "AS-TEST"}},
		{name: "members recursive", line: "!iAS-TEST,1\n", want: Query{Kind: KindMembers, Name: "AS-TEST", Recursive: true}},
		{name: "members route-set", line: "!iRS-TEST,1", want: Query{Kind: KindMembers, Name: "RS-TEST", Recursive: true}},
		{name: "g lower case", line: "!gas1000\n", want: Query{Kind: KindRoutes, ASN: 1000, Family: FamilyV4}},
		{name: "g upper case", line: "!gAS4200000000", want: Query{Kind: KindRoutes, ASN: 4200000000, Family: FamilyV4}},
		{name: "g asdot", line: "!gAS1.10", want: Query{Kind: KindRoutes, ASN: 65546, Family: FamilyV4}},
		{name: "g zero", line: "!gas0", want: Query{Kind: KindRoutes, ASN: 0, Family: FamilyV4}},
		{name: "6", line: "!6as200000\r\n", want: Query{Kind: KindRoutes, ASN: 200000, Family: FamilyV6}},
		{name: "quit", line: "!q\n", want: Query{Kind: KindQuit}},
		{name: "quit upper", line: "!Q", want: Query{Kind: KindQuit}},
		{name: "version", line: "!v", want: Query{Kind: KindVersion}},
		{name: "timeout", line: "!t300", want: Query{Kind: KindTimeout, Seconds: 300}},
		{name: "timeout max", line: "!t1000", want: Query{Kind: KindTimeout, Seconds: 1000}},
		{name: "route exact", line: "!r192.0.2.0/24", want: Query{Kind: KindRouteSearch, Prefix: pfx("192.0.2.0/24"), Match: MatchExact}},
		{name: "route origins", line: "!r192.0.2.0/24,o", want: Query{Kind: KindRouteSearch, Prefix: pfx("192.0.2.0/24"), Match: MatchOrigins}},
		{name: "route less one", line: "!r192.0.2.0/25,l", want: Query{Kind: KindRouteSearch, Prefix: pfx("192.0.2.0/25"), Match: MatchLessOne}},
		{name: "route less all", line: "!r2001:db8::/48,L", want: Query{Kind: KindRouteSearch, Prefix: pfx("2001:db8::/48"), Match: MatchLessAll}},
		{name: "route more", line: "!r198.51.100.0/24,M", want: Query{Kind: KindRouteSearch, Prefix: pfx("198.51.100.0/24"), Match: MatchMoreAll}},
		{name: "route address", line: "!r192.0.2.1", want: Query{Kind: KindRouteSearch, Prefix: pfx("192.0.2.1/32"), Match: MatchExact}},
		{name: "exact key", line: "!maut-num,AS64496", want: Query{Kind: KindExactKey, Class: "aut-num", Name: "AS64496"}},

		// IRRd's error messages (irrd/server/whois/query_parser.py).
		{name: "bang only", line: "!", wantMsg: "Missing IRRD command"},
		{name: "g missing param", line: "!g", wantMsg: "Missing parameter for g query"},
		{name: "i missing param", line: "!i\n", wantMsg: "Missing parameter for i query"},
		{name: "s missing param", line: "!s", wantMsg: "Missing parameter for s query"},
		{name: "n missing param", line: "!n", wantMsg: "Missing parameter for n query"},
		{name: "unknown command", line: "!z", wantMsg: "Unrecognised command: z"},
		{name: "g no AS", line: "!g1000", wantMsg: `Invalid AS number 1000: must start with "AS"`},
		{name: "g not numeric", line: "!gASfoo", wantMsg: "Invalid AS number ASFOO: number part is not numeric"},
		{name: "g out of range", line: "!gAS4294967296", wantMsg: "Invalid AS number AS4294967296: valid range is 0-4294967295"},
		{name: "g asdot high", line: "!gAS65536.1", wantMsg: "Invalid AS number AS65536.1: high order value out of range"},
		{name: "g asdot low missing", line: "!gAS1.", wantMsg: "Invalid AS number AS1.: low order value missing"},
		{name: "g asdot two dots", line: "!gAS1.2.3", wantMsg: "Invalid AS number AS1.2.3: number is not valid asdot format"},
		{name: "timeout zero", line: "!t0", wantMsg: "Invalid value for timeout: 0"},
		{name: "timeout too big", line: "!t1001", wantMsg: "Invalid value for timeout: 1001"},
		{name: "timeout text", line: "!tfoo", wantMsg: "Invalid value for timeout: foo"},
		{name: "route host bits", line: "!r192.0.2.1/24", wantMsg: "Invalid input for route search: 192.0.2.1/24"},
		{name: "route garbage", line: "!rfoo", wantMsg: "Invalid input for route search: foo"},
		{name: "route bad option", line: "!r192.0.2.0/24,x", wantMsg: "Invalid route search option: x"},
		{name: "route empty option", line: "!r192.0.2.0/24,", wantMsg: "Invalid route search option: "},
		{name: "route two options", line: "!r192.0.2.0/24,o,l", wantMsg: "Invalid input for route search: 192.0.2.0/24,o,l"},
		{name: "exact key no comma", line: "!maut-num", wantMsg: "Invalid argument for object lookup: aut-num"},
		{name: "unsupported o", line: "!oMNT-FOO", wantMsg: "Query not supported by this server: o"},

		// RIPE-style text queries, as the whois CLI sends them.
		{name: "text as-set", line: "AS-FOO\r\n", want: Query{Kind: KindText, Text: true, Name: "AS-FOO"}},
		{name: "text aut-num", line: "AS64496", want: Query{Kind: KindText, Text: true, Name: "AS64496"}},
		{name: "text flags", line: "-r -T route,Route6 -s ripe,radb 192.0.2.0/24",
			want: Query{Kind: KindText, Text: true, Name: "192.0.2.0/24", ObjectTypes: []string{"route", "route6"}, Sources: []string{"RIPE", "RADB"}}},
		{name: "text keep", line: "-k AS-FOO", want: Query{Kind: KindText, Text: true, Name: "AS-FOO", Persistent: true}},
		{name: "text all sources", line: "-a AS-FOO", want: Query{Kind: KindText, Text: true, Name: "AS-FOO", AllSources: true}},
		{name: "text last key wins", line: "AS-A AS-B", want: Query{Kind: KindText, Text: true, Name: "AS-B"}},
		{name: "text route less", line: "-L 192.0.2.0/25 ignored", want: Query{Kind: KindRouteSearch, Text: true, Prefix: pfx("192.0.2.0/25"), Match: MatchLessAll}},
		{name: "text bad flag", line: "-Z AS-FOO", wantMsg: "Unrecognised flag/search: Z", text: true},
		{name: "text missing arg", line: "AS-FOO -T", wantMsg: "Missing argument for flag/search: T", text: true},
		{name: "text bad prefix", line: "-M 192.0.2.1/24", wantMsg: "Invalid input for route search: 192.0.2.1/24", text: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseQuery([]byte(tc.line))
			if tc.wantMsg != "" {
				var qe *QueryError
				if !errors.As(err, &qe) {
					t.Fatalf("ParseQuery(%q) = %+v, %v; want QueryError %q", tc.line, got, err, tc.wantMsg)
				}
				if qe.Msg != tc.wantMsg || qe.Text != tc.text {
					t.Fatalf("ParseQuery(%q) error = %q (text %v), want %q (text %v)", tc.line, qe.Msg, qe.Text, tc.wantMsg, tc.text)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", tc.line, err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("ParseQuery(%q) mismatch (-want +got):\n%s", tc.line, diff)
			}
		})
	}
}

func TestParseQueryLimits(t *testing.T) {
	if _, err := ParseQuery([]byte(" \t\r\n")); !errors.Is(err, ErrEmptyQuery) {
		t.Errorf("blank line: err = %v, want ErrEmptyQuery", err)
	}
	long := "!i" + strings.Repeat("A", MaxQueryLen)
	if _, err := ParseQuery([]byte(long)); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("long line: err = %v, want ErrLineTooLong", err)
	}
	ok := "!i" + strings.Repeat("A", MaxQueryLen-2)
	if q, err := ParseQuery([]byte(ok)); err != nil || q.Kind != KindMembers {
		t.Errorf("line of MaxQueryLen: %+v, %v", q.Kind, err)
	}
}

func TestParseQueryASNMatchesIRR(t *testing.T) {
	// Every asplain form irr.ParseASN accepts must mean the same number here.
	for _, s := range []string{"AS0", "as1", "AS64496", "AS4294967295", "As23456"} {
		want, err := routing.ParseASN(s)
		if err != nil {
			t.Fatalf("irr.ParseASN(%q): %v", s, err)
		}
		got, err := ParseQueryASN(s)
		if err != nil || got != want {
			t.Errorf("ParseQueryASN(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
}

func TestReadQueryLine(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		max     int
		bufSize int
		want    []string
		wantErr error
	}{
		{name: "lines", in: "!!\n!gas1\n!q\n", max: 64, bufSize: 16, want: []string{"!!", "!gas1", "!q"}},
		{name: "crlf kept", in: "AS-FOO\r\n", max: 64, bufSize: 16, want: []string{"AS-FOO\r"}},
		{name: "last line without newline", in: "!!\n!q", max: 64, bufSize: 16, want: []string{"!!", "!q"}},
		{name: "exactly max", in: "12345678\n", max: 8, bufSize: 16, want: []string{"12345678"}},
		{name: "one over max", in: "123456789\n", max: 8, bufSize: 16, wantErr: ErrLineTooLong},
		{name: "longer than buffer but under max", in: strings.Repeat("x", 40) + "\n", max: 64, bufSize: 16, want: []string{strings.Repeat("x", 40)}},
		{name: "over max across buffers", in: strings.Repeat("x", 100) + "\n", max: 64, bufSize: 16, wantErr: ErrLineTooLong},
		{name: "over max at EOF", in: strings.Repeat("x", 100), max: 64, bufSize: 16, wantErr: ErrLineTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReaderSize(strings.NewReader(tc.in), tc.bufSize)
			var got []string
			for {
				line, err := ReadQueryLine(r, tc.max)
				if err == io.EOF {
					break
				}
				if err != nil {
					if tc.wantErr == nil || !errors.Is(err, tc.wantErr) {
						t.Fatalf("ReadQueryLine: %v, want %v", err, tc.wantErr)
					}
					return
				}
				got = append(got, string(line))
			}
			if tc.wantErr != nil {
				t.Fatalf("got lines %q, want error %v", got, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadQueryLineBounded checks that a 1 MB line is refused after buffering at
// most max plus one reader buffer, leaving the rest unread.
func TestReadQueryLineBounded(t *testing.T) {
	src := &countReader{r: strings.NewReader(strings.Repeat("A", 1<<20) + "\n")}
	r := bufio.NewReaderSize(src, 4096)
	if _, err := ReadQueryLine(r, MaxQueryLen); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("err = %v, want ErrLineTooLong", err)
	}
	if src.n > MaxQueryLen+2*4096 {
		t.Errorf("read %d bytes of a 1 MB line, want at most %d", src.n, MaxQueryLen+2*4096)
	}
}

type countReader struct {
	r io.Reader
	n int
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestKindString(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Kinds() {
		s := k.String()
		if s == "" || seen[s] || strings.HasPrefix(s, "kind(") {
			t.Errorf("Kind %d has bad or duplicate name %q", k, s)
		}
		seen[s] = true
	}
	if len(seen) != int(kindCount)-1 {
		t.Errorf("Kinds() returned %d kinds, want %d", len(seen), kindCount-1)
	}
}
