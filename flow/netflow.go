package flow

import (
	"encoding/binary"
	"net/netip"
)

type tmplKey struct {
	version uint16
	domain  uint32
	id      uint16
}

type rateKey struct {
	version    uint16
	domain     uint32
	sampler    uint64
	hasSampler bool
}

// session is the state of one exporter transport session: its templates and the
// sampling rates its options records announced.
type session struct {
	seen      uint64
	templates map[tmplKey]*template
	rates     map[rateKey]uint32
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// decode walks a v9 or IPFIX message set by set. The walk is ours (goflow2's loops trust
// the counts); goflow2 parses each template record after its extent has been checked.
func (s *session) decode(d *Decoder, exporter netip.Addr, p Protocol, b []byte, out []Record) ([]Record, error) {
	var version uint16
	var domain uint32
	var body []byte
	if p == ProtoNetFlowV9 {
		if len(b) < 20 {
			return out, malformed(p, "header: %d bytes, want 20", len(b))
		}
		version, domain, body = 9, binary.BigEndian.Uint32(b[16:20]), b[20:]
		// The header's count is not used to stop: RFC 3954 §5.1 says it counts all
		// records, softflowd 1.1.0 counts only the data records (5 with 9 sets), and
		// goflow2's reading of it as a number of sets drops softflowd's data.
	} else {
		if len(b) < 16 {
			return out, malformed(p, "header: %d bytes, want 16", len(b))
		}
		l := int(binary.BigEndian.Uint16(b[2:4]))
		if l < 16 || l > len(b) {
			return out, malformed(p, "message length %d, datagram %d bytes", l, len(b))
		}
		version, domain, body = 10, binary.BigEndian.Uint32(b[12:16]), b[16:l]
	}
	for len(body) > 0 {
		if len(body) < 4 {
			if allZero(body) {
				break
			}
			return out, malformed(p, "%d stray bytes after the last set", len(body))
		}
		id := binary.BigEndian.Uint16(body)
		l := int(binary.BigEndian.Uint16(body[2:]))
		if l < 4 {
			// some exporters (Palo Alto) zero-fill the rest of the datagram
			if allZero(body) {
				break
			}
			return out, malformed(p, "set %d with length %d", id, l)
		}
		if l > len(body) {
			return out, malformed(p, "set %d length %d, %d bytes left", id, l, len(body))
		}
		set := body[4:l]
		body = body[l:]
		switch {
		case version == 9 && (id == 0 || id == 1), version == 10 && (id == 2 || id == 3):
			if err := s.templateSet(d, p, version, domain, id, set); err != nil {
				return out, err
			}
		case id >= 256:
			out = s.dataSet(d, exporter, p, version, domain, id, set, out)
		default:
			// reserved set ids (RFC 7011 §3.3.2) are skipped
		}
	}
	return out, nil
}

// templateSet checks the extent of every record of a (options) template set, handles
// IPFIX withdrawals, and stores what goflow2 parses.
func (s *session) templateSet(d *Decoder, p Protocol, version uint16, domain uint32, setID uint16, set []byte) error {
	ipfix := version == 10
	for len(set) > 0 {
		if len(set) < 4 || allZero(set) {
			return nil // padding
		}
		tid := binary.BigEndian.Uint16(set)
		count := int(binary.BigEndian.Uint16(set[2:]))
		var n int
		switch {
		case setID == 1: // v9 options template: id, scope bytes, option bytes
			if len(set) < 6 {
				return nil
			}
			scope, opt := count, int(binary.BigEndian.Uint16(set[4:]))
			if scope%4 != 0 || opt%4 != 0 || scope+opt == 0 {
				return malformed(p, "options template %d: scope length %d, option length %d", tid, scope, opt)
			}
			n = 6 + scope + opt
		case ipfix && count == 0: // withdrawal (RFC 7011 §8.1)
			s.withdraw(d, version, domain, setID, tid)
			set = set[4:]
			continue
		case count == 0:
			return malformed(p, "template %d with no fields", tid)
		default:
			n = 4
			if setID == 3 {
				n = 6
				if len(set) < 6 {
					return malformed(p, "options template %d: truncated header", tid)
				}
				if sc := int(binary.BigEndian.Uint16(set[4:])); sc == 0 || sc > count {
					return malformed(p, "options template %d: %d scope fields of %d", tid, sc, count)
				}
			}
			if count*4 > len(set)-n {
				return malformed(p, "template %d: %d fields in %d bytes", tid, count, len(set)-n)
			}
			for i := 0; i < count; i++ {
				if n+4 > len(set) {
					return malformed(p, "template %d: truncated at field %d", tid, i)
				}
				if ipfix && set[n]&0x80 != 0 {
					n += 4 // enterprise number
				}
				n += 4
			}
		}
		if n > len(set) {
			return malformed(p, "template %d: %d bytes, %d left", tid, n, len(set))
		}
		rec := set[:n]
		set = set[n:]
		if tid < 256 {
			d.stats.TemplatesRefused++
			continue
		}
		gotID, t, ok := parseTemplateRecord(version, setID, rec, d.limits.MaxFields)
		if !ok || gotID != tid {
			return malformed(p, "template %d: goflow2 could not parse the record", tid)
		}
		if t == nil {
			d.stats.TemplatesRefused++
			// a refused template must not leave an older one of the same id in use
			delete(s.templates, tmplKey{version, domain, tid})
			continue
		}
		k := tmplKey{version, domain, tid}
		if _, ok := s.templates[k]; !ok && len(s.templates) >= d.limits.MaxTemplates {
			d.stats.TemplatesRefused++
			continue
		}
		s.templates[k] = t
		d.stats.Templates++
	}
	return nil
}

// withdraw applies an IPFIX template withdrawal: one template, or every template of the
// set's kind when the template id equals the set id.
func (s *session) withdraw(d *Decoder, version uint16, domain uint32, setID, tid uint16) {
	d.stats.Withdrawals++
	if tid >= 256 {
		delete(s.templates, tmplKey{version, domain, tid})
		return
	}
	if tid != setID {
		return
	}
	for k, t := range s.templates {
		if k.version == version && k.domain == domain && t.options == (setID == 3) {
			delete(s.templates, k)
		}
	}
}

// dataSet decodes the records of a data set whose template is known; options records
// update the session's sampling rates.
func (s *session) dataSet(d *Decoder, exporter netip.Addr, p Protocol, version uint16, domain uint32, id uint16, set []byte, out []Record) []Record {
	t := s.templates[tmplKey{version, domain, id}]
	if t == nil {
		d.stats.TemplateNotFound++
		return out
	}
	var v values
	if t.options {
		for {
			n := t.next(set, &v)
			if n == 0 {
				return out
			}
			set = set[n:]
			if r, ok := v.rateFrom(); ok {
				s.setRate(d, version, domain, v, r)
			}
		}
	}
	domainRate := s.rates[rateKey{version: version, domain: domain}]
	for {
		n := t.next(set, &v)
		if n == 0 {
			return out
		}
		set = set[n:]
		src, ok := v.source()
		if !ok {
			continue // no source address: nothing to audit (e.g. an L2-only record)
		}
		rate := domainRate
		if r, ok := v.rateFrom(); ok {
			rate = r
		} else if v.hasSample {
			if r, ok := s.rates[rateKey{version, domain, v.sampler, true}]; ok {
				rate = r
			}
		}
		out = append(out, Record{Exporter: exporter, Src: src, InIf: uint32(v.inIf), Packets: v.packets,
			Bytes: v.bytes, SamplingRate: rate, Proto: p})
	}
}

func (s *session) setRate(d *Decoder, version uint16, domain uint32, v values, r uint32) {
	dk := rateKey{version: version, domain: domain}
	keys := []rateKey{dk}
	if v.hasSample {
		keys = []rateKey{{version, domain, v.sampler, true}}
		if _, ok := s.rates[dk]; !ok {
			keys = append(keys, dk)
		}
	}
	for _, k := range keys {
		if _, ok := s.rates[k]; !ok && len(s.rates) >= d.limits.MaxSamplers {
			continue
		}
		s.rates[k] = r
	}
}
