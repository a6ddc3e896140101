package bgpq4

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is the bgpq4 release whose behaviour this package follows.
const Version = "1.16"

type vendor int

// Vendor numbers follow bgpq4's enum; they appear in "Unknown vendor N" messages.
const (
	vCisco vendor = iota
	vJuniper
	vCiscoXR
	vJSON
	vBIRD
	vOpenBGPD
	vFormat
	vNokia
	vHuawei
	vHuaweiXPL
	vMikrotik6
	vMikrotik7
	vNokiaMD
	vNokiaSRL
	vArista
)

type generation int

const (
	tNone generation = iota
	tASPath
	tOASPath
	tASList
	tASSet
	tPrefixList
	tEACL
	tRouteFilterList
)

// config is the parsed command line (bgpq4's struct bgpq_expander settings).
type config struct {
	v6        bool
	selected4 bool
	vendor    vendor
	gen       generation
	asnumber  uint32
	aggregate bool
	aggTrace  bool // -AA: aggregation debug lines on stdout
	refine    int
	refineLow int
	maxlen    int // as bgpq4 keeps it: 0 when -m equals the family maximum
	name      string
	maxdepth  int
	match     *string
	format    string
	sources   string
	host      string
	hostSet   bool
	sequence  bool
	width     int
	widthSet  bool
	validate  bool
	special   bool
	usesource bool
	objects   []string
}

// exit is a terminating condition: the text goes to stderr (or stdout for usage and
// version) and code is the process exit status.
type exit struct {
	code   int
	stderr string
	stdout string
}

// Error returns the message part of e.
func (e *exit) Error() string { return strings.TrimSpace(e.stderr + e.stdout) }

// badListName says what makes name unfit to be printed into a configuration (control
// characters, whitespace, quotes, backslashes, braces or ';'), or "" when it is fit.
func badListName(name string) string {
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return "control character"
		case r == ' ' || r == '\u00a0' || r == '\u2028' || r == '\u2029':
			return "whitespace"
		case r == '"' || r == '\'' || r == '`':
			return "quote"
		case r == '\\' || r == ';' || r == '{' || r == '}':
			return "character " + strconv.QuoteRune(r)
		}
	}
	return ""
}

func fatal(format string, a ...any) *exit {
	return &exit{code: 255, stderr: "FATAL ERROR:" + fmt.Sprintf(format, a...)}
}

func usage(prefix string) *exit {
	return &exit{code: 1, stderr: prefix, stdout: usageText}
}

// usageText is bgpq4 1.16's usage() text (main.c; TestUsageAgainstBGPQ4 checks it against
// the installed bgpq4's with the 1.9 → 1.16 changes applied).
const usageText = `
Usage: bgpq4 [-h host[:port]] [-S sources] [-E|G|H <num>|f <num>|t] [-46ABbdJjKNnpwXz] [-R len] <OBJECTS> ... [EXCEPT <OBJECTS> ...]

Vendor targets:
 no option : Cisco IOS Classic (default)
 -X        : Cisco IOS XR
 -U        : Huawei
 -u        : Huawei XPL
 -j        : JSON
 -J        : Juniper Junos
 -K        : MikroTik RouterOSv6
 -K7       : MikroTik RouterOSv7
 -b        : NIC.CZ BIRD
 -N        : Nokia SR OS (Classic CLI)
 -n        : Nokia SR OS (MD-CLI)
 -n2       : Nokia SR Linux
 -B        : OpenBSD OpenBGPD
 -e        : Arista EOS
 -F fmt    : User defined format (example: '-F %n/%l')

Input filters:
 -4        : generate IPv4 prefix-lists (default)
 -6        : generate IPv6 prefix-lists
 -m len    : maximum prefix length (default: 32 for IPv4, 128 for IPv6)
 -L depth  : limit recursion depth (default: unlimited)
 -S sources: only use specified IRR sources, in the specified order (comma separated)
 -w        : 'validate' AS numbers: only accept ones with registered routes

Output modifiers:
 -3        : assume that your device is asn32-safe (default)
 -A        : try to aggregate prefix-lists/route-filters
 -E        : generate extended access-list (Cisco), route-filter (Juniper)
             [ip|ipv6]-prefix-list (Nokia) or prefix-set (OpenBGPD)
 -f number : generate input as-path access-list
 -G number : generate output as-path access-list
 -H number : generate origin as-lists (JunOS only)
 -M match  : extra match conditions for JunOS route-filters
 -l name   : use specified name for generated access/prefix/.. list
 -p        : allow special ASNs like 23456 or in the private range
 -R len    : allow more specific routes up to specified masklen
 -r len    : allow more specific routes from masklen specified
 -s        : generate sequence numbers in prefix-lists (IOS only)
 -t        : generate as-sets for OpenBGPD (OpenBGPD 6.4+), BIRD and JSON formats
 -z        : generate route-filter-list (Junos only)
 -W len    : specify max-entries on as-path/as-list line (use 0 for infinity)

Utility operations:
 -d        : generate some debugging output
 -h host   : host running IRRD software (default: rr.ntt.net)
             use 'host:port' to specify alternate port
 -T        : disable pipelining (not recommended)
 -v        : print version and exit

bgpq4 version: ` + Version + ` (https://github.com/bgp/bgpq4)
`

const versionText = "bgpq4 - a versatile utility to generate BGP filters\nversion: " + Version +
	"\nwebsite: https://github.com/bgp/bgpq4\nmaintainer: Job Snijders <job@sobornost.net>\n"

const exclusiveMsg = "-E, -F, -K , -f <asnum>, -G <asnum>, and -t are mutually exclusive\n"

const vendorExclusiveMsg = "-b (BIRD), -B (OpenBGPD), -F (formatted), -J (Junos), -j (JSON), " +
	"-K[7] (Microtik ROS), -N (Nokia SR OS Classic), -n (Nokia SR OS MD-CLI), -U (Huawei), " +
	"-u (Huawei XPL),-e (Arista) and -X (IOS XR) options are mutually exclusive\n"

// optString is bgpq4 1.16's getopt string.
const optString = "23467a:AbBdDEeF:S:jJKf:l:L:m:M:NnpW:r:R:G:H:tTh:UuwXsvz"

// takesArg reports whether c is an option and whether it needs an argument.
func takesArg(c byte) (known, arg bool) {
	if c == ':' {
		return false, false
	}
	i := strings.IndexByte(optString, c)
	if i < 0 {
		return false, false
	}
	return true, i+1 < len(optString) && optString[i+1] == ':'
}

// strtoul mimics C strtoul(s, NULL, 10) for the values bgpq4 reads: leading space and
// sign, then digits; anything else stops the scan. Overflow saturates.
func strtoul(s string) (uint64, string) {
	i, neg := skipSpaceSign(s)
	start := i
	var v uint64
	over := false
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		d := uint64(s[i] - '0')
		if v > (^uint64(0)-d)/10 {
			over = true
		}
		v = v*10 + d
		i++
	}
	if i == start {
		return 0, s
	}
	if over {
		v = ^uint64(0)
	}
	if neg {
		v = -v
	}
	return v, s[i:]
}

// atoi mimics C atoi on an int.
func atoi(s string) int {
	v, _ := strtoul(s)
	return int(int32(v))
}

// parseASNumber is bgpq4's parseasnumber for -a/-f/-G/-H (asplain or asdot).
func parseASNumber(s string) (uint32, *exit) {
	v, rest := strtoul(s)
	if v < 1 || v > 65535*65535 {
		return 0, fatal("Invalid AS number: %s\n", s)
	}
	if strings.HasPrefix(rest, ".") {
		lo, r2 := strtoul(rest[1:])
		if v > 65535 || lo < 1 || lo > 65535 {
			return 0, fatal("Invalid AS number: %s\n", s)
		}
		if r2 != "" {
			return 0, fatal("Invalid symbol in AS number: %c (%s)\n", r2[0], s)
		}
		return uint32(v<<16 + lo), nil
	}
	if rest != "" {
		return 0, fatal("Invalid symbol in AS number: %c (%s)\n", rest[0], s)
	}
	return uint32(v), nil
}

func getenv(env []string, name string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// parseArgs parses bgpq4's command line (args without the program name) with GNU getopt
// semantics: clustered short options, option arguments attached or separate, options
// after operands (unless POSIXLY_CORRECT is set), "--" ending the options.
func parseArgs(args, env []string) (*config, *exit) {
	c := &config{name: "NN", width: 8, host: "rr.ntt.net:43"}
	if v, ok := getenv(env, "IRRD_SOURCES"); ok {
		c.sources = v
	}
	_, posix := getenv(env, "POSIXLY_CORRECT")
	var operands []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			operands = append(operands, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			if posix {
				operands = append(operands, args[i:]...)
				break
			}
			operands = append(operands, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			ch := a[j]
			known, needArg := takesArg(ch)
			if !known {
				return nil, usage(fmt.Sprintf("bgpq4: invalid option -- '%c'\n", ch))
			}
			optarg := ""
			if needArg {
				switch {
				case j+1 < len(a):
					optarg = a[j+1:]
				case i+1 < len(args):
					i++
					optarg = args[i]
				default:
					return nil, usage(fmt.Sprintf("bgpq4: option requires an argument -- '%c'\n", ch))
				}
			}
			if e := c.option(ch, optarg); e != nil {
				return nil, e
			}
			if needArg {
				break
			}
		}
	}
	c.objects = operands
	return c, c.check()
}

// option applies one option in command-line order, as bgpq4's getopt loop does.
func (c *config) option(ch byte, optarg string) *exit {
	setVendor := func(v vendor) *exit {
		if c.vendor != vCisco {
			return &exit{code: 1, stderr: vendorExclusiveMsg}
		}
		c.vendor = v
		return nil
	}
	setGen := func(g generation) *exit {
		if c.gen != tNone {
			return &exit{code: 1, stderr: exclusiveMsg}
		}
		c.gen = g
		return nil
	}
	switch ch {
	case '2':
		if c.vendor != vNokiaMD {
			return fatal("'2' can only be used after -n\n")
		}
		c.vendor = vNokiaSRL
	case '3':
		// bgpq3 compatibility, no-op since 1.10
	case '4':
		if c.v6 {
			return fatal("-4 and -6 are mutually exclusive\n")
		}
		c.selected4 = true
	case '6':
		if c.selected4 {
			return fatal("-4 and -6 are mutually exclusive\n")
		}
		c.v6 = true
	case '7':
		if c.vendor != vMikrotik6 {
			return fatal("'7' can only be used after -K\n")
		}
		c.vendor = vMikrotik7
	case 'a':
		n, e := parseASNumber(optarg)
		if e != nil {
			return e
		}
		c.asnumber = n
	case 'A':
		c.aggTrace = c.aggregate
		c.aggregate = true
	case 'b':
		return setVendor(vBIRD)
	case 'B':
		return setVendor(vOpenBGPD)
	case 'd':
	case 'E':
		return setGen(tEACL)
	case 'e':
		if e := setVendor(vArista); e != nil {
			return e
		}
		c.sequence = true
	case 'F':
		if c.vendor != vCisco {
			return &exit{code: 1, stderr: exclusiveMsg}
		}
		c.vendor = vFormat
		c.format = optarg
	case 'f', 'G', 'H':
		g := map[byte]generation{'f': tASPath, 'G': tOASPath, 'H': tASList}[ch]
		if e := setGen(g); e != nil {
			return e
		}
		n, e := parseASNumber(optarg)
		if e != nil {
			return e
		}
		c.asnumber = n
	case 'h':
		c.host = optarg
		c.hostSet = true
	case 'J':
		return setVendor(vJuniper)
	case 'j':
		return setVendor(vJSON)
	case 'K':
		return setVendor(vMikrotik6)
	case 'r':
		v, _ := strtoul(optarg)
		if v == 0 {
			return fatal("Invalid refineLow value: %s\n", optarg)
		}
		c.refineLow = int(uint32(v))
	case 'R':
		v, _ := strtoul(optarg)
		if v == 0 {
			return fatal("Invalid refine length: %s\n", optarg)
		}
		c.refine = int(uint32(v))
	case 'l':
		// bgpq4 prints -l as given; scripts pass names from PeeringDB, so a name that
		// could end a statement or a line in the output is refused (a documented
		// difference from bgpq4).
		if bad := badListName(optarg); bad != "" {
			return fatal("Invalid list name (-l): %q: %s\n", optarg, bad)
		}
		c.name = optarg
	case 'L':
		v, _ := strtoul(optarg)
		if int64(v) < 1 || v > 1<<31 {
			return fatal("Invalid maximum recursion (-L): %s\n", optarg)
		}
		c.maxdepth = int(v)
	case 'm':
		v, _ := strtoul(optarg)
		if v == 0 {
			return fatal("Invalid maxlen (-m): %s\n", optarg)
		}
		if v > 1<<20 {
			v = 1 << 20
		}
		c.maxlen = int(v)
	case 'M':
		m, e := unescapeMatch(optarg)
		if e != nil {
			return e
		}
		c.match = &m
	case 'N':
		return setVendor(vNokia)
	case 'n':
		return setVendor(vNokiaMD)
	case 'p':
		c.special = true
	case 't':
		return setGen(tASSet)
	case 'T':
	case 's':
		c.sequence = true
	case 'S':
		c.sources = optarg
	case 'U', 'u':
		if c.vendor != vCisco {
			return &exit{code: 1, stderr: exclusiveMsg}
		}
		c.vendor = vHuawei
		if ch == 'u' {
			c.vendor = vHuaweiXPL
		}
	case 'W':
		w := atoi(optarg)
		if w < 0 {
			return fatal("Invalid as-width: %s\n", optarg)
		}
		c.width = w
		c.widthSet = true
	case 'w':
		c.validate = true
	case 'X':
		return setVendor(vCiscoXR)
	case 'v':
		return &exit{code: 0, stdout: versionText}
	case 'z':
		return setGen(tRouteFilterList)
	default: // 'D' is in the getopt string but unhandled
		return usage("")
	}
	return nil
}

// unescapeMatch handles -M's escapes as bgpq4 does: backslash followed by a newline
// character, "\r", "\t" and "\\". bgpq4 compares the character after the backslash
// with '\n' (a newline) rather than 'n', so the two characters "\n" are refused like any
// other escape (verified with bgpq4 1.9; the 1.16 source has the same test).
func unescapeMatch(s string) (string, *exit) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) {
			switch s[i+1] {
			case '\n':
				b.WriteByte('\n')
				i++
				continue
			case 'r':
				b.WriteByte('\r')
				i++
				continue
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		return "", fatal("Unsupported escape \\ (0x5c) in '%s'\n", s)
	}
	return b.String(), nil
}

func (c *config) afMax() int {
	if c.v6 {
		return 128
	}
	return 32
}

// check applies bgpq4's checks after option parsing, in bgpq4's order.
func (c *config) check() *exit {
	if !c.widthSet {
		switch c.gen {
		case tASPath:
			switch c.vendor {
			case vArista, vCisco, vMikrotik6, vMikrotik7:
				c.width = 4
			case vCiscoXR:
				c.width = 6
			case vJuniper, vNokia, vNokiaMD:
				c.width = 8
			case vBIRD:
				c.width = 10
			}
		case tOASPath:
			switch c.vendor {
			case vArista, vCisco:
				c.width = 5
			case vCiscoXR:
				c.width = 7
			case vJuniper, vNokia, vNokiaMD:
				c.width = 8
			}
		case tASList:
			if c.vendor == vJuniper {
				c.width = 8
			}
		}
	}
	if c.gen == tNone {
		c.gen = tPrefixList
	}
	g, v := c.gen, c.vendor
	if v == vCiscoXR && g != tPrefixList && g != tASPath && g != tOASPath {
		return fatal("Sorry, only prefix-sets and as-paths supported for IOS XR\n")
	}
	if v == vBIRD && g != tPrefixList && g != tASPath && g != tASSet {
		return fatal("Sorry, only prefix-lists and as-paths/as-sets supported for BIRD output\n")
	}
	if v == vJSON && g != tPrefixList && g != tASPath && g != tASSet {
		return fatal("Sorry, only prefix-lists and as-paths/as-sets supported for JSON output\n")
	}
	if v == vFormat && g != tPrefixList {
		return fatal("Sorry, only prefix-lists supported in formatted output\n")
	}
	if v == vHuawei && g != tASPath && g != tOASPath && g != tPrefixList {
		return fatal("Sorry, only as-paths and prefix-lists supported for Huawei output\n")
	}
	if g == tRouteFilterList && v != vJuniper {
		return fatal("Route-filter-lists (-z) supported for Juniper (-J) output only\n")
	}
	if g == tASSet && v != vJSON && v != vOpenBGPD && v != vBIRD {
		return fatal("As-Sets (-t) supported for JSON (-j), OpenBGPD (-B) and BIRD (-b) output only\n")
	}
	if c.aggregate && v == vJuniper && g == tPrefixList {
		return fatal("Sorry, aggregation (-A) does not work in Juniper prefix-lists\n" +
			"You can try route-filters (-E) or route-filter-lists (-z) instead of prefix-lists\n.")
	}
	nokia := v == vNokia || v == vNokiaMD
	if c.aggregate && nokia && g != tPrefixList {
		return fatal("Sorry, aggregation (-A) is not supported with ip-prefix-lists (-E) on Nokia.\n")
	}
	if c.refine != 0 && nokia && g != tPrefixList {
		return fatal("Sorry, more-specifics (-R) is not supported with ip-prefix-lists (-E) on Nokia.\n")
	}
	if c.refineLow != 0 && nokia && g != tPrefixList {
		return fatal("Sorry, more-specifics (-r) is not supported with ip-prefix-lists (-E) on Nokia.\n")
	}
	if c.aggregate && g < tPrefixList {
		return fatal("Sorry, aggregation (-A) used only for prefix-lists, extended access-lists and route-filters\n")
	}
	if c.sequence && v != vCisco && v != vArista {
		return fatal("Sorry, prefix-lists sequencing (-s) supported only for IOS and EOS\n")
	}
	if c.sequence && g < tPrefixList {
		return fatal("Sorry, prefix-lists sequencing (-s) can't be  used for non prefix-list\n")
	}
	if c.refineLow != 0 && c.refine == 0 {
		c.refine = c.afMax()
	}
	if c.refineLow != 0 && c.refineLow > c.refine {
		return fatal("Incompatible values for -r %d and -R %d\n", c.refineLow, c.refine)
	}
	if c.refine != 0 || c.refineLow != 0 {
		switch {
		case c.v6 && c.refine > 128:
			return fatal("Invalid value for refine(-R): %d (1-128 for IPv6)\n", c.refine)
		case c.v6 && c.refineLow > 128:
			return fatal("Invalid value for refineLow(-r): %d (1-128 for IPv6)\n", c.refineLow)
		case !c.v6 && c.refine > 32:
			return fatal("Invalid value for refine(-R): %d (1-32 for IPv4)\n", c.refine)
		case !c.v6 && c.refineLow > 32:
			return fatal("Invalid value for refineLow(-r): %d (1-32 for IPv4)\n", c.refineLow)
		}
		if v == vJuniper && g == tPrefixList {
			if c.refine != 0 {
				return fatal("Sorry, more-specific filters (-R %d) is not supported for Juniper prefix-lists.\n"+
					"Use router-filters (-E) or route-filter-lists (-z) instead\n", c.refine)
			}
			return fatal("Sorry, more-specific filters (-r %d) is not supported for Juniper prefix-lists.\n"+
				"Use route-filters (-E) or route-filter-lists (-z) instead\n", c.refineLow)
		}
		if g < tPrefixList {
			if c.refine != 0 {
				return fatal("Sorry, more-specific filter (-R %d) supported only with prefix-list generation\n", c.refine)
			}
			return fatal("Sorry, more-specific filter (-r %d) supported only with prefix-list generation\n", c.refineLow)
		}
	}
	if c.maxlen != 0 {
		if c.maxlen > c.afMax() {
			return fatal("Invalid value for max-prefixlen: %d (1-128 for IPv6, 1-32 for IPv4)\n", c.maxlen)
		}
		if c.maxlen == c.afMax() {
			c.maxlen = 0 // bgpq4 leaves its maxlen unset: -m 32 / -m 128 is a no-op
		}
	} else {
		c.maxlen = c.afMax()
	}
	if g == tEACL && (v == vCisco || v == vArista) && c.v6 {
		return fatal("Sorry, ipv6 access-lists not supported for Cisco yet.\n")
	}
	if c.match != nil && (v != vJuniper || g != tEACL) {
		return fatal("Sorry, extra match conditions (-M) can be used only with Juniper route-filters\n")
	}
	aspath := g == tASPath || g == tOASPath || g == tASList
	if aspath && c.v6 && !c.validate {
		return fatal("Sorry, -6 makes no sense with as-path (-f/-G) or as-list (-H) generation\n")
	}
	if c.validate && !aspath {
		return fatal("Sorry, -w makes sense only for as-path (-f/-G) generation\n")
	}
	if len(c.objects) == 0 {
		return usage("")
	}
	return nil
}

// itoa is strconv.Itoa for uint32.
func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
