package render

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// openbgpdCheck runs OpenBGPD's configtest (bgpd -n -f) on conf and returns its
// message when it refuses the file.
func openbgpdCheck(t *testing.T, bgpd, conf string) (string, bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bgpd.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bgpd, "-n", "-f", path).CombinedOutput()
	return string(out), err == nil
}

// openbgpdWrap puts a rendered set into a bgpd.conf with a filter rule that uses it.
func openbgpdWrap(set string) string {
	use := "allow from any prefix-set AS-EXAMPLE\n"
	if strings.HasPrefix(strings.TrimSpace(set), "as-set") {
		use = "allow from any source-as as-set AS-EXAMPLE\n"
	}
	return "AS 64496\nrouter-id 198.18.0.1\n" + set + use
}

// TestOpenBGPDParsesGoldens: every OpenBGPD golden file, in a bgpd.conf with a rule
// that uses the set, passes OpenBGPD's own configtest (bgpd -n, Debian's openbgpd).
// A broken variant (a length past /32, a dangling brace) must be refused, so the
// check can fail.
func TestOpenBGPDParsesGoldens(t *testing.T) {
	bgpd := peer.OpenBGPD(t)
	files, _ := filepath.Glob("testdata/golden/openbgpd_*.golden")
	if len(files) != 14 {
		t.Fatalf("%d openbgpd golden files, want 14", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if msg, ok := openbgpdCheck(t, bgpd, openbgpdWrap(string(b))); !ok {
			t.Errorf("bgpd -n refuses %s: %s\n%s", f, msg, b)
		}
	}
	for _, bad := range []string{
		"prefix-set AS-EXAMPLE {\n\t192.0.2.0/24 prefixlen 24 - 33\n}\n",
		"prefix-set AS-EXAMPLE {\n\t192.0.2.0/24\n",
		"as-set AS-EXAMPLE {\n\t64496 x\n}\n",
	} {
		if msg, ok := openbgpdCheck(t, bgpd, openbgpdWrap(bad)); ok {
			t.Errorf("bgpd -n accepts a broken set (%s):\n%s", msg, bad)
		}
	}
}
