package policy

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// safe returns s unchanged when it holds only characters that RPSL names use, else
// quoted (Go syntax), so untrusted IRR text can never break a line of output.
func safe(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("-_:.^+/", c) >= 0 {
			continue
		}
		return strconv.Quote(s)
	}
	if s == "" {
		return `""`
	}
	return s
}

func safePath(p []string) string {
	parts := make([]string, len(p))
	for i, s := range p {
		parts[i] = safe(s)
	}
	return strings.Join(parts, " > ")
}

// Range renders the entry's length range in a vendor-neutral way: "exact",
// "le 25" or "ge 24 le 26".
func (e Entry) Range() string {
	switch {
	case e.Exact():
		return "exact"
	case e.HasGE():
		return "ge " + strconv.Itoa(e.Min) + " le " + strconv.Itoa(e.Max)
	default:
		return "le " + strconv.Itoa(e.Max)
	}
}

// Explain writes one block per entry: the entry, its origins, sources, set paths and
// RPKI state. Every IRR-derived name is passed through a quoting filter.
func (f *PrefixFilter) Explain(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# %s (IPv%d) from %s: %d entries\n", safe(f.Name), f.Family, safePath(f.Objects), len(f.Entries))
	for _, wmsg := range f.Warnings {
		fmt.Fprintf(bw, "# warning: %s\n", wmsg)
	}
	for _, e := range f.Entries {
		fmt.Fprintf(bw, "%s %s\n", e.Prefix, e.Range())
		if len(e.Origins) > 0 {
			as := make([]string, len(e.Origins))
			for i, a := range e.Origins {
				as[i] = a.String()
			}
			fmt.Fprintf(bw, "  origins: %s\n", strings.Join(as, " "))
		}
		if len(e.Sources) > 0 {
			src := make([]string, len(e.Sources))
			for i, s := range e.Sources {
				src[i] = safe(s)
			}
			fmt.Fprintf(bw, "  sources: %s\n", strings.Join(src, " "))
		}
		for _, p := range e.Paths {
			fmt.Fprintf(bw, "  via: %s\n", safePath(p))
		}
		if st := e.ROVSummary(); st != "" {
			fmt.Fprintf(bw, "  rpki: %s\n", st)
			for _, r := range e.ROVReasons {
				fmt.Fprintf(bw, "    %s\n", strconv.Quote(r))
			}
		}
	}
	return bw.Flush()
}

// Explanation is what `bgpfilter explain` reports for one announcement (its --json
// form): the document that judged it, the announcement and the decision.
type Explanation struct {
	Customer string       `json:"customer"`
	Policy   string       `json:"policy"`
	Family   int          `json:"family"`
	Prefix   netip.Prefix `json:"prefix"`
	Path     string       `json:"path"`
	Decision
}

// Explain evaluates a against doc and returns the explanation.
func Explain(doc *Document, a Announcement) (Explanation, error) {
	d, err := Evaluate(doc, a)
	if err != nil {
		return Explanation{}, err
	}
	return Explanation{Customer: doc.Customer, Policy: doc.Name, Family: doc.Family, Prefix: a.Prefix.Masked(),
		Path: a.Path.String(), Decision: d}, nil
}

// WriteText writes the explanation for people: the verdict on the first line
// ("accept" or "reject"), then the deciding rule, the reason, the evidence and the
// outcome of every rule. IRR-derived names pass through the same quoting as
// PrefixFilter.Explain.
func (x Explanation) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s\n", x.Action)
	fmt.Fprintf(bw, "policy:   %s (customer %s, IPv%d)\n", safe(x.Policy), safe(x.Customer), x.Family)
	fmt.Fprintf(bw, "route:    %s path %s\n", x.Prefix, x.Path)
	fmt.Fprintf(bw, "rule:     %s (%s)\n", x.Rule, x.Rule.Description())
	fmt.Fprintf(bw, "reason:   %s\n", x.Reason)
	ev := x.Evidence
	if ev.ASN != nil {
		fmt.Fprintf(bw, "asn:      %s at position %d\n", *ev.ASN, ev.Position)
	}
	if ev.Range != nil {
		fmt.Fprintf(bw, "list:     %s %s\n", ev.Range, strconv.Quote(ev.Range.Reason))
	}
	if ev.Bogon != nil {
		fmt.Fprintf(bw, "bogon:    %s %s\n", ev.Bogon.PrefixRange, strconv.Quote(ev.Bogon.Reason))
	}
	if ev.Bounds != nil {
		fmt.Fprintf(bw, "length:   /%d, accepted /%d-/%d\n", ev.Length, ev.Bounds.Min, ev.Bounds.Max)
	}
	if ev.MaxPathLength > 0 {
		fmt.Fprintf(bw, "path:     %d ASNs, limit %d\n", ev.PathLength, ev.MaxPathLength)
	}
	if ev.NeighborASN != 0 {
		first := "none (AS_SET)"
		if ev.FirstAS != nil {
			first = ev.FirstAS.String()
		}
		fmt.Fprintf(bw, "first-as: %s, neighbour %s\n", first, ev.NeighborASN)
	}
	if ev.Origin != nil {
		fmt.Fprintf(bw, "origin:   %s", *ev.Origin)
		if len(ev.OriginPath) > 0 {
			fmt.Fprintf(bw, " via %s", safePath(append(slices.Clone(ev.OriginPath), ev.Origin.String())))
		}
		fmt.Fprintln(bw)
	}
	if ev.ROV != nil {
		fmt.Fprintf(bw, "rpki:     %s\n", ev.ROV.State)
		for _, r := range ev.ROV.ROAs {
			fmt.Fprintf(bw, "  %s\n", strconv.Quote(r))
		}
	}
	for _, e := range ev.Entries {
		fmt.Fprintf(bw, "entry:    %s %s\n", e.Prefix, e.Range())
		if len(e.Origins) > 0 {
			as := make([]string, len(e.Origins))
			for i, a := range e.Origins {
				as[i] = a.String()
			}
			fmt.Fprintf(bw, "  route objects of: %s\n", strings.Join(as, " "))
		}
		if len(e.Sources) > 0 {
			src := make([]string, len(e.Sources))
			for i, s := range e.Sources {
				src[i] = safe(s)
			}
			fmt.Fprintf(bw, "  sources: %s\n", strings.Join(src, " "))
		}
		for _, p := range e.Paths {
			fmt.Fprintf(bw, "  via: %s\n", safePath(p))
		}
		if st := e.ROVSummary(); st != "" {
			fmt.Fprintf(bw, "  rpki: %s\n", st)
			for _, r := range e.ROVReasons {
				fmt.Fprintf(bw, "    %s\n", strconv.Quote(r))
			}
		}
	}
	fmt.Fprintln(bw, "rules:")
	for _, s := range x.Steps {
		if s.Note != "" {
			fmt.Fprintf(bw, "  %-15s %-8s %s\n", s.Rule, s.Outcome, s.Note)
		} else {
			fmt.Fprintf(bw, "  %-15s %s\n", s.Rule, s.Outcome)
		}
	}
	return bw.Flush()
}
