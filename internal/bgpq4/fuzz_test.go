package bgpq4

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// FuzzParseArgs feeds arbitrary command lines (NUL-separated) to the getopt parser.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{"-Jz\x00-A\x00AS-X", "-K7\x00-l\x00N\x00AS1", "-n2\x00AS1", "-f\x00001.2\x00AS-X",
		"-M\x00a\\nb\x00-JE\x00AS-X", "-W\x00-3\x00-f\x001\x00AS1", "--\x00-A", "-r\x0020\x00-R\x0019\x00AS1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		c, e := parseArgs(args, nil)
		if e != nil {
			if e.code != 0 && e.code != 1 && e.code != 255 {
				t.Fatalf("exit code %d", e.code)
			}
			return
		}
		if c.gen == tNone || len(c.objects) == 0 {
			t.Fatalf("accepted without generation or objects: %+v", c)
		}
		if c.refineLow > c.refine || c.refine > c.afMax() || c.maxlen > c.afMax() {
			t.Fatalf("out-of-range lengths accepted: %+v", c)
		}
	})
}

// FuzzParsePrefix checks bgpq4's prefix parser: no panic, masked results that survive
// a round trip.
func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"10.0.0.1/24", "010.000.000.000/24", "0x0a.0.0.0/8", "2001:db8::/32", "fe80::1%eth0",
		"1.2.3.4abc", "10.0.0.0/-1", "10.0.0.0/", "::ffff:1.2.3.4/120", "AS3000", "10.0.0.0/24x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := &runner{c: &config{}, errw: io.Discard}
		p, ok := r.parsePrefix(s)
		if !ok {
			return
		}
		if p != p.Masked() {
			t.Fatalf("%q → %s not masked", s, p)
		}
		q, ok := r.parsePrefix(string(appendPrefix(nil, p, "/")))
		if !ok || q != p {
			t.Fatalf("%q → %s does not round-trip (%s)", s, p, q)
		}
	})
}

// FuzzRunLiteral runs whole invocations with literal objects (no data needed): no
// panic, a bgpq4 exit status (0, 1 or 255), nothing on stdout with a FATAL error
// (255), and on a usage error (1) the usage text or nothing.
func FuzzRunLiteral(f *testing.F) {
	for _, s := range []string{"-A\x0010.0.0.0/24\x0010.0.1.0/24", "-6\x00-Jz\x002001:db8::/32^40-41",
		"-F\x00%n %x\x0010.0.0.0/8", "-R\x0024\x00-r\x0020\x00192.0.2.0/24", "-b\x00-A\x0010.0.0.0/22^+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		var out, errw bytes.Buffer
		code := Run(context.Background(), args, nil, emptyQuerier{}, &out, &errw)
		switch code {
		case 0:
		case 1:
			if out.Len() > 0 && out.String() != usageText {
				t.Fatalf("usage error for %q printed other output:\n%s", args, out.String())
			}
		case 255:
			if out.Len() > 0 {
				t.Fatalf("FATAL error for %q (%s) after output:\n%s", args, errw.String(), out.String())
			}
		default:
			t.Fatalf("exit %d for %q", code, args)
		}
	})
}
