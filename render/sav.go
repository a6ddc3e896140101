package render

import (
	"fmt"
	"net/netip"
	"strings"
	"text/template"

	"github.com/bgpfilter/bgpfilter/templates"
)

// SAV modes (issue 10), as package config spells them.
const (
	SAVStrict = "strict"
	SAVLoose  = "loose"
	SAVACL    = "acl"
)

// SAVTargets are the source-address-validation outputs: Junos and IOS-XR routers, and
// nftables for Linux hosts (FRR, BIRD).
var SAVTargets = []string{"junos", "iosxr", "nftables"}

// SAVInput is one customer's source address validation: who, how, which sources it
// may use and where the check goes.
type SAVInput struct {
	// Name is the customer; the filters are NAME_SAV_V4 and NAME_SAV_V6.
	Name string
	// Mode is SAVStrict, SAVLoose or SAVACL.
	Mode string
	// Sources are the permitted source prefixes, both families, no prefix inside
	// another (pipeline.CoverPrefixes): every more-specific is permitted.
	Sources []netip.Prefix
	// Interfaces are the customer-facing interfaces, in config order.
	Interfaces []SAVInterface
}

// SAVInterface is one interface the check is applied on.
type SAVInterface struct {
	Device, Name string
}

// SAVData is what the sav.tmpl templates execute on.
type SAVData struct {
	Name, Mode    string
	Strict, Loose bool
	// Filter4 and Filter6 are the filter, ACL or set names (validated).
	Filter4, Filter6 string
	// Table is the nftables table (bgpfilter_sav_NAME).
	Table      string
	V4, V6     []string
	Interfaces []SAVIfData
}

// SAVIfData is one interface: Name as configured, and for Junos the physical
// interface and unit ("xe-0/0/1.100" is xe-0/0/1 unit 100; no unit means 0).
type SAVIfData struct {
	Device, Name, Phys, Unit string
}

// savNameRules are the identifier rules per SAV target (nftables: identifiers of the
// nft language, kept to letters, digits and '_').
var savNameRules = map[string]nameRule{
	"junos":    nameRules["junos"],
	"iosxr":    nameRules["iosxr"],
	"nftables": {extra: "_", maxLen: 64, firstLetter: true},
}

// RenderSAV renders in for one of SAVTargets from templates/<target>/sav.tmpl. Every
// name is validated first; an interface whose name the target's syntax cannot carry
// (a Junos unit on a Linux host) is left out with a warning, as it belongs to a device
// of another vendor.
func RenderSAV(target string, in SAVInput) (*PolicyOutput, error) {
	rule, ok := savNameRules[target]
	if !ok {
		return nil, fmt.Errorf("render: unknown SAV target %q (one of %s)", target, strings.Join(SAVTargets, ", "))
	}
	d := &SAVData{Name: in.Name, Mode: in.Mode, Strict: in.Mode == SAVStrict, Loose: in.Mode == SAVLoose,
		Filter4: in.Name + "_SAV_V4", Filter6: in.Name + "_SAV_V6", Table: "bgpfilter_sav_" + in.Name}
	switch in.Mode {
	case SAVStrict, SAVLoose, SAVACL:
	default:
		return nil, fmt.Errorf("render: customer %s: unknown SAV mode %q", in.Name, in.Mode)
	}
	for _, n := range []string{d.Filter4, d.Filter6, d.Table} {
		if err := rule.check(n); err != nil {
			return nil, fmt.Errorf("render: %s SAV name %q: %w: %v", target, n, ErrInvalidName, err)
		}
	}
	for _, p := range in.Sources {
		if !p.IsValid() {
			return nil, fmt.Errorf("render: customer %s: invalid source prefix", in.Name)
		}
		if p.Addr().Is4() {
			d.V4 = append(d.V4, p.Masked().String())
		} else {
			d.V6 = append(d.V6, p.Masked().String())
		}
	}
	var warns []string
	for _, it := range in.Interfaces {
		id, err := savInterface(target, it)
		if err != nil {
			// The config does not say which vendor a device runs: an interface the
			// target cannot name is on another kind of device.
			warns = append(warns, fmt.Sprintf("%s SAV: interface %s skipped: %v", target, it.Name, err))
			continue
		}
		d.Interfaces = append(d.Interfaces, id)
	}
	t, err := template.New("sav.tmpl").Funcs(funcMap()).Option("missingkey=error").ParseFS(templates.FS, target+"/sav.tmpl")
	if err != nil {
		return nil, fmt.Errorf("render: built-in SAV template for %s: %w", target, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("render: %s SAV for %s: %w", target, in.Name, err)
	}
	return &PolicyOutput{Text: []byte(b.String()), Warnings: warns}, nil
}

// savInterface checks an interface name against the target's syntax (config allows
// letters, digits and -_./: for every vendor).
func savInterface(target string, it SAVInterface) (SAVIfData, error) {
	id := SAVIfData{Device: it.Device, Name: it.Name, Phys: it.Name, Unit: "0"}
	bad := func(why string) (SAVIfData, error) {
		return id, fmt.Errorf("%s interface %q: %w: %s", target, it.Name, ErrInvalidName, why)
	}
	if it.Name == "" {
		return bad("empty")
	}
	for i := 0; i < len(it.Device); i++ {
		if c := it.Device[i]; !isAlnum(c) && strings.IndexByte("-_./:", c) < 0 {
			return bad("device name " + fmt.Sprintf("%q", it.Device))
		}
	}
	switch target {
	case "junos":
		if i := strings.LastIndexByte(it.Name, '.'); i >= 0 {
			id.Phys, id.Unit = it.Name[:i], it.Name[i+1:]
			if id.Unit == "" || len(id.Unit) > 10 || strings.Trim(id.Unit, "0123456789") != "" {
				return bad("the unit after '.' must be a number")
			}
		}
		if strings.ContainsAny(id.Phys, ":") || id.Phys == "" {
			return bad("not a Junos interface")
		}
	case "iosxr":
		if strings.ContainsAny(it.Name, ":") {
			return bad("not an IOS-XR interface")
		}
	case "nftables":
		// Linux interface names: at most 15 bytes (IFNAMSIZ-1), no '/' or ':'.
		if len(it.Name) > 15 || strings.ContainsAny(it.Name, "/:") {
			return bad("not a Linux interface name (at most 15 characters, no '/' or ':')")
		}
	}
	return id, nil
}
