package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/bgpfilter/bgpfilter/render"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// RequireRPKI loads the RPKI data of spec and fails with a usage error when spec names
// none (the rpki commands need it).
func RequireRPKI(ctx context.Context, spec RPKISpec) (*rpki.Table, error) {
	t, err := OpenRPKI(ctx, spec)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, WithCode(ExitUsage, errors.New("rpki: --rpki FILE or --rpki rtr://HOST:PORT is required"))
	}
	return t, nil
}

// ValidateRoute writes the RFC 6811 state of the route (prefix p originated by asn)
// and every covering VRP with why it matches or not, as text or JSON, and returns the
// state as the exit status (0 valid, ExitROVInvalid, ExitROVNotFound) so a script can
// branch without parsing the output. The state and the matching VRPs are the rpki
// validator's (Table.ROV); the per-VRP reason only explains a non-match.
func ValidateRoute(w io.Writer, t *rpki.Table, p netip.Prefix, asn routing.ASN, format string) error {
	p = p.Masked()
	st, deciding := t.ROV(p, asn)
	covering := t.Covering(p)
	matches := func(v rpki.VRP) bool { return st == routing.Valid && slices.Contains(deciding, v) }
	bw := bufio.NewWriter(w)
	if format == "json" {
		type jv struct {
			Prefix    string      `json:"prefix"`
			MaxLength uint8       `json:"maxLength"`
			ASN       routing.ASN `json:"asn"`
			TA        string      `json:"ta"`
			Matches   bool        `json:"matches"`
		}
		out := struct {
			Prefix   string      `json:"prefix"`
			Origin   routing.ASN `json:"origin"`
			State    string      `json:"state"`
			Covering []jv        `json:"covering"`
		}{Prefix: p.String(), Origin: asn, State: st.String(), Covering: []jv{}}
		for _, v := range covering {
			out.Covering = append(out.Covering, jv{v.Prefix.String(), v.MaxLength, v.ASN, v.TA, matches(v)})
		}
		enc := json.NewEncoder(bw)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return WithCode(ExitUsage, fmt.Errorf("rpki validate: write: %w", err))
		}
		return rovExit(bw, st)
	}
	fmt.Fprintf(bw, "%s %s AS%d\n", st, p, asn)
	for _, v := range covering {
		why := "matches"
		switch {
		case matches(v):
		case v.ASN == 0:
			why = "AS0 ROA (RFC 6483): never matches"
		case v.ASN != asn:
			why = "origin mismatch"
		default:
			why = fmt.Sprintf("prefix longer than maxLength %d", v.MaxLength)
		}
		fmt.Fprintf(bw, "  ROA %s: %s\n", v, why)
	}
	return rovExit(bw, st)
}

func rovExit(w *bufio.Writer, st routing.ROVState) error {
	if err := w.Flush(); err != nil {
		return WithCode(ExitUsage, fmt.Errorf("rpki validate: write: %w", err))
	}
	switch st {
	case routing.Invalid:
		return WithCode(ExitROVInvalid, ErrQuiet)
	case routing.NotFound:
		return WithCode(ExitROVNotFound, ErrQuiet)
	}
	return nil
}

// WriteStats writes the counts of VRPs per trust anchor and of ASPAs.
func WriteStats(w io.Writer, t *rpki.Table) error {
	bw := bufio.NewWriter(w)
	md := t.Metadata()
	n4, n6 := t.Len()
	fmt.Fprintf(bw, "source %s\nformat %s\n", md.Source, md.Format)
	if !md.BuildTime.IsZero() {
		fmt.Fprintf(bw, "buildtime %s\n", md.BuildTime.UTC().Format("2006-01-02T15:04:05Z"))
	}
	fmt.Fprintf(bw, "vrps %d\nvrps-ipv4 %d\nvrps-ipv6 %d\naspas %d\nexpired-dropped %d\n", n4+n6, n4, n6, len(t.ASPAs()), md.Expired)
	byTA := t.CountByTA()
	tas := make([]string, 0, len(byTA))
	for ta := range byTA {
		tas = append(tas, ta)
	}
	slices.Sort(tas)
	for _, ta := range tas {
		fmt.Fprintf(bw, "ta %s %d\n", ta, byTA[ta])
	}
	return bw.Flush()
}

// WriteDump writes the VRPs and ASPAs as JSON (rpki-client layout) or the VRPs as CSV.
func WriteDump(w io.Writer, t *rpki.Table, format string) error {
	if format == "json" {
		return t.WriteJSON(w)
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	bw.WriteString("ASN,IP Prefix,Max Length,Trust Anchor\n")
	for _, v := range t.VRPs() {
		fmt.Fprintf(bw, "AS%d,%s,%d,%s\n", v.ASN, v.Prefix, v.MaxLength, v.TA)
	}
	return bw.Flush()
}

// ASPAJob renders ASPA data: a BIRD aspa table, or the AS-path filter of a customer
// cone (ASNs, and AS-SETs expanded through the IRR data).
type ASPAJob struct {
	Format, Name string
	Cone         []string
	AFI          int
	IRR          IRRSpec
	RPKI         RPKISpec
	Output       Output
}

// Run renders and writes the ASPA data; the error carries the exit code.
func (j *ASPAJob) Run(ctx context.Context) error {
	formats := render.ASPAFormats()
	switch {
	case j.Format == "":
		return WithCode(ExitUsage, errors.New("rpki aspa: --format is required"))
	case !slices.Contains(formats, j.Format):
		return WithCode(ExitUsage, fmt.Errorf("rpki aspa: unknown --format %q", j.Format))
	}
	name := j.Name
	if name == "" {
		name = "ASPA"
		if j.Format == "bird" {
			name = "aspa"
		}
	} else if err := render.ValidateName(j.Format, name); err != nil {
		return WithCode(ExitUsage, fmt.Errorf("rpki aspa: --name: %w", err))
	}
	if render.ASPANeedsCone(j.Format) && len(j.Cone) == 0 {
		return WithCode(ExitUsage, fmt.Errorf("rpki aspa: --format %s needs the customer cone (ASNs or AS-SETs)", j.Format))
	}
	r, err := render.New(j.Format, render.Options{})
	if err != nil {
		return WithCode(ExitUsage, fmt.Errorf("rpki aspa: %w", err))
	}
	cone, err := j.expandCone(ctx)
	if err != nil {
		return err
	}
	t, err := RequireRPKI(ctx, j.RPKI)
	if err != nil {
		return err
	}
	out, err := r.ASPA(t, render.ASPAOptions{Name: name, Cone: cone, AFI: j.AFI})
	if err != nil {
		return WithCode(ExitCode(err, ExitData), fmt.Errorf("rpki aspa: %w", err))
	}
	return j.Output.Write("rpki aspa", out)
}

// expandCone turns the cone's words into ASNs: plain ASNs directly, anything else
// (AS-SETs) through the IRR data.
func (j *ASPAJob) expandCone(ctx context.Context) ([]routing.ASN, error) {
	var cone []routing.ASN
	var sets []string
	for _, a := range j.Cone {
		if n, err := routing.ParseASNumber(a); err == nil {
			cone = append(cone, n)
			continue
		}
		sets = append(sets, a)
	}
	if len(sets) == 0 {
		return cone, nil
	}
	src, err := OpenIRR(ctx, j.IRR)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	exp, err := src.Resolver(j.IRR).Expand(ctx, sets...)
	if err != nil {
		return nil, WithCode(ExitCode(err, ExitData), fmt.Errorf("rpki aspa: expand %s: %w", strings.Join(sets, ","), err))
	}
	return append(cone, exp.ASNs...), nil
}
