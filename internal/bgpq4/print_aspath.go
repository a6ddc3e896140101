package bgpq4

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/bgpfilter/bgpfilter/prefixset"
)

// formatList is bgpq4's -F printer: one expansion of the user format per entry.
func (p *printer) formatList() {
	f := p.c.format
	p.each(func(e prefixset.Entry) {
		lo, hi := e.Prefix.Bits(), e.Prefix.Bits()
		if e.Agg {
			lo, hi = e.Min, e.Max
		}
		p.formatEntry(e.Prefix, lo, hi)
	})
	if len(f) < 2 || !(f[len(f)-2] == '\\' && f[len(f)-1] == 'n') {
		p.s("\n")
	}
}

func (p *printer) formatEntry(pf netip.Prefix, lo, hi int) {
	f := p.c.format
	b := p.buf[:0]
	for i := 0; i < len(f); i++ {
		ch := f[i]
		switch {
		case ch == '%' && i+1 == len(f):
			// bgpq4 reports the terminating NUL, which cuts its message short
			p.buf = b
			p.flushBuf()
			p.w.Flush()
			p.errf("ERROR:Unknown format char '")
			return
		case ch == '%':
			i++
			switch f[i] {
			case 'r', 'n':
				b = appendAddr(b, pf.Addr())
			case 'l':
				b = appendInt(b, pf.Bits())
			case 'a':
				b = appendInt(b, lo)
			case 'A':
				b = appendInt(b, hi)
			case '%':
				b = append(b, '%')
			case 'N':
				b = append(b, p.c.name...)
			case 'm':
				b = appendAddr(b, maskAddr(pf, false))
			case 'i':
				b = appendAddr(b, maskAddr(pf, true))
			default:
				p.buf = b
				p.flushBuf()
				p.w.Flush()
				p.errf("ERROR:Unknown format char '%c'\n", f[i])
				return
			}
		case ch == '\\' && i+1 == len(f):
			// bgpq4 reads past the end of the format here (undefined behaviour); stop
			p.buf = b
			p.flushBuf()
			return
		case ch == '\\':
			i++
			switch f[i] {
			case 'n':
				b = append(b, '\n')
			case 't':
				b = append(b, '\t')
			default:
				b = append(b, f[i])
			}
		default:
			b = append(b, ch)
		}
	}
	p.buf = b
	p.flushBuf()
}

// errf reports a format error on stderr.
func (p *printer) errf(format string, a ...any) {
	if p.errw != nil {
		fmt.Fprintf(p.errw, format, a...)
	}
}

// maskAddr returns the netmask (or inverse mask) of pf's length as an address.
func maskAddr(pf netip.Prefix, inverse bool) netip.Addr {
	n := pf.Bits()
	if pf.Addr().Is4() {
		var b [4]byte
		for i := 0; i < 32; i++ {
			if (i < n) != inverse {
				b[i/8] |= 0x80 >> (i % 8)
			}
		}
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	for i := 0; i < 128; i++ {
		if (i < n) != inverse {
			b[i/8] |= 0x80 >> (i % 8)
		}
	}
	return netip.AddrFrom16(b)
}

func u(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// splitPeer removes the peer ASN (-f/-G/-H argument) from the list (sorted, see
// asnSet) and reports whether it was a member; the list itself when it was not.
func (p *printer) splitPeer() ([]uint32, bool) {
	i, found := slices.BinarySearch(p.asns, p.c.asnumber)
	if !found {
		return p.asns, false
	}
	out := make([]uint32, 0, len(p.asns)-1)
	return append(append(out, p.asns[:i]...), p.asns[i+1:]...), true
}

// groups calls f for each line of at most width ASNs (0 = unlimited) with the line
// index.
func groups(asns []uint32, width int, f func(line []uint32)) {
	if width <= 0 {
		width = len(asns)
	}
	for len(asns) > 0 {
		n := width
		if n > len(asns) {
			n = len(asns)
		}
		f(asns[:n])
		asns = asns[n:]
	}
}

// pathLines splits the peer ASN off (splitPeer) and returns the entries of an as-path
// list: peerLine when the peer is a member, then head+"A"+sep+"B"…+tail for each group
// of at most c.width origins.
func (p *printer) pathLines(peerLine, head, sep, tail string) (lines []string, found bool) {
	rest, found := p.splitPeer()
	n := len(rest)
	if w := p.c.width; w > 0 {
		n = (len(rest) + w - 1) / w
	}
	lines = make([]string, 0, min(n, len(rest))+1)
	if found {
		lines = append(lines, peerLine)
	}
	// Every line into one buffer, cut into strings afterwards: the 12k lines of a large
	// set cost two allocations, not one each.
	var b []byte
	var ends []int
	groups(rest, p.c.width, func(g []uint32) {
		b = append(appendJoin(append(b, head...), g, sep), tail...)
		ends = append(ends, len(b))
	})
	all, start := string(b), 0
	for _, e := range ends {
		lines = append(lines, all[start:e])
		start = e
	}
	return lines, found
}

// juniperPaths prints a Junos as-path-group: one "as-path aN" line per entry, or the
// aNone line (indented by indent) when there is none.
func (p *printer) juniperPaths(name string, lines []string, indent string) {
	p.s("policy-options {\nreplace:\n as-path-group " + name + " {\n")
	for i, l := range lines {
		p.s("  as-path a" + strconv.Itoa(i) + " \"" + l + "\";\n")
	}
	if len(lines) == 0 {
		p.s(indent + "as-path aNone \"!.*\";\n")
	}
	p.s(" }\n}\n")
}

// nokiaEntries prints the numbered entries of a Nokia SR OS as-path-group: classic
// "entry N expression" lines, or MD-CLI blocks with md.
func (p *printer) nokiaEntries(lines []string, md bool) {
	for i, l := range lines {
		if md {
			p.s("  entry " + strconv.Itoa(i+1) + " {\n    expression \"" + l + "\"\n  }\n")
		} else {
			p.s("  entry " + strconv.Itoa(i+1) + " expression \"" + l + "\"\n")
		}
	}
}

// permitList prints an IOS-style as-path list: clear (the command deleting it), then
// entry+" deny .*" when re is empty (no ASNs), else entry+" permit "+regex per line.
func (p *printer) permitList(clear, entry string, re []string) {
	p.s(clear)
	if len(re) == 0 {
		p.s(entry + " deny .*\n")
		return
	}
	for _, r := range re {
		p.s(entry)
		p.s(" permit ")
		p.s(r)
		p.s("\n")
	}
}

// regexSet prints an IOS XR as-path-set or a Huawei XPL as-path-list: head, then each
// regex on its own line as "\n  "+open+regex+close, comma-separated, then tail. With
// leadingComma the first line gets a comma too (bgpq4's stray XPL comma).
func (p *printer) regexSet(head, open, close, tail string, re []string, leadingComma bool) {
	p.s(head)
	for i, r := range re {
		if i > 0 || leadingComma {
			p.s(",")
		}
		p.s("\n  " + open + r + close)
	}
	p.s(tail)
}

func join(asns []uint32, sep string) string {
	return string(appendJoin(make([]byte, 0, 11*len(asns)), asns, sep))
}

// appendJoin appends the ASNs in decimal, separated by sep.
func appendJoin(b []byte, asns []uint32, sep string) []byte {
	for i, a := range asns {
		if i > 0 {
			b = append(b, sep...)
		}
		b = strconv.AppendUint(b, uint64(a), 10)
	}
	return b
}

func (p *printer) aspath() *exit {
	c := p.c
	name, peer := c.name, u(c.asnumber)
	peerRe, groupRe := "^"+peer+"(_"+peer+")*$", "^"+peer+"(_[0-9]+)*_("
	switch c.vendor {
	case vJuniper:
		lines, _ := p.pathLines("^"+peer+"("+peer+")*$", "^"+peer+"(.)*(", "|", ")$")
		p.juniperPaths(name, lines, "  ")
	case vCisco, vArista:
		re, _ := p.pathLines(peerRe, groupRe, "|", ")$")
		p.permitList("no ip as-path access-list "+name+"\n", "ip as-path access-list "+name, re)
	case vCiscoXR:
		re, _ := p.pathLines(peerRe, groupRe, "|", ")$")
		p.regexSet("as-path-set "+name, "ios-regex '", "'", "\nend-set\n", re, false)
	case vJSON:
		p.jsonASNs()
	case vBIRD:
		p.birdASNs()
	case vOpenBGPD:
		if len(p.asns) == 0 {
			p.s("deny from AS " + peer + "\n")
			return nil
		}
		for _, a := range p.asns {
			p.s("allow from AS " + peer + " AS " + u(a) + "\n")
		}
	case vNokia:
		lines, _ := p.pathLines(peer+"+", peer+".*[", " ", "]")
		p.s("configure router policy-options\nbegin\nno as-path-group \"" + name + "\"\n")
		p.s("as-path-group \"" + name + "\"\n")
		p.nokiaEntries(lines, false)
		p.s("exit\ncommit\n")
	case vNokiaMD:
		lines, _ := p.pathLines(peer+"+", peer+".*[", " ", "]")
		p.s("/configure policy-options\ndelete as-path-group \"" + name + "\"\n")
		p.s("as-path-group \"" + name + "\" {\n")
		p.nokiaEntries(lines, true)
		p.s("}\n")
	case vHuawei:
		re, _ := p.pathLines(peerRe, groupRe, "|", ")$")
		p.permitList("undo ip as-path-filter "+name+"\n", "ip as-path-filter "+name, re)
	case vHuaweiXPL:
		// bgpq4 1.16 still prints a stray comma after the name when the peer ASN is
		// not a member ("xpl as-path-list NN,").
		re, found := p.pathLines(peerRe, groupRe, "|", ")$")
		p.regexSet("xpl as-path-list "+name, "regular ", "", "\nend-list\n", re, !found)
	default:
		return fatal("Unknown vendor %d\n", c.vendor)
	}
	return nil
}

func (p *printer) oaspath() *exit {
	c := p.c
	name, peer := c.name, u(c.asnumber)
	peerRe, groupRe := "^(_"+peer+")*$", "^(_[0-9]+)*_("
	switch c.vendor {
	case vJuniper:
		lines, _ := p.pathLines("^"+peer+"("+peer+")*$", "^(.)*(", "|", ")$")
		p.juniperPaths(name, lines, " ")
	case vCisco, vArista:
		re, _ := p.pathLines(peerRe, groupRe, "|", ")$")
		p.permitList("no ip as-path access-list "+name+"\n", "ip as-path access-list "+name, re)
	case vCiscoXR:
		re, _ := p.pathLines(peerRe, groupRe, "|", ")$")
		p.regexSet("as-path-set "+name, "ios-regex '", "'", "\nend-set\n", re, false)
	case vOpenBGPD:
		if len(p.asns) == 0 {
			p.s("deny to AS " + peer + "\n")
			return nil
		}
		for _, a := range p.asns {
			p.s("allow to AS " + peer + " AS " + u(a) + "\n")
		}
	case vNokia:
		// bgpq4 prints no space before the name and no exit/commit here.
		lines, _ := p.pathLines(peer+"+", ".*[", " ", "]")
		p.s("configure router policy-options\nbegin\nno as-path-group\"" + name + "\"\n")
		p.s("as-path-group \"" + name + "\"\n")
		p.nokiaEntries(lines, false)
	case vNokiaMD:
		lines, _ := p.pathLines(peer+"+", ".*[", " ", "]")
		p.s("/configure policy-options\ndelete as-path-group \"" + name + "\"\n")
		p.s("as-path-group \"" + name + "\" {\n")
		p.nokiaEntries(lines, true)
		p.s("}\n")
	case vHuawei:
		p.s("undo ip as-path-filter " + name + "\n")
		re, found := p.pathLines(peerRe, groupRe, "|", ")$")
		if found {
			p.s("ip as-path-filter " + name + " permit " + re[0] + "\n")
			re = re[1:]
		}
		if len(re) == 0 {
			p.s("ip as-path-filter " + name + " deny .*\n")
			return nil
		}
		for _, r := range re {
			p.s("ip as-path-filter " + name + " permit " + r + "\n")
		}
	case vHuaweiXPL:
		re, _ := p.pathLines(peerRe, groupRe, "|", ")$")
		p.regexSet("xpl as-path-list "+name, "regular ", "", "\nend-list\n", re, false)
	default:
		return fatal("Unknown vendor %d\n", c.vendor)
	}
	return nil
}

func (p *printer) aslist() *exit {
	c := p.c
	if c.vendor != vJuniper {
		return fatal("Unknown vendor %d\n", c.vendor)
	}
	rest, found := p.splitPeer()
	// bgpq4 1.16 drops AS0 from as-lists (bgp/bgpq4#117).
	if len(rest) > 0 && rest[0] == 0 {
		rest = rest[1:]
	}
	p.s("policy-options {\nreplace:\n as-list-group " + c.name + " {\n")
	line := 0
	if found {
		p.s("  as-list a0 members " + u(c.asnumber) + ";\n")
		line++
	}
	groups(rest, c.width, func(g []uint32) {
		p.s("  as-list a" + strconv.Itoa(line) + " members [ " + join(g, " ") + " ];\n")
		line++
	})
	p.s(" }\n}\n")
	return nil
}

func (p *printer) asset() *exit {
	switch p.c.vendor {
	case vJSON:
		p.jsonASNs()
	case vBIRD:
		p.birdASNs()
	case vOpenBGPD:
		p.s("as-set " + p.c.name + " {")
		groups(p.asns, p.c.width, func(g []uint32) {
			p.s("\n\t" + join(g, " "))
		})
		p.s("\n}\n")
	default:
		return fatal("as-sets (-t) supported for JSON, OpenBGPD, and BIRD only\n")
	}
	return nil
}

func (p *printer) jsonASNs() {
	p.s("{\"" + p.c.name + "\": [")
	first := true
	groups(p.asns, p.c.width, func(g []uint32) {
		for i, a := range g {
			if !first {
				p.s(",")
			}
			first = false
			if i == 0 {
				p.s("\n  ")
			}
			p.s(u(a))
		}
	})
	p.s("\n]}\n")
}

func (p *printer) birdASNs() {
	p.s(p.c.name + " = [")
	if len(p.asns) == 0 {
		p.s("];\n")
		return
	}
	first := true
	groups(p.asns, p.c.width, func(g []uint32) {
		for i, a := range g {
			switch {
			case i == 0 && !first:
				p.s(",\n    ")
			case i == 0:
				p.s("\n    ")
			default:
				p.s(", ")
			}
			first = false
			p.s(u(a))
		}
	})
	p.s("\n];\n")
}
