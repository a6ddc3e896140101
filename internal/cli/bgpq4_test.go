package cli

import (
	"bytes"
	"context"
	"os"
	"slices"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/internal/whoistest"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/whoisd"
)

func TestBGPQ4Command(t *testing.T) {
	db := "../bgpq4/testdata/appendix.db"
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"junos prefix-list", []string{"--irr", db, "bgpq4", "-J", "-l", "EXAMPLE", "AS-SMALL"}, 0,
			"policy-options {\nreplace:\n prefix-list EXAMPLE {\n    192.0.2.0/24;\n    192.0.2.0/25;\n    192.0.2.128/25;\n    198.18.0.0/16;\n    198.18.5.0/24;\n    198.19.0.0/16;\n }\n}\n", ""},
		{"flags after objects", []string{"--irr", db, "bgpq4", "AS1000", "-6A"}, 0,
			"no ipv6 prefix-list NN\nipv6 prefix-list NN permit 2001:db8:1000::/47 ge 48 le 48\n", ""},
		{"fatal before loading", []string{"--irr", "/nonexistent", "bgpq4", "-J", "-A", "AS-SMALL"}, 255, "",
			"FATAL ERROR:Sorry, aggregation (-A) does not work in Juniper prefix-lists\nYou can try route-filters (-E) or route-filter-lists (-z) instead of prefix-lists\n."},
		{"vendor conflict", []string{"--irr", db, "bgpq4", "-J", "-X", "AS-SMALL"}, 1, "",
			"-b (BIRD), -B (OpenBGPD), -F (formatted), -J (Junos), -j (JSON), -K[7] (Microtik ROS), -N (Nokia SR OS Classic), -n (Nokia SR OS MD-CLI), -U (Huawei), -u (Huawei XPL),-e (Arista) and -X (IOS XR) options are mutually exclusive\n"},
		{"private ASN filtered", []string{"--irr", db, "bgpq4", "-f", "1000", "AS-TEST"}, 0,
			"no ip as-path access-list NN\nip as-path access-list NN permit ^1000(_1000)*$\nip as-path access-list NN permit ^1000(_[0-9]+)*_(2000|3000|4000|200000)$\n",
			"ERROR:Invalid AS number: 65001\n"},
		{"remote -h", []string{"bgpq4", "-h", "WHOISD", "-6", "-A", "AS-SMALL"}, 0,
			"no ipv6 prefix-list NN\nipv6 prefix-list NN permit 2001:db8:1000::/47 ge 48 le 48\nipv6 prefix-list NN permit 2001:db8:2000::/40\n", ""},
		{"remote -h refused", []string{"bgpq4", "-h", "127.0.0.1:1", "AS-SMALL"}, 3, "", "SKIP"},
	}
	ix, _, err := irr.Load(context.Background(), []string{db}, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	addr := whoistest.Serve(t, ix, whoisd.Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(db); err != nil {
				peer.Missing(t, "bgpq4 fixture: "+err.Error())
			}
			args := slices.Clone(tc.args)
			if i := slices.Index(args, "WHOISD"); i >= 0 {
				args[i] = addr
			}
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), append([]string{"bgpfilter", "--quiet"}, args...), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, stderr.String())
			}
			if stdout.String() != tc.stdout {
				t.Errorf("stdout:\n%s--- want:\n%s", stdout.String(), tc.stdout)
			}
			if tc.stderr != "SKIP" && stderr.String() != tc.stderr {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.stderr)
			}
		})
	}
}
