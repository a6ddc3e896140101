package render

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/policy"
)

// The structural checks of the Junos and IOS-XR session policies (no parser of
// either is available): balanced blocks, every referenced object defined, every
// defined name valid for the vendor, every rule named in a comment.

var (
	junosDef = regexp.MustCompile(`(?m)^\s*(route-filter-list|as-path-group|policy-statement) (\S+) \{$|^\s*as-path (\S+) "[^"]*";$`)
	junosRef = regexp.MustCompile(`(?m)^\s*(?:from )?(route-filter-list|as-path-group|as-path) (\S+);$|^\s*(?:import|export) (\S+);$`)
)

// checkJunos returns the structural problems of a Junos config.
func checkJunos(text string) []string {
	var errs []string
	depth := 0
	for n, line := range strings.Split(text, "\n") {
		l := line
		if i := strings.Index(l, "/*"); i >= 0 {
			if j := strings.Index(l, "*/"); j < i {
				errs = append(errs, fmt.Sprintf("line %d: unterminated comment", n+1))
			}
			l = l[:i]
		}
		if strings.Count(l, `"`)%2 != 0 {
			errs = append(errs, fmt.Sprintf("line %d: unbalanced quotes", n+1))
		}
		unq := regexp.MustCompile(`"[^"]*"`).ReplaceAllString(l, "")
		depth += strings.Count(unq, "{") - strings.Count(unq, "}")
		if depth < 0 {
			errs = append(errs, fmt.Sprintf("line %d: '}' without '{'", n+1))
			depth = 0
		}
		if t := strings.TrimSpace(unq); t != "" && t != "replace:" && !strings.HasSuffix(t, "{") && !strings.HasSuffix(t, "}") && !strings.HasSuffix(t, ";") {
			errs = append(errs, fmt.Sprintf("line %d: statement without ';': %q", n+1, t))
		}
	}
	if depth != 0 {
		errs = append(errs, fmt.Sprintf("%d unclosed '{'", depth))
	}
	defined := map[string]string{}
	for _, m := range junosDef.FindAllStringSubmatch(text, -1) {
		kind, name := m[1], m[2]
		if m[3] != "" {
			kind, name = "as-path", m[3]
		}
		if err := ValidateName("junos", name); err != nil && !regexp.MustCompile(`^a[0-9]+$`).MatchString(name) {
			errs = append(errs, err.Error())
		}
		if _, dup := defined[kind+" "+name]; dup && kind != "as-path" {
			errs = append(errs, "defined twice: "+kind+" "+name)
		}
		defined[kind+" "+name] = kind
	}
	for _, m := range junosRef.FindAllStringSubmatch(text, -1) {
		want := m[1] + " " + m[2]
		if m[3] != "" {
			want = "policy-statement " + m[3]
		}
		if _, ok := defined[want]; !ok {
			errs = append(errs, "referenced but not defined: "+want)
		}
	}
	return errs
}

var (
	xrBlockStart = regexp.MustCompile(`^(prefix-set|as-path-set|route-policy) (\S+)$`)
	xrSetRef     = regexp.MustCompile(`\b(?:destination|as-path) in ([A-Za-z][A-Za-z0-9_-]*)`)
	xrPolicyRef  = regexp.MustCompile(`^\s+route-policy (\S+) (?:in|out)$`)
)

// checkIOSXR returns the structural problems of an IOS-XR config.
func checkIOSXR(text string) []string {
	var errs []string
	defined := map[string]string{}
	var refs [][2]string
	block, name, ifs := "", "", 0
	var elems []string
	for n, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "!") {
			continue
		}
		if m := xrBlockStart.FindStringSubmatch(line); m != nil {
			if block != "" {
				errs = append(errs, fmt.Sprintf("line %d: %s inside %s %s", n+1, m[1], block, name))
			}
			block, name, ifs, elems = m[1], m[2], 0, nil
			if err := ValidateName("iosxr", name); err != nil {
				errs = append(errs, err.Error())
			}
			kind := "set"
			if block == "route-policy" {
				kind = "policy"
			}
			if _, dup := defined[name]; dup {
				errs = append(errs, "defined twice: "+name)
			}
			defined[name] = kind
			continue
		}
		switch {
		case t == "end-set":
			if block != "prefix-set" && block != "as-path-set" {
				errs = append(errs, fmt.Sprintf("line %d: end-set outside a set", n+1))
			}
			for i, e := range elems {
				if last := i == len(elems)-1; last == strings.HasSuffix(e, ",") {
					errs = append(errs, fmt.Sprintf("set %s: element %q: commas must separate the elements", name, e))
				}
			}
			block = ""
		case t == "end-policy":
			if block != "route-policy" || ifs != 0 {
				errs = append(errs, fmt.Sprintf("line %d: end-policy with %d open if (block %q)", n+1, ifs, block))
			}
			block = ""
		case block == "prefix-set" || block == "as-path-set":
			elems = append(elems, t)
		case block == "route-policy":
			if strings.HasPrefix(t, "if ") {
				if !strings.HasSuffix(t, " then") {
					errs = append(errs, fmt.Sprintf("line %d: if without then", n+1))
				}
				ifs++
			} else if strings.HasPrefix(t, "elseif ") || t == "else" {
				// origin binding's chain: only inside an open if
				if ifs == 0 || (t != "else" && !strings.HasSuffix(t, " then")) {
					errs = append(errs, fmt.Sprintf("line %d: %q outside an if or without then", n+1, t))
				}
			} else if t == "endif" {
				ifs--
			} else if t != "drop" && t != "done" && t != "pass" {
				errs = append(errs, fmt.Sprintf("line %d: unexpected statement %q", n+1, t))
			}
			for _, m := range xrSetRef.FindAllStringSubmatch(t, -1) {
				refs = append(refs, [2]string{"set", m[1]})
			}
		default:
			if m := xrPolicyRef.FindStringSubmatch(line); m != nil {
				refs = append(refs, [2]string{"policy", m[1]})
			}
		}
	}
	if block != "" {
		errs = append(errs, "unterminated "+block+" "+name)
	}
	for _, r := range refs {
		if defined[r[1]] != r[0] {
			errs = append(errs, fmt.Sprintf("referenced but not defined: %s %s", r[0], r[1]))
		}
	}
	return errs
}

// TestPolicyStructure runs the structural checks on the Junos and IOS-XR policies of
// every example customer loaded with the shared export file (every object referenced
// is defined in one of the two, none in both), requires every rule to be named in a
// comment, and proves the checks can fail on broken variants, the customer's file
// without the shared one among them.
func TestPolicyStructure(t *testing.T) {
	docs, _ := exampleDocs(t, noOriginBinding)
	checks := map[string]func(string) []string{"junos": checkJunos, "iosxr": checkIOSXR}
	for vendor, check := range checks {
		shared := exportText(t, vendor, docs)
		for _, e := range check(shared) {
			t.Errorf("%s shared export file: %s", vendor, e)
		}
		for name, ds := range docs {
			out, err := RenderPolicy(vendor, ds, Options{})
			if err != nil {
				t.Fatal(err)
			}
			text := string(out.Text)
			for _, e := range check(shared + text) {
				t.Errorf("%s %s: %s", vendor, name, e)
			}
			if errs := strings.Join(check(text), "\n"); !strings.Contains(errs, "not defined") || !strings.Contains(errs, policy.ExportSetName(6)) {
				t.Errorf("%s %s: without the shared export file the check finds no undefined %s: %q", vendor, name, policy.ExportSetName(6), errs)
			}
			if errs := check(shared + text + shared); len(errs) == 0 {
				t.Errorf("%s %s: the shared sets twice pass the check", vendor, name)
			}
			for _, r := range policy.ImportRules() {
				if !strings.Contains(text, " "+string(r)+": ") {
					t.Errorf("%s %s: rule %s not named in a comment", vendor, name, r)
				}
			}
		}
	}
	broken := map[string][]string{
		"junos": {
			"policy-options {\n policy-statement X {\n  then reject;\n }\n",              // unclosed brace
			"policy-options {\n policy-statement X {\n  from as-path NOPE;\n }\n}\n",     // undefined as-path
			"policy-options {\n as-path X \".* 1 .*;\n}\n",                               // quote
			"protocols {\n bgp {\n  group g {\n   import MISSING;\n  }\n }\n}\n",         // undefined policy
			"policy-options {\n replace:\n policy-statement X {\n  then reject\n }\n}\n", // no ';'
		},
		"iosxr": {
			"prefix-set A\n  192.0.2.0/24\nroute-policy B\n  done\nend-policy\n",                                      // missing end-set
			"route-policy B\n  if destination in NOPE then\n    drop\n  endif\n  done\nend-policy\n",                  // undefined set
			"route-policy B\n  if as-path length ge 3 then\n    drop\n  done\nend-policy\n",                           // missing endif
			"prefix-set A\n  192.0.2.0/24\n  198.51.100.0/24\nend-set\n",                                              // missing comma
			"router bgp 1\n neighbor 192.0.2.1\n  address-family ipv4 unicast\n   route-policy NOPE in\n  !\n !\n!\n", // undefined policy
			"route-policy B\n  elseif destination in (192.0.2.0/24) then\n    pass\n  endif\nend-policy\n",            // elseif without if
		},
	}
	for vendor, cases := range broken {
		for _, c := range cases {
			if len(checks[vendor](c)) == 0 {
				t.Errorf("%s check accepts a broken config:\n%s", vendor, c)
			}
		}
	}
}

// TestRangesRegex checks the ASN range alternations (the FRR and IOS-XR bogon and
// peerlock lists) against plain arithmetic on every number around the bounds and a
// sweep of each range.
func TestRangesRegex(t *testing.T) {
	ranges := [][2]uint32{{0, 0}, {23456, 23456}, {64512, 65534}, {65535, 65535}, {65552, 131071},
		{4200000000, 4294967294}, {4294967295, 4294967295}, {1, 9}, {5, 123}, {99, 1000}, {174, 174}, {10, 19}, {100, 199}}
	for _, r := range ranges {
		re, _ := rangesRegex([]rangeView{{From: r[0], To: r[1], Single: r[0] == r[1]}})
		m := regexp.MustCompile("^" + re + "$")
		var probes []uint64
		for _, b := range []uint64{uint64(r[0]), uint64(r[1])} {
			for d := uint64(0); d < 12; d++ {
				probes = append(probes, b+d, b-d)
			}
		}
		for x := uint64(r[0]); x <= uint64(r[1]); x += max(1, (uint64(r[1])-uint64(r[0]))/997) {
			probes = append(probes, x)
		}
		for _, x := range probes {
			if x > 1<<32-1 {
				continue
			}
			want := x >= uint64(r[0]) && x <= uint64(r[1])
			if got := m.MatchString(fmt.Sprint(x)); got != want {
				t.Errorf("range %d-%d: %d matched %v, want %v (%s)", r[0], r[1], x, got, want, re)
			}
		}
		if m.MatchString("0" + fmt.Sprint(r[0])) {
			t.Errorf("range %d-%d: leading zero matched", r[0], r[1])
		}
	}
}
