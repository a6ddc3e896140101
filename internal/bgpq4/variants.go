package bgpq4

import "sync"

// Variant is one bgpq4 flag set this package supports, for differential tests that
// iterate formats × generations × modifiers.
type Variant struct {
	// Name identifies the variant in test names, e.g. "junos-rfl-A".
	Name string
	// Args are bgpq4 flags; objects are appended by the caller.
	Args []string
	// ASPath is true for as-path/as-list/as-set generation (-f/-G/-H/-t), which needs
	// ASNs rather than prefixes and no -6.
	ASPath bool
	// V6OK is false when bgpq4 refuses the variant with -6 (Cisco extended ACLs).
	V6OK bool
	// Differs19 names the bgpq4 1.9 → 1.16 output change affecting the variant, if any
	// (reference §9.1); a differential test against the Debian 1.9 binary must
	// normalise it or skip the variant.
	Differs19 string
}

// Variants lists the supported flag sets: every vendor's prefix-list, with -A, -R/-r,
// -m, -s, -l; the -E and -z generations; and the as-path (-f, -G), as-list (-H) and
// as-set (-t) generations. Only tests iterate it, so the list (about 300 allocations) is
// built on first call rather than at every start of the binary.
var Variants = sync.OnceValue(func() []Variant {
	var out []Variant
	prefixVendors := []struct {
		name, differs string
		args          []string
		ranges        bool // accepts -A/-R/-r
	}{
		{"ios", "", nil, true},
		{"ios-seq", "", []string{"-s"}, true},
		{"junos", "", []string{"-J"}, false},
		{"junos-rfl", "", []string{"-J", "-z"}, true},
		{"junos-rf", "", []string{"-J", "-E"}, true},
		{"junos-rf-term", "", []string{"-J", "-E", "-l", "POLICY/TERM", "-M", "community blackhole"}, true},
		{"iosxr", "", []string{"-X"}, true},
		{"bird", "", []string{"-b"}, true},
		{"json", "", []string{"-j"}, true},
		{"openbgpd", "", []string{"-B"}, true},
		{"openbgpd-a", "", []string{"-B", "-a", "64500"}, true},
		{"openbgpd-set", "", []string{"-B", "-E"}, true},
		{"eos", "EOS indentation: 1.9 prints 4 spaces before seq, 1.16 3 (PR #124)", []string{"-e"}, true},
		{"huawei", "", []string{"-U"}, true},
		{"huawei-xpl", "", []string{"-u"}, true},
		{"routeros6", "", []string{"-K"}, true},
		{"routeros7", "MikroTik v7: 1.16 prints one space before rule= and dst== (1.12, PR #115)", []string{"-K7"}, true},
		{"sros", "", []string{"-N"}, true},
		{"sros-ipfilter", "", []string{"-N", "-E"}, false},
		{"sros-mdcli", "", []string{"-n"}, true},
		{"sros-mdcli-ipfilter", "", []string{"-n", "-E"}, false},
		{"srlinux", "-n2 does not exist in 1.9", []string{"-n2"}, true},
		{"format", "", []string{"-F", "%n/%l %a-%A %N %m %i\\n"}, true},
	}
	for _, v := range prefixVendors {
		out = append(out, Variant{Name: v.name, Args: v.args, V6OK: true, Differs19: v.differs})
		if v.ranges {
			out = append(out,
				Variant{Name: v.name + "-A", Args: append(clone(v.args), "-A"), V6OK: true, Differs19: v.differs},
				Variant{Name: v.name + "-R", Args: append(clone(v.args), "-R", "24"), Differs19: v.differs},
				Variant{Name: v.name + "-A-r-R", Args: append(clone(v.args), "-A", "-r", "17", "-R", "24"), Differs19: v.differs},
				Variant{Name: v.name + "-m", Args: append(clone(v.args), "-m", "24"), Differs19: v.differs},
			)
		}
	}
	out = append(out,
		Variant{Name: "ios-acl", Args: []string{"-E"}},
		Variant{Name: "ios-acl-A", Args: []string{"-E", "-A"}},
		Variant{Name: "name", Args: []string{"-l", "CUSTOMER-IN"}, V6OK: true},
	)
	asPath := []struct {
		name, differs string
		args          []string
	}{
		{"ios-f", "", []string{"-f", "64500"}},
		{"ios-G", "", []string{"-G", "64500"}},
		{"ios-f-W2", "", []string{"-f", "64500", "-W", "2"}},
		{"junos-f", "", []string{"-J", "-f", "64500"}},
		{"junos-G", "", []string{"-J", "-G", "64500"}},
		{"junos-H", "1.16 drops AS0 from as-lists (#117)", []string{"-J", "-H", "64500"}},
		{"iosxr-f", "1.9 prints a stray comma when the peer ASN is not a member (fixed 1.13)", []string{"-X", "-f", "64500"}},
		{"iosxr-G", "", []string{"-X", "-G", "64500"}},
		{"bird-f", "", []string{"-b", "-f", "64500"}},
		{"bird-t", "", []string{"-b", "-t"}},
		{"json-f", "", []string{"-j", "-f", "64500"}},
		{"json-t", "", []string{"-j", "-t"}},
		{"openbgpd-f", "", []string{"-B", "-f", "64500"}},
		{"openbgpd-G", "", []string{"-B", "-G", "64500"}},
		{"openbgpd-t", "", []string{"-B", "-t"}},
		{"huawei-f", "", []string{"-U", "-f", "64500"}},
		{"huawei-G", "", []string{"-U", "-G", "64500"}},
		{"huawei-xpl-f", "", []string{"-u", "-f", "64500"}},
		{"huawei-xpl-G", "", []string{"-u", "-G", "64500"}},
		{"sros-f", "", []string{"-N", "-f", "64500"}},
		{"sros-G", "", []string{"-N", "-G", "64500"}},
		{"sros-mdcli-f", "", []string{"-n", "-f", "64500"}},
		{"sros-mdcli-G", "", []string{"-n", "-G", "64500"}},
	}
	for _, v := range asPath {
		out = append(out, Variant{Name: v.name, Args: v.args, ASPath: true, Differs19: v.differs})
	}
	return out
})

func clone(s []string) []string { return append([]string(nil), s...) }
