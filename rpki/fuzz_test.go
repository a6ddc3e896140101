package rpki

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// refDoc is a slow reference reader for the "roas" array built on encoding/json.
type refDoc struct {
	Roas []struct {
		ASN       json.RawMessage `json:"asn"`
		Prefix    string          `json:"prefix"`
		MaxLength int             `json:"maxLength"`
	} `json:"roas"`
}

// FuzzParse: Parse never panics; what it accepts dumps and re-loads to the same
// set; and when encoding/json reads the same document, both agree on the number of
// roas before de-duplication.
func FuzzParse(f *testing.F) {
	fix, err := os.ReadFile("testdata/fixture.rpki-client.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][]byte{
		fix,
		[]byte(`{"roas":[{"asn":"AS64496","prefix":"192.0.2.0/24","maxLength":24,"ta":"x"}]}`),
		[]byte(`{"metadata":{"generated":1},"roas":[{"asn":"64496","prefix":"2001:db8::/32","maxLength":48,"source":[{"tal":"t"}]}]}`),
		[]byte(`{"provider_authorizations":{"ipv4":[{"customer_asid":1,"providers":[2]}],"ipv6":null}}`),
		[]byte("ASN,IP Prefix,Max Length,Trust Anchor,Expires\nAS1,192.0.2.0/24,24,ripe,1\n"),
		[]byte(`{"roas":[{"asn":1,"prefix":"192.0.2.0/24","maxLength":2.4e1,"ta":"a\"b"}]}`),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := Parse(data, "fuzz", Options{IgnoreExpiry: true})
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := tb.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		tb2, err := Parse(buf.Bytes(), "dump", Options{IgnoreExpiry: true})
		if err != nil {
			t.Fatalf("dump does not re-load: %v\n%s", err, buf.Bytes())
		}
		var buf2 bytes.Buffer
		tb2.WriteJSON(&buf2)
		if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
			t.Fatalf("dump not stable:\n%s\n%s", buf.Bytes(), buf2.Bytes())
		}
		var ref refDoc
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) && json.Unmarshal(data, &ref) == nil {
			n4, n6 := tb.Len()
			if n4+n6 > len(ref.Roas) {
				t.Fatalf("fast parser has %d VRPs, encoding/json sees %d roas", n4+n6, len(ref.Roas))
			}
		}
	})
}

// FuzzParseSLURM: no panics, and accepted assertions are valid VRPs.
func FuzzParseSLURM(f *testing.F) {
	f.Add([]byte(`{"slurmVersion":1,"validationOutputFilters":{"prefixFilters":[{"prefix":"192.0.2.0/24"}]},"locallyAddedAssertions":{"prefixAssertions":[{"asn":1,"prefix":"2001:db8::/32","maxPrefixLength":48}]}}`))
	f.Add([]byte(`{"slurmVersion":2,"validationOutputFilters":{"aspaFilters":[{"customerAsid":1}]},"locallyAddedAssertions":{"aspaAssertions":[{"customerAsid":1,"providerSet":[2]}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSLURM(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, v := range s.PrefixAssertions {
			if err := v.check(); err != nil {
				t.Fatalf("accepted invalid assertion %v: %v", v, err)
			}
		}
	})
}

// FuzzScannerString compares the scanner's string decoding with encoding/json.
func FuzzScannerString(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b\\c\/d"`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, `"\b\f\n\r\t"`, `"x\u0041"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want string
		jerr := json.Unmarshal(b, &want)
		s := &scanner{b: b}
		got, err := s.str()
		if err == nil && !s.end() {
			err = s.errf("trailing data")
		}
		switch {
		case err == nil && jerr != nil:
			t.Fatalf("scanner accepts %q (%q), encoding/json: %v", b, got, jerr)
		case err == nil && string(got) != want:
			t.Fatalf("%q: scanner %q, encoding/json %q", b, got, want)
		case err != nil && jerr == nil && utf8.Valid(b) && !bytes.Contains(b, []byte(`\u`)):
			t.Fatalf("%q: scanner rejects (%v), encoding/json gives %q", b, err, want)
		}
	})
}

// failAfter returns the first n bytes of data, then errBoom.
type failAfter struct {
	data []byte
	n    int
}

var errBoom = errors.New("boom")

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errBoom
	}
	k := copy(p, f.data[:min(len(f.data), f.n)])
	f.data, f.n = f.data[k:], f.n-k
	return k, nil
}

// parseReader is Parse over a reader.
func parseReader(r io.Reader) (*Table, error) {
	b := NewBuilder(Options{IgnoreExpiry: true, AllowEmpty: true})
	format, built, err := parseStream(r, b)
	if err != nil {
		return nil, err
	}
	b.SetMetadata("fuzz", format, built)
	return b.Build()
}

// FuzzParseStream: the streaming parser gives the same result whether the input
// arrives whole or one byte per read (every token then spans window refills), and a
// read error is never taken for the end of the input.
func FuzzParseStream(f *testing.F) {
	fix, err := os.ReadFile("testdata/fixture.rpki-client.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		string(fix),
		`{"roas":[{"asn":"AS64496","prefix":"192.0.2.0/24","maxLength":24,"ta":"x"}]}`,
		`{"metadata":{"buildtime":"2026-01-02T03:04:05Z"},"x":{"a":[1,{"b":"]}"}],"c":null},"roas":[{"asn":1,"prefix":"192.0.2.0/24","maxLength":2.4e1,"ta":"a\"b\u00e9"}]}`,
		`{"aspas":[{"customer_asid":64496,"providers":[64497,64498]}],"provider_authorizations":{"ipv4":[{"customer_asid":1,"providers":[2]}],"ipv6":null}}`,
		"\ufeff ASN,IP Prefix,Max Length,Trust Anchor,Expires\nAS1,192.0.2.0/24,24,ripe,1\n",
		`{"roas":[{"asn":1,"prefix":"2001:db8::/32","maxLength":48,"source":[{"type":"roa","tal":"t"}]}]} `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		whole, werr := parseReader(bytes.NewReader(data))
		bytewise, berr := parseReader(iotest.OneByteReader(bytes.NewReader(data)))
		if (werr == nil) != (berr == nil) {
			t.Fatalf("whole: %v, one byte per read: %v", werr, berr)
		}
		if werr == nil {
			var a, b bytes.Buffer
			whole.WriteJSON(&a)
			bytewise.WriteJSON(&b)
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatalf("whole and one byte per read differ:\n%s\n%s", a.Bytes(), b.Bytes())
			}
		}
		// The input cut short by a read error is refused, whatever it holds.
		if _, err := parseReader(&failAfter{data: data, n: len(data) / 2}); err == nil {
			t.Fatalf("input cut at %d of %d bytes by a read error was accepted", len(data)/2, len(data))
		}
	})
}
