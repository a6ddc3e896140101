package policy

import (
	"bufio"
	"fmt"
	"io"
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
