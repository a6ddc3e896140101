package flow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Decoder turns datagrams into Records. It keeps the v9/IPFIX templates and sampling
// rates per exporter transport session (RFC 7011 §10.3.5: templates are scoped to the
// session and observation domain). The zero value is not usable; call NewDecoder.
type Decoder struct {
	limits Limits
	// allow, when set, is the exporter allow-list: a datagram whose exporter it refuses
	// is counted in Stats.UnknownExporter and not decoded, so spoofed UDP sources cannot
	// create sessions or templates.
	allow    func(netip.Addr) bool
	sessions map[netip.AddrPort]*session
	tick     uint64
	stats    Stats
}

// NewDecoder returns a Decoder with the given limits and exporter allow-list (nil accepts
// every exporter, still within Limits).
func NewDecoder(l Limits, allow func(netip.Addr) bool) *Decoder {
	return &Decoder{limits: l.withDefaults(), allow: allow, sessions: make(map[netip.AddrPort]*session)}
}

// Stats returns a copy of the counters.
func (d *Decoder) Stats() Stats { return d.stats }

// Sessions returns the number of exporter sessions with state.
func (d *Decoder) Sessions() int { return len(d.sessions) }

// TemplateCount returns the number of templates held over all sessions.
func (d *Decoder) TemplateCount() int {
	n := 0
	for _, s := range d.sessions {
		n += len(s.templates)
	}
	return n
}

// ErrUnknownExporter is returned (wrapped) for a datagram the allow-list refused.
var ErrUnknownExporter = errors.New("exporter not configured")

// Detect returns the protocol of a datagram from its version field: NetFlow and IPFIX
// start with a 16-bit version (5, 9, 10), sFlow with a 32-bit one (5), whose first 16
// bits are therefore 0.
func Detect(b []byte) Protocol {
	if len(b) < 4 {
		return ProtoUnknown
	}
	switch binary.BigEndian.Uint16(b) {
	case 5:
		return ProtoNetFlowV5
	case 9:
		return ProtoNetFlowV9
	case 10:
		return ProtoIPFIX
	case 0:
		if binary.BigEndian.Uint32(b) == 5 {
			return ProtoSFlowV5
		}
	}
	return ProtoUnknown
}

// Decode decodes one datagram received from src and appends its records to out. A
// malformed datagram returns the records decoded before the fault and an error wrapping
// a *MalformedError; a datagram from an exporter the allow-list refuses returns an error
// wrapping ErrUnknownExporter. Decode never panics on input: a panic in a decoder is
// recovered, counted and returned as malformed. The datagram is not retained.
func (d *Decoder) Decode(src netip.AddrPort, b []byte, out []Record) (recs []Record, err error) {
	p := Detect(b)
	d.stats.Datagrams[p]++
	n0 := len(out)
	defer func() {
		if r := recover(); r != nil {
			d.stats.Panics++
			err = malformed(p, "decoder panic: %v", r)
		}
		if err != nil {
			var me *MalformedError
			if errors.As(err, &me) {
				d.stats.Malformed++
			}
			err = fmt.Errorf("flow: %s from %s: %w", p, src, err)
		}
		d.stats.Records += uint64(len(recs) - n0)
	}()
	exporter := src.Addr().Unmap()
	if p != ProtoSFlowV5 && p != ProtoUnknown && d.allow != nil && !d.allow(exporter) {
		d.stats.UnknownExporter++
		return out, fmt.Errorf("%w: %s", ErrUnknownExporter, exporter)
	}
	switch p {
	case ProtoNetFlowV5:
		return decodeV5(exporter, b, out)
	case ProtoNetFlowV9, ProtoIPFIX:
		s := d.session(src)
		return s.decode(d, exporter, p, b, out)
	case ProtoSFlowV5:
		return d.decodeSFlow(b, out)
	}
	return out, malformed(p, "unknown version (first bytes % x)", b[:min(len(b), 4)])
}

// session returns the state of a transport session, creating it and evicting the least
// recently seen one when MaxSessions is reached.
func (d *Decoder) session(src netip.AddrPort) *session {
	d.tick++
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	if s, ok := d.sessions[src]; ok {
		s.seen = d.tick
		return s
	}
	if len(d.sessions) >= d.limits.MaxSessions {
		var oldest netip.AddrPort
		first := true
		var at uint64
		for k, s := range d.sessions {
			if first || s.seen < at {
				oldest, at, first = k, s.seen, false
			}
		}
		delete(d.sessions, oldest)
		d.stats.SessionsEvicted++
	}
	s := &session{seen: d.tick, templates: make(map[tmplKey]*template), rates: make(map[rateKey]uint32)}
	d.sessions[src] = s
	return s
}
