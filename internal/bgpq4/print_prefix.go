package bgpq4

import (
	"bufio"
	"io"
	"net/netip"
	"strconv"

	"github.com/bgpfilter/bgpfilter/prefixset"
)

// printer renders the expansion result in the selected vendor format, byte for byte
// as bgpq4 1.16 prints it. Lines are built in a reused buffer, no fmt on the per-prefix
// path.
type printer struct {
	c    *config
	w    *bufio.Writer
	set  *prefixset.Set
	asns []uint32
	buf  []byte
	errw io.Writer
}

func (p *printer) s(s string) { p.w.WriteString(s) }

func (p *printer) flushBuf() {
	p.w.Write(p.buf)
	p.buf = p.buf[:0]
}

func (p *printer) print() *exit {
	switch p.c.gen {
	case tASPath:
		return p.aspath()
	case tOASPath:
		return p.oaspath()
	case tASList:
		return p.aslist()
	case tASSet:
		return p.asset()
	case tPrefixList:
		return p.prefixList()
	case tEACL:
		return p.eacl()
	case tRouteFilterList:
		if p.c.vendor != vJuniper {
			return fatal("unreachable point\n")
		}
		p.juniperRouteFilterList()
	}
	return nil
}

func (p *printer) ipWord() string {
	if p.c.v6 {
		return "ipv6"
	}
	return "ip"
}

func (p *printer) anyNet() string {
	if p.c.v6 {
		return "::/0"
	}
	return "0.0.0.0/0"
}

// appendAddr formats an address as bgpq4 does (glibc inet_ntop).
func appendAddr(b []byte, a netip.Addr) []byte { return prefixset.AppendAddr(b, a) }

func appendPrefix(b []byte, pf netip.Prefix, sep string) []byte {
	b = appendAddr(b, pf.Addr())
	b = append(b, sep...)
	return strconv.AppendInt(b, int64(pf.Bits()), 10)
}

func appendInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }

// ge reports whether an aggregate entry has a lower bound above its own length.
func ge(e prefixset.Entry) bool { return e.Min > e.Prefix.Bits() }

func (p *printer) each(f func(e prefixset.Entry)) { p.set.Each(f) }

func (p *printer) prefixList() *exit {
	c := p.c
	name := c.name
	switch c.vendor {
	case vJuniper:
		p.s("policy-options {\nreplace:\n prefix-list " + name + " {\n")
		p.each(func(e prefixset.Entry) {
			p.buf = append(p.buf, "    "...)
			p.buf = appendPrefix(p.buf, e.Prefix, "/")
			p.buf = append(p.buf, ";\n"...)
			p.flushBuf()
		})
		p.s(" }\n}\n")
	case vCisco:
		p.s("no " + p.ipWord() + " prefix-list " + name + "\n")
		if p.set.Empty() {
			seq := ""
			if c.sequence {
				seq = " seq 1"
			}
			p.s("! generated prefix-list " + name + " is empty\n")
			p.s(p.ipWord() + " prefix-list " + name + seq + " deny " + p.anyNet() + "\n")
			return nil
		}
		head := p.ipWord() + " prefix-list " + name
		seq := 1
		p.each(func(e prefixset.Entry) {
			p.buf = append(p.buf, head...)
			if c.sequence {
				p.buf = append(p.buf, " seq "...)
				p.buf = appendInt(p.buf, seq)
				seq++
			}
			p.buf = append(p.buf, " permit "...)
			p.buf = appendPrefix(p.buf, e.Prefix, "/")
			p.buf = appendRange(p.buf, e, " ge ", " le ")
			p.buf = append(p.buf, '\n')
			p.flushBuf()
		})
	case vArista:
		p.s("no " + p.ipWord() + " prefix-list " + name + "\n")
		if p.set.Empty() {
			p.s("! generated prefix-list " + name + " is empty\n")
			p.s(p.ipWord() + " prefix-list " + name + "\n   seq 1 deny " + p.anyNet() + "\n")
			return nil
		}
		p.s(p.ipWord() + " prefix-list " + name + "\n")
		seq := 1
		p.each(func(e prefixset.Entry) {
			p.buf = append(p.buf, "   seq "...)
			p.buf = appendInt(p.buf, seq)
			seq++
			p.buf = append(p.buf, " permit "...)
			p.buf = appendPrefix(p.buf, e.Prefix, "/")
			p.buf = appendRange(p.buf, e, " ge ", " le ")
			p.buf = append(p.buf, '\n')
			p.flushBuf()
		})
	case vCiscoXR:
		p.s("no prefix-set " + name + "\nprefix-set " + name + "\n")
		first := true
		p.each(func(e prefixset.Entry) {
			if first {
				p.buf = append(p.buf, ' ')
				first = false
			} else {
				p.buf = append(p.buf, ",\n "...)
			}
			p.buf = appendPrefix(p.buf, e.Prefix, "/")
			p.buf = appendRange(p.buf, e, " ge ", " le ")
			p.flushBuf()
		})
		p.s("\nend-set\n")
	case vJSON:
		p.s("{ \"" + name + "\": [")
		comma := false
		p.each(func(e prefixset.Entry) {
			if comma {
				p.buf = append(p.buf, ',')
			}
			comma = true
			p.buf = append(p.buf, "\n    { \"prefix\": \""...)
			p.buf = appendPrefix(p.buf, e.Prefix, "\\/")
			switch {
			case !e.Agg:
				p.buf = append(p.buf, "\", \"exact\": true }"...)
			case ge(e):
				p.buf = append(p.buf, "\", \"exact\": false,\n      \"greater-equal\": "...)
				p.buf = appendInt(p.buf, e.Min)
				p.buf = append(p.buf, ", \"less-equal\": "...)
				p.buf = appendInt(p.buf, e.Max)
				p.buf = append(p.buf, " }"...)
			default:
				p.buf = append(p.buf, "\", \"exact\": false, \"less-equal\": "...)
				p.buf = appendInt(p.buf, e.Max)
				p.buf = append(p.buf, " }"...)
			}
			p.flushBuf()
		})
		p.s("\n] }\n")
	case vBIRD:
		if p.set.Empty() {
			return nil // bgpq4 prints nothing for an empty BIRD list
		}
		p.s(name + " = [")
		comma := false
		p.each(func(e prefixset.Entry) {
			if comma {
				p.buf = append(p.buf, ',')
			}
			comma = true
			p.buf = append(p.buf, "\n    "...)
			p.buf = appendPrefix(p.buf, e.Prefix, "/")
			if e.Agg {
				p.buf = append(p.buf, '{')
				p.buf = appendInt(p.buf, e.Min)
				p.buf = append(p.buf, ',')
				p.buf = appendInt(p.buf, e.Max)
				p.buf = append(p.buf, '}')
			}
			p.flushBuf()
		})
		p.s("\n];\n")
	case vOpenBGPD:
		empty := p.set.Empty()
		if empty {
			p.s("# generated prefix-list " + name + " (AS " + itoa(c.asnumber) + ") is empty\n")
			if c.asnumber == 0 {
				p.s("# use -a <asn> to generate \"deny from ASN <asn>\" instead of this list\n")
			}
		}
		if !empty || c.asnumber == 0 {
			if name != "NN" {
				p.s(name + "=\"")
			}
			p.s("prefix { ")
			p.each(p.openbgpdEntry)
			p.s("\n\t}")
			if name != "NN" {
				p.s("\"")
			}
			p.s("\n")
		} else {
			p.s("deny from AS " + itoa(c.asnumber) + "\n")
		}
	case vFormat:
		p.formatList()
	case vNokia:
		p.s("configure router policy-options\nbegin\nno prefix-list \"" + name + "\"\n")
		p.s("prefix-list \"" + name + "\"\n")
		p.each(func(e prefixset.Entry) {
			p.buf = append(p.buf, "    prefix "...)
			p.buf = appendPrefix(p.buf, e.Prefix, "/")
			if !e.Agg {
				p.buf = append(p.buf, " exact\n"...)
			} else {
				p.buf = append(p.buf, " prefix-length-range "...)
				p.buf = appendInt(p.buf, e.Min)
				p.buf = append(p.buf, '-')
				p.buf = appendInt(p.buf, e.Max)
				p.buf = append(p.buf, '\n')
			}
			p.flushBuf()
		})
		p.s("exit\ncommit\n")
	case vNokiaMD:
		p.s("/configure policy-options\ndelete prefix-list \"" + name + "\"\n")
		p.s("prefix-list \"" + name + "\" {\n")
		p.each(func(e prefixset.Entry) {
			p.buf = append(p.buf, "    prefix "...)
			p.buf = appendPrefix(p.buf, e.Prefix, "/")
			switch {
			case !e.Agg:
				p.buf = append(p.buf, " type exact {\n    }\n"...)
			case ge(e):
				p.buf = append(p.buf, " type range {\n        start-length "...)
				p.buf = appendInt(p.buf, e.Min)
				p.buf = append(p.buf, "\n        end-length "...)
				p.buf = appendInt(p.buf, e.Max)
				p.buf = append(p.buf, "\n    }\n"...)
			default:
				p.buf = append(p.buf, " type through {\n        through-length "...)
				p.buf = appendInt(p.buf, e.Max)
				p.buf = append(p.buf, "\n    }\n"...)
			}
			p.flushBuf()
		})
		p.s("}\n")
	case vNokiaSRL:
		p.s("/routing-policy\ndelete prefix-set \"" + name + "\"\n")
		p.s("prefix-set \"" + name + "\" {\n")
		p.each(func(e prefixset.Entry) {
			p.buf = append(p.buf, "    prefix "...)
			p.buf = appendPrefix(p.buf, e.Prefix, "/")
			if !e.Agg {
				p.buf = append(p.buf, " mask-length-range exact { }\n"...)
			} else {
				p.buf = append(p.buf, " mask-length-range "...)
				p.buf = appendInt(p.buf, e.Min)
				p.buf = append(p.buf, ".."...)
				p.buf = appendInt(p.buf, e.Max)
				p.buf = append(p.buf, " { }\n"...)
			}
			p.flushBuf()
		})
		p.s("}\n")
	case vHuawei:
		p.s("undo ip " + p.ipWord() + "-prefix " + name + "\n")
		if p.set.Empty() {
			p.s("ip " + p.ipWord() + "-prefix " + name + " deny " + p.anyNet() + "\n")
			return nil
		}
		head := "ip " + p.ipWord() + "-prefix " + name + " permit "
		p.each(func(e prefixset.Entry) {
			p.buf = append(p.buf, head...)
			p.buf = appendPrefix(p.buf, e.Prefix, " ")
			p.buf = appendRange(p.buf, e, " greater-equal ", " less-equal ")
			p.buf = append(p.buf, '\n')
			p.flushBuf()
		})
	case vHuaweiXPL:
		w := p.ipWord()
		p.s("no xpl " + w + "-prefix-list " + name + "\nxpl " + w + "-prefix-list " + name + "\n")
		first := true
		p.each(func(e prefixset.Entry) {
			if first {
				p.buf = append(p.buf, "  "...)
				first = false
			} else {
				p.buf = append(p.buf, ",\n  "...)
			}
			p.buf = appendPrefix(p.buf, e.Prefix, " ")
			p.buf = appendRange(p.buf, e, " ge ", " le ")
			p.flushBuf()
		})
		p.s("\nend-list\n")
	case vMikrotik6, vMikrotik7:
		if p.set.Empty() {
			p.s("# generated prefix-list " + name + " is empty\n")
			return nil
		}
		fam := "V4"
		if c.v6 {
			fam = "V6"
		}
		v7 := c.vendor == vMikrotik7
		p.each(func(e prefixset.Entry) {
			switch {
			case v7 && e.Agg:
				p.buf = append(p.buf, "/routing filter rule add chain=\""+name+"-"+fam+"\" rule=\"if (dst in "...)
				p.buf = appendPrefix(p.buf, e.Prefix, "/")
				p.buf = append(p.buf, " && dst-len in "...)
				p.buf = appendInt(p.buf, e.Min)
				p.buf = append(p.buf, '-')
				p.buf = appendInt(p.buf, e.Max)
				p.buf = append(p.buf, ") {accept}\"\n"...)
			case v7:
				p.buf = append(p.buf, "/routing filter rule add chain=\""+name+"-"+fam+"\" rule=\"if (dst=="...)
				p.buf = appendPrefix(p.buf, e.Prefix, "/")
				p.buf = append(p.buf, ") {accept}\"\n"...)
			default:
				p.buf = append(p.buf, "/routing filter add action=accept chain=\""+name+"-"+fam+"\" prefix="...)
				p.buf = appendPrefix(p.buf, e.Prefix, "/")
				if e.Agg {
					p.buf = append(p.buf, " prefix-length="...)
					p.buf = appendInt(p.buf, e.Min)
					p.buf = append(p.buf, '-')
					p.buf = appendInt(p.buf, e.Max)
				}
				p.buf = append(p.buf, '\n')
			}
			p.flushBuf()
		})
	}
	return nil
}

// appendRange adds " ge L le H" / " le H" (with the vendor's words) for aggregates.
func appendRange(b []byte, e prefixset.Entry, geWord, leWord string) []byte {
	if !e.Agg {
		return b
	}
	if ge(e) {
		b = append(b, geWord...)
		b = appendInt(b, e.Min)
	}
	b = append(b, leWord...)
	return appendInt(b, e.Max)
}

func (p *printer) openbgpdEntry(e prefixset.Entry) {
	p.buf = append(p.buf, "\n\t"...)
	p.buf = appendPrefix(p.buf, e.Prefix, "/")
	switch {
	case !e.Agg:
	case e.Min == e.Max:
		p.buf = append(p.buf, " prefixlen = "...)
		p.buf = appendInt(p.buf, e.Max)
	default:
		p.buf = append(p.buf, " prefixlen "...)
		p.buf = appendInt(p.buf, e.Min)
		p.buf = append(p.buf, " - "...)
		p.buf = appendInt(p.buf, e.Max)
	}
	p.flushBuf()
}

func (p *printer) juniperRouteFilter(prefixed bool) func(prefixset.Entry) {
	return func(e prefixset.Entry) {
		p.buf = append(p.buf, "    "...)
		if prefixed {
			p.buf = append(p.buf, "route-filter "...)
		}
		p.buf = appendPrefix(p.buf, e.Prefix, "/")
		switch {
		case !e.Agg:
			p.buf = append(p.buf, " exact;\n"...)
		case ge(e):
			p.buf = append(p.buf, " prefix-length-range /"...)
			p.buf = appendInt(p.buf, e.Min)
			p.buf = append(p.buf, "-/"...)
			p.buf = appendInt(p.buf, e.Max)
			p.buf = append(p.buf, ";\n"...)
		default:
			p.buf = append(p.buf, " upto /"...)
			p.buf = appendInt(p.buf, e.Max)
			p.buf = append(p.buf, ";\n"...)
		}
		p.flushBuf()
	}
}

func (p *printer) juniperRouteFilterList() {
	p.s("policy-options {\nreplace:\n  route-filter-list " + p.c.name + " {\n")
	if p.set.Empty() {
		p.s("    " + p.anyNet() + " orlonger reject;\n")
	} else {
		p.each(p.juniperRouteFilter(false))
	}
	p.s("  }\n}\n")
}

func (p *printer) eacl() *exit {
	c := p.c
	name := c.name
	switch c.vendor {
	case vJuniper:
		term := ""
		pol := name
		for i := 0; i < len(name); i++ {
			if name[i] == '/' {
				pol, term = name[:i], name[i+1:]
				break
			}
		}
		hasTerm := pol != name
		if hasTerm {
			p.s("policy-options {\n policy-statement " + pol + " {\n  term " + term + " {\nreplace:\n   from {\n")
		} else {
			p.s("policy-options {\n policy-statement " + name + " { \nreplace:\n  from {\n")
		}
		if c.match != nil {
			p.s("    " + *c.match + ";\n")
		}
		if !p.set.Empty() {
			p.each(p.juniperRouteFilter(true))
		} else {
			p.s("    route-filter " + p.anyNet() + " orlonger reject;\n")
		}
		if hasTerm {
			p.s("   }\n  }\n }\n}\n")
		} else {
			p.s("  }\n }\n}\n")
		}
	case vCisco, vArista:
		p.s("no ip access-list extended " + name + "\n")
		if p.set.Empty() {
			p.s("! generated access-list " + name + " is empty\n")
			p.s("ip access-list extended " + name + " deny any any\n")
			return nil
		}
		p.s("ip access-list extended " + name + "\n")
		p.each(p.ciscoACL)
	case vOpenBGPD:
		p.s("prefix-set " + name + " {")
		p.each(p.openbgpdEntry)
		p.s("\n}\n")
	case vNokia:
		w := p.ipWord()
		p.s("configure filter match-list\nno " + w + "-prefix-list \"" + name + "\"\n")
		p.s(w + "-prefix-list \"" + name + "\" create\n")
		if p.set.Empty() {
			p.s("# generated ip-prefix-list " + name + " is empty\n")
		} else {
			p.each(func(e prefixset.Entry) {
				p.buf = append(p.buf, "    prefix "...)
				p.buf = appendPrefix(p.buf, e.Prefix, "/")
				p.buf = append(p.buf, '\n')
				p.flushBuf()
			})
		}
		p.s("exit\n")
	case vNokiaMD:
		w := p.ipWord()
		p.s("/configure filter match-list\ndelete " + w + "-prefix-list \"" + name + "\"\n")
		p.s(w + "-prefix-list \"" + name + "\" {\n")
		if p.set.Empty() {
			p.s("# generated " + w + "-prefix-list " + name + " is empty\n")
		} else {
			p.each(func(e prefixset.Entry) {
				p.buf = append(p.buf, "    prefix "...)
				p.buf = appendPrefix(p.buf, e.Prefix, "/")
				p.buf = append(p.buf, " { }\n"...)
				p.flushBuf()
			})
		}
		p.s("}\n")
	case vNokiaSRL:
		fam := "4"
		if c.v6 {
			fam = "6"
		}
		p.s("/acl \ndelete ipv" + fam + "-filter \"" + name + "\"\n")
		p.s("ipv" + fam + "-filter \"" + name + "\" {\n")
		if p.set.Empty() {
			p.s("# generated ipv" + fam + "-filter '" + name + "' is empty\n")
		} else {
			seq := 10
			p.each(func(e prefixset.Entry) {
				p.buf = append(p.buf, " entry "...)
				p.buf = appendInt(p.buf, seq)
				seq += 10
				p.buf = append(p.buf, " {\n  action { accept { } }\n  match { source-ip { prefix "...)
				p.buf = appendPrefix(p.buf, e.Prefix, "/")
				p.buf = append(p.buf, " } } }\n"...)
				p.flushBuf()
			})
		}
		p.s("}\n")
	default:
		return fatal("unreachable point\n")
	}
	return nil
}

func quad(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// ciscoACL is bgpq4_print_ceacl: an extended ACL line matching prefix and length.
func (p *printer) ciscoACL(e prefixset.Entry) {
	a := e.Prefix.Addr().As4()
	bitsN := uint(e.Prefix.Bits())
	addr := netip.AddrFrom4(a)
	if !e.Agg {
		// bgpq4 prints a /32's mask as 0.0.0.0 (it special-cases 32 to zero), and
		// shifts its 32-bit mask by 32-len: for /0 a shift by 32, which x86 does
		// modulo 32, so /0 prints as "host 255.255.255.255" (1.9 and 1.16 alike).
		netmask := uint32(0xffffffff) << ((32 - bitsN) % 32)
		if bitsN == 32 {
			netmask = 0
		}
		p.buf = append(p.buf, " permit ip host "...)
		p.buf = appendAddr(p.buf, addr)
		p.buf = append(p.buf, " host "...)
		p.buf = appendAddr(p.buf, quad(netmask))
		p.buf = append(p.buf, '\n')
		p.flushBuf()
		return
	}
	lo, hi := uint(e.Min), uint(e.Max)
	var wild2 uint64
	if hi != 32 {
		wild2 = 0xffffffff >> hi
	}
	wildaddr := uint32((0xffffffff >> bitsN) & ^wild2)
	mask := uint32(0xffffffff)
	if lo != 32 {
		mask = uint32(uint64(0xffffffff) << (32 - lo))
	}
	wildmask := uint32((0xffffffff >> lo) & ^wild2)
	if wildaddr != 0 {
		p.buf = append(p.buf, " permit ip "...)
		p.buf = appendAddr(p.buf, addr)
		p.buf = append(p.buf, ' ')
		p.buf = appendAddr(p.buf, quad(wildaddr))
		p.buf = append(p.buf, ' ')
	} else {
		p.buf = append(p.buf, " permit ip host "...)
		p.buf = appendAddr(p.buf, addr)
		p.buf = append(p.buf, ' ')
	}
	if wildmask != 0 {
		p.buf = appendAddr(p.buf, quad(mask))
		p.buf = append(p.buf, ' ')
		p.buf = appendAddr(p.buf, quad(wildmask))
		p.buf = append(p.buf, '\n')
	} else {
		p.buf = append(p.buf, "host "...)
		p.buf = appendAddr(p.buf, quad(mask))
		p.buf = append(p.buf, '\n')
	}
	p.flushBuf()
}
