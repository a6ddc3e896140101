package whois

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// FuzzParseQuery checks that no input panics the parser, that every error is one of
// the documented ones, and that parsed values are consistent (an ASN re-renders to a
// query that parses to the same ASN, a route-search prefix is canonical).
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"!!", "!nbgpq4 1.9", "!a", "!a4AS-TEST", "!a6AS1000:AS-CUSTOMERS", "!aAS-X", "!s-lc",
		"!sRIPE,RADB", "!iAS-TEST,1", "!iRS-TEST", "!gas1000", "!6AS4200000000", "!gAS1.10",
		"!q", "!v", "!t30", "!r192.0.2.0/24,o", "!r2001:db8::/32,M", "!maut-num,AS1",
		"AS-FOO\r\n", "-r -T as-set -s RIPE AS-FOO", "-k -L 192.0.2.0/25", "!", "!z", "-Z",
		"!gAS99999999999999999999", "!r::ffff:192.0.2.0/120", "!r192.0.2.0/24%eth0",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		q, err := ParseQuery(line)
		if err != nil {
			var qe *QueryError
			switch {
			case errors.As(err, &qe):
				if qe.Msg == "" {
					t.Fatalf("empty QueryError message for %q", line)
				}
			case errors.Is(err, ErrEmptyQuery), errors.Is(err, ErrLineTooLong):
			default:
				t.Fatalf("ParseQuery(%q): undocumented error %v", line, err)
			}
			return
		}
		if q.Kind == KindInvalid || q.Kind >= kindCount {
			t.Fatalf("ParseQuery(%q) returned kind %v", line, q.Kind)
		}
		if q.Text != (bytes.TrimSpace(line)[0] != '!') {
			t.Fatalf("ParseQuery(%q): Text = %v", line, q.Text)
		}
		switch q.Kind {
		case KindRoutes:
			again, err := ParseQuery([]byte(fmt.Sprintf("!g%s", q.ASN)))
			if err != nil || again.ASN != q.ASN {
				t.Fatalf("ASN %v of %q does not round-trip: %+v, %v", q.ASN, line, again, err)
			}
		case KindRouteSearch:
			if !q.Prefix.IsValid() || q.Prefix != q.Prefix.Masked() {
				t.Fatalf("route search prefix %v of %q not canonical", q.Prefix, line)
			}
		case KindSetPrefixes:
			if q.Name == "" {
				t.Fatalf("!a with empty set name accepted: %q", line)
			}
		case KindTimeout:
			if q.Seconds < 1 || q.Seconds > 1000 {
				t.Fatalf("timeout %d accepted from %q", q.Seconds, line)
			}
		case KindSources:
			for _, s := range q.Sources {
				if s != strings.ToUpper(s) {
					t.Fatalf("source %q not upper-cased", s)
				}
			}
		}
	})
}

// FuzzReadQueryLine checks that lines never exceed the bound and that the reader
// consumes nothing past the newline of an accepted line.
func FuzzReadQueryLine(f *testing.F) {
	f.Add([]byte("!!\n!gas1\n"), 8)
	f.Add([]byte(strings.Repeat("x", 100)), 16)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		r := bufio.NewReaderSize(bytes.NewReader(in), 16)
		for i := 0; i < len(in)+1; i++ {
			line, err := ReadQueryLine(r, max)
			if err != nil {
				return
			}
			if len(line) > max || bytes.IndexByte(line, '\n') >= 0 {
				t.Fatalf("line %q breaks the bound %d or holds a newline", line, max)
			}
		}
	})
}
