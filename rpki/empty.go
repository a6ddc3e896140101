package rpki

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Errors for input that parses but cannot be what the user meant.
var (
	// ErrEmpty reports a table without any usable VRP (Options.AllowEmpty accepts
	// one): ROV against it finds every route NotFound, so drop-invalid drops
	// nothing, which is worse than failing.
	ErrEmpty = errors.New("no usable VRPs")
	// ErrUnknownTA reports an Options.TrustAnchors name that matches no trust
	// anchor in the data (a typo such as "ripencc" where rpki-client says "ripe").
	ErrUnknownTA = errors.New("trust anchor not in the data")
	// ErrFuture reports data whose build time lies in the future: its age cannot
	// be trusted, so a maximum age cannot be checked.
	ErrFuture = errors.New("RPKI data built in the future")
)

// ClockSkew is how far in the future a build time may lie before it is refused.
const ClockSkew = 5 * time.Minute

// checkFuture refuses a build time more than ClockSkew after now.
func checkFuture(source, what string, t, now time.Time) error {
	if d := t.Sub(now); d > ClockSkew {
		return fmt.Errorf("rpki: %s: %w: %s at %s, %s after the local clock (%s); check the clocks of this host and the relying party",
			source, ErrFuture, what, t.UTC().Format(time.RFC3339), d.Round(time.Second), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// noteKey records a top-level JSON member name (at most 8, truncated) for messages.
func (b *Builder) noteKey(k []byte) {
	if len(b.keys) >= 8 {
		return
	}
	s := string(k)
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	b.keys = append(b.keys, strconv.Quote(s))
}

// presentTAs describes the trust anchors seen in the data with their VRP counts,
// largest first: "ripe 1200, arin 800".
func (b *Builder) presentTAs() string {
	names := slices.Collect(maps.Keys(b.seenTA))
	slices.SortFunc(names, func(x, y string) int {
		if c := cmp.Compare(b.seenTA[y], b.seenTA[x]); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
	var parts []string
	for _, n := range names {
		label := n
		if label == "" {
			label = `""`
		}
		parts = append(parts, label+" "+strconv.Itoa(b.seenTA[n]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// checkTrustAnchors refuses allow-list names that match no trust anchor of the
// VRPs read. Data without any VRP is left to the empty-table check.
func (b *Builder) checkTrustAnchors() error {
	if b.allowTA == nil || len(b.seenTA) == 0 {
		return nil
	}
	present := map[string]bool{}
	for n := range b.seenTA {
		present[normTA(n)] = true
	}
	var missing []string
	for _, ta := range b.opt.TrustAnchors {
		if !present[normTA(ta)] {
			missing = append(missing, strconv.Quote(ta))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("rpki: %s: %w: %s matches none of the trust anchors present (%s)",
		b.meta.Source, ErrUnknownTA, strings.Join(missing, ", "), b.presentTAs())
}

// emptyError says why the table is empty: what the input held and what removed it.
func (b *Builder) emptyError() error {
	read := 0
	for _, n := range b.seenTA {
		read += n
	}
	var why []string
	if read == 0 {
		why = append(why, "the data holds no VRP")
		if b.meta.Format != "" {
			why = append(why, "format "+b.meta.Format)
		}
		if strings.HasSuffix(b.meta.Format, "json") {
			keys := "none"
			if len(b.keys) > 0 {
				keys = strings.Join(b.keys, ", ")
			}
			why = append(why, "top-level members: "+keys)
			if slices.Contains(b.keys, `"slurmVersion"`) {
				why = append(why, "this is a SLURM file: pass it with --slurm, not as VRP data")
			}
		}
	} else {
		why = append(why, strconv.Itoa(read)+" VRPs read", "trust anchors present: "+b.presentTAs())
		if b.meta.FilteredTA > 0 {
			why = append(why, fmt.Sprintf("%d dropped by the trust-anchor filter %v", b.meta.FilteredTA, b.opt.TrustAnchors))
		}
		if b.meta.Expired > 0 {
			why = append(why, fmt.Sprintf("%d VRPs/ASPAs expired", b.meta.Expired))
		}
		if b.meta.FilteredSLURM > 0 {
			why = append(why, fmt.Sprintf("%d VRPs/ASPAs removed by SLURM filters", b.meta.FilteredSLURM))
		}
	}
	if n := len(b.aspas); n > 0 {
		why = append(why, fmt.Sprintf("%d ASPAs", n))
	}
	return fmt.Errorf("rpki: %s: %w (%s); refusing an empty table, which would make drop-invalid drop nothing (AllowEmpty / --rpki-allow-empty accepts it)",
		b.meta.Source, ErrEmpty, strings.Join(why, "; "))
}
