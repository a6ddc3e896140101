package rpki

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// Issue 12 item 2: input without a usable VRP was accepted as an empty table, so
// drop-invalid silently dropped nothing. Each case must be refused with ErrEmpty
// and a message naming what was found; AllowEmpty accepts the same input.
func TestEmptyInputRefused(t *testing.T) {
	slurmFile, err := os.ReadFile(peer.SharedData(t, "rpki/format-samples/stayrtr.slurm.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   string
		want []string // substrings of the message
	}{
		{"empty object", `{}`, []string{"holds no VRP", "top-level members: none"}},
		{"roas null", `{"roas": null}`, []string{"holds no VRP", `"roas"`}},
		{"roas empty", `{"metadata":{"buildtime":"2026-01-02T03:04:05Z"},"roas": []}`, []string{"rpki-client-json", `"metadata", "roas"`}},
		{"wrong top-level key", `{"vrps":[{"asn":64496,"prefix":"192.0.2.0/24","maxLength":24}]}`, []string{`"vrps"`}},
		{"SLURM file", string(slurmFile), []string{`"slurmVersion"`, "pass it with --slurm"}},
		{"header-only rpki-client CSV", "ASN,IP Prefix,Max Length,Trust Anchor,Expires\n", []string{"rpki-client-csv"}},
		{"header-only Routinator CSV", "ASN,IP Prefix,Max Length,Trust Anchor\r\n", []string{"routinator-csv"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.in), "in.json", Options{Now: fixtureNow})
			if !errors.Is(err, ErrEmpty) {
				t.Fatalf("err = %v, want ErrEmpty", err)
			}
			for _, w := range append(c.want, "in.json", "AllowEmpty") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
			tb, err := Parse([]byte(c.in), "in.json", Options{Now: fixtureNow, AllowEmpty: true})
			if err != nil {
				t.Fatalf("AllowEmpty: %v", err)
			}
			if n4, n6 := tb.Len(); n4+n6 != 0 {
				t.Errorf("AllowEmpty: %d VRPs", n4+n6)
			}
		})
	}
}

// ASPA-only input (no VRP at all) is an ASPA source and stays accepted.
func TestASPAOnlyInputAccepted(t *testing.T) {
	tb, err := Parse([]byte(`{"aspas":[{"customer_asid":64496,"providers":[64497]}]}`), "aspa.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.ASPAs()) != 1 {
		t.Errorf("ASPAs = %v", tb.ASPAs())
	}
}

// VRPs that were read and then all removed (SLURM, trust-anchor filter) are refused
// too, naming the trust anchors and counts found.
func TestAllFilteredRefused(t *testing.T) {
	all, err := ParseSLURM(strings.NewReader(`{"slurmVersion":1,"validationOutputFilters":{"prefixFilters":[{"prefix":"0.0.0.0/0"},{"prefix":"::/0"}]},"locallyAddedAssertions":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opt  Options
		err  error
		want []string
	}{
		// The fixture holds 9 VRPs: ripe 5, apnic 2, arin 1, lacnic 1 (one expired).
		{"SLURM filters everything", Options{SLURM: all}, ErrEmpty, []string{"removed by SLURM filters", "9 VRPs read", "ripe 5", "2 VRPs/ASPAs expired"}},
		{"TA name unknown", Options{TrustAnchors: []string{"ripencc"}}, ErrUnknownTA, []string{`"ripencc"`, "ripe 5, apnic 2, arin 1, lacnic 1"}},
		{"one of two TA names unknown", Options{TrustAnchors: []string{"ripe", "arn"}}, ErrUnknownTA, []string{`"arn"`, "arin 1"}},
		// The allow-list is checked even when the user accepts an empty table.
		{"TA unknown with AllowEmpty", Options{TrustAnchors: []string{"ripencc"}, AllowEmpty: true}, ErrUnknownTA, []string{`"ripencc"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opt.Now = fixtureNow
			_, err := LoadFile(context.Background(), "testdata/fixture.rpki-client.json", c.opt)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
		})
	}
	// AllowEmpty accepts the SLURM that removes everything.
	if _, err := LoadFile(context.Background(), "testdata/fixture.rpki-client.json", Options{Now: fixtureNow, SLURM: all, AllowEmpty: true}); err != nil {
		t.Errorf("SLURM all, AllowEmpty: %v", err)
	}
	// Matching names (TAL paths and case folded) are still accepted.
	if _, err := LoadFile(context.Background(), "testdata/fixture.rpki-client.json", Options{Now: fixtureNow, TrustAnchors: []string{"RIPE", "/etc/tals/arin.tal"}}); err != nil {
		t.Errorf("ripe, arin.tal: %v", err)
	}
}

// Issue 12 item 12: a build time in the future made the data look fresh to
// MaxAge. More than ClockSkew ahead is refused; less is accepted.
func TestFutureBuildTime(t *testing.T) {
	built := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) // the fixture's buildtime
	cases := []struct {
		now    time.Time
		maxAge time.Duration
		err    error
	}{
		{built.Add(-time.Hour), time.Hour, ErrFuture},
		{built.Add(-ClockSkew - time.Second), time.Hour, ErrFuture},
		{built.Add(-ClockSkew + time.Second), time.Hour, nil},
		{built.Add(-time.Hour), 0, nil}, // no age check asked for
	}
	for _, c := range cases {
		_, err := LoadFile(context.Background(), "testdata/fixture.rpki-client.json", Options{Now: c.now, MaxAge: c.maxAge, IgnoreExpiry: true})
		if !errors.Is(err, c.err) || (err != nil && c.err == nil) {
			t.Errorf("now %s, max age %s: err = %v, want %v", c.now.Format(time.RFC3339), c.maxAge, err, c.err)
		}
		if err != nil && !strings.Contains(err.Error(), "2026-01-02T03:04:05Z") {
			t.Errorf("message %q lacks the build time", err)
		}
	}
	// Without a build time, the file's modification time stands in for it.
	p := filepath.Join(t.TempDir(), "nobuildtime.csv")
	if err := os.WriteFile(p, []byte("ASN,IP Prefix,Max Length,Trust Anchor\nAS64496,192.0.2.0/24,24,ripe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(2 * time.Hour)
	if err := os.Chtimes(p, future, future); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(context.Background(), p, Options{MaxAge: time.Hour}); !errors.Is(err, ErrFuture) {
		t.Errorf("mtime in the future: err = %v, want ErrFuture", err)
	}
}
