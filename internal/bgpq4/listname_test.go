package bgpq4

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestListNameRefused: a -l name that could break out of its statement is refused with
// bgpq4's FATAL form and nothing on stdout; ordinary names (including the ones bgpq4's
// reference outputs use) still pass.
func TestListNameRefused(t *testing.T) {
	ix := loadAppendix(t)
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"NN", true}, {"CUST-AS64496_v4", true}, {"AS-AS112", true}, {"peer:name.1", true},
		{"a\nprotocol static {", false}, {"x y", false}, {"x\ty", false}, {"evil\";", false}, {"x'", false},
		{"a;b", false}, {"a}b", false}, {"a\\b", false}, {"\x1b[31m", false}, {"a\u00a0b", false},
	} {
		for _, format := range []string{"-b", "-j", "-J", ""} {
			args := []string{"-4", "-l", tc.name, "AS1000"}
			if format != "" {
				args = append([]string{format}, args...)
			}
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), args, nil, ix, &stdout, &stderr)
			if tc.ok {
				if code != 0 || !strings.Contains(stdout.String(), tc.name) {
					t.Errorf("%q %s: exit %d, stdout %q, stderr %q", tc.name, format, code, stdout.String(), stderr.String())
				}
				continue
			}
			if code != 255 || stdout.Len() != 0 || !strings.HasPrefix(stderr.String(), "FATAL ERROR:Invalid list name") {
				t.Errorf("%q %s: exit %d, stdout %q, stderr %q; want refusal", tc.name, format, code, stdout.String(), stderr.String())
			}
		}
	}
}
