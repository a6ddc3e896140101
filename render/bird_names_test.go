package render

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// birdProtoHeader declares unnamed protocols, so BIRD names them device1, direct1,
// kernel1, static1 and bgp1, as a user's config that includes our output may.
const birdProtoHeader = birdHeader + `protocol direct { ipv4; }
protocol kernel { ipv4 { export none; }; }
protocol static { ipv4; }
protocol bgp { local as 64496; neighbor 192.0.2.2 as 64497; ipv4 { import none; export none; }; }
`

// birdUses is a config that defines name as a prefix set and uses it in a filter, as
// the bird templates do.
func birdUses(name string) string {
	return birdProtoHeader + "define " + name + " = [ 192.0.2.0/24 ];\nfilter f_" + "x { if net ~ " + name + " then accept; reject; }\n"
}

// birdRun runs bird -p on each config (a few at a time) and returns bird's message per
// config ("" when bird accepted it).
func birdRun(t *testing.T, bird string, confs map[string]string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	names := make([]string, 0, len(confs))
	for n := range confs {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make(map[string]string, len(confs))
	var mu sync.Mutex
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				path := filepath.Join(dir, fmt.Sprintf("c%d.conf", i))
				msg := ""
				if err := os.WriteFile(path, []byte(confs[names[i]]), 0o644); err != nil {
					msg = err.Error()
				} else if b, err := exec.Command(bird, "-p", "-c", path).CombinedOutput(); err != nil {
					msg = fmt.Sprintf("%v: %s", err, strings.TrimSpace(string(b)))
					if len(b) == 0 {
						msg = err.Error() + " (no message)"
					}
				}
				mu.Lock()
				out[names[i]] = msg
				mu.Unlock()
			}
		}()
	}
	for i := range names {
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}

// TestBirdReservedWords proves the BIRD reserved list against bird itself: every word
// the validator refuses (the whole list, and the auto-generated protocol names of the
// protocols in birdProtoHeader) is refused by bird -p as a set name, and a sample of
// names the validator accepts (upper-cased keywords, keywords with a suffix, the BGP
// role words BIRD lets be symbols, the fixed policy names) is accepted by bird -p.
func TestBirdReservedWords(t *testing.T) {
	bird := peer.Require(t, "bird")
	if out, err := exec.Command(bird, "--version").CombinedOutput(); err != nil || !strings.Contains(string(out), "BIRD version 2.") {
		t.Fatalf("bird --version: %v %s (the list is for BIRD 2.0.12)", err, out)
	}
	// The header itself must parse, or every "refused" below would prove nothing.
	if msg := birdRun(t, bird, map[string]string{"header": birdUses("OK_NAME")})["header"]; msg != "" {
		t.Fatalf("bird refuses the test header: %s", msg)
	}
	refused := map[string]string{}
	for w := range birdReserved() {
		refused[w] = birdUses(w)
	}
	for _, w := range []string{"device1", "direct1", "kernel1", "static1", "bgp1"} {
		refused[w] = birdUses(w)
	}
	if len(birdReserved()) < 500 {
		t.Fatalf("only %d reserved BIRD words", len(birdReserved()))
	}
	for w := range refused {
		if err := ValidateName("bird", w); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateName(bird, %q) = %v, want ErrInvalidName", w, err)
		}
	}
	for w, msg := range birdRun(t, bird, refused) {
		if msg == "" {
			t.Errorf("bird accepts %q as a set name: remove it from birdReserved (the validator is too strict)", w)
		}
	}
	// Words the issue named explicitly must be among them.
	for _, w := range []string{"bgp_med", "protocol", "where", "limit", "then", "bgp_path", "RTS_BGP", "ROA_INVALID", "master4"} {
		if !birdReservedName(w) {
			t.Errorf("%q is not reserved", w)
		}
	}
	for _, w := range []string{"ospf3", "rpki12", "babel1", "pipe2"} {
		if ValidateName("bird", w) == nil {
			t.Errorf("auto-generated protocol name %q accepted", w)
		}
	}

	accepted := map[string]string{}
	words := make([]string, 0, len(birdReserved()))
	for w := range birdReserved() {
		words = append(words, w)
	}
	sort.Strings(words)
	for i, w := range words {
		if i%7 == 0 {
			if up := strings.ToUpper(w); !birdReservedName(up) {
				accepted[up] = birdUses(up)
			}
			accepted[w+"_x"] = birdUses(w + "_x")
		}
	}
	for _, w := range []string{"FILTER", "NET", "AS_EXAMPLE", "L_64496", "_x", "peer", "customer", "provider",
		"role", "rs_client", "rs_server", "acme_IN_V4", "acme_OUT_V6", "bgp0x", "Master4", "device", "include"} {
		accepted[w] = birdUses(w)
	}
	if w := "device"; ValidateName("bird", w) == nil {
		t.Fatalf("%q (a protocol type) accepted", w) // keeps the sample honest: device is a keyword
	}
	delete(accepted, "device")
	for w := range accepted {
		if err := ValidateName("bird", w); err != nil {
			t.Errorf("ValidateName(bird, %q) = %v, want it accepted", w, err)
		}
	}
	for w, msg := range birdRun(t, bird, accepted) {
		if msg != "" {
			t.Errorf("bird refuses %q, which the validator accepts: %s", w, msg)
		}
	}
	t.Logf("bird -p refused all %d reserved names and accepted %d sample names", len(refused), len(accepted))
}
