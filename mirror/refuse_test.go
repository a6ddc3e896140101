package mirror

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNRTM3AddRefusedAtApply: an NRTM ADD the index would refuse (a route with host
// bits, a route6 with an IPv4 prefix, an unparsable origin) is refused when the
// stream is applied, as IRRd does (its NRTMOperation logs "Parsing errors occurred
// while processing NRTM operation …. This operation is ignored" and goes on): the
// object is not stored, so it never reaches the DB file or the journal, the other
// operations of the stream apply, the serial moves on, and a warning names the
// serial, the object and the reason. No index is attached: the refusal must not
// depend on one.
func TestNRTM3AddRefusedAtApply(t *testing.T) {
	dir := t.TempDir()
	dump := filepath.Join(dir, "test.db")
	if err := os.WriteFile(dump, []byte(routeA+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cfg := Config{Dir: filepath.Join(dir, "m"), Sources: []SourceConfig{{Name: "TEST", Dump: dump, DumpSerial: 9}},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	m, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hostBits := "route: 198.51.100.1/24\norigin: AS64497\nsource: TEST\n"
	v4in6 := "route6: 203.0.113.0/24\norigin: AS64498\nsource: TEST\n"
	badOrigin := "route: 203.0.113.0/24\norigin: ASX\nsource: TEST\n"
	st, err := ParseNRTM3(strings.NewReader("%START Version: 3 TEST 10-13\n\nADD 10\n\n"+hostBits+
		"\nADD 11\n\n"+routeB+"\nADD 12\n\n"+v4in6+"\nADD 13\n\n"+badOrigin+"\n%END TEST\n"), Expect{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ApplyNRTM3("TEST", st); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if got := objectKeys(m, "TEST"); !slices.Equal(got, []string{"route 192.0.2.0/24AS64496", "route 198.51.100.0/24AS64497"}) {
		t.Errorf("objects = %v, want the dump's route and the valid ADD only", got)
	}
	if s, _ := m.State("TEST"); s.Serial != 13 || s.Objects != 2 {
		t.Errorf("state = serial %d, %d objects; want 13, 2", s.Serial, s.Objects)
	}
	for _, want := range []string{
		`msg="NRTM ADD refused"`, "serial 10", "198.51.100.1/24", "host bits",
		"serial 12", "203.0.113.0/24", "serial 13", "refused=3",
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	// Nothing refused reached the files: reopened, the mirror has the same objects.
	m.Close()
	m2, err := Open(Config{Dir: filepath.Join(dir, "m")})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if got := objectKeys(m2, "TEST"); !slices.Equal(got, []string{"route 192.0.2.0/24AS64496", "route 198.51.100.0/24AS64497"}) {
		t.Errorf("reopened objects = %v", got)
	}
}
