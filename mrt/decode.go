package mrt

import (
	"errors"
	"fmt"
	"net/netip"
)

// peerEntry is one row of a TABLE_DUMP_V2 PEER_INDEX_TABLE.
type peerEntry struct {
	ip netip.Addr
	as uint32
}

// tableDump decodes a TABLE_DUMP (v1) record: one RIB entry, 2-byte ASNs
// (RFC 6396 §4.2).
func (rd *Reader) tableDump(h header, b []byte) error {
	var v6 bool
	switch h.sub {
	case 1:
	case 2:
		v6 = true
	default:
		return fmt.Errorf("TABLE_DUMP subtype %d is not an address family", h.sub)
	}
	c := cursor{b: b}
	c.u16("view number")
	c.u16("sequence number")
	addr := c.addr(v6, "prefix")
	bits := int(c.u8("prefix length"))
	c.u8("status")
	c.u32("originated time")
	peer := c.addr(v6, "peer address")
	peerAS := uint32(c.u16("peer AS"))
	alen := int(c.u16("attribute length"))
	ab := c.take(alen, "attributes")
	if c.err != nil {
		return c.err
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return fmt.Errorf("prefix length %d", bits)
	}
	attrs, err := parseAttrs(ab, attrContext{as4: false, rib: true, ribAFI: h.sub})
	if err != nil {
		return err
	}
	r := h.route(RIB)
	r.PeerIP, r.PeerAS, r.Prefix, r.Attrs = peer, peerAS, p, attrs
	rd.pending = append(rd.pending, r)
	return nil
}

// tableDumpV2 decodes TABLE_DUMP_V2 records (RFC 6396 §4.3, RFC 8050 §4).
func (rd *Reader) tableDumpV2(h header, b []byte) error {
	c := cursor{b: b}
	if h.sub == SubPeerIndexTable {
		return rd.peerIndex(&c)
	}
	var afi uint16
	addPath := false
	switch h.sub {
	case SubRIBIPv4Unicast, SubRIBIPv4Multicast:
		afi = 1
	case SubRIBIPv6Unicast, SubRIBIPv6Multicast:
		afi = 2
	case SubRIBIPv4UnicastAddPath, SubRIBIPv4MulticastAddPat:
		afi, addPath = 1, true
	case SubRIBIPv6UnicastAddPath, SubRIBIPv6MulticastAddPat:
		afi, addPath = 2, true
	case SubRIBGeneric, SubRIBGenericAddPath:
		addPath = h.sub == SubRIBGenericAddPath
		c.u32("sequence number")
		afi = c.u16("AFI")
		safi := c.u8("SAFI")
		if c.err != nil {
			return c.err
		}
		if (afi != 1 && afi != 2) || safi < 1 || safi > 3 {
			return nil // other families (VPN, flowspec) carry no plain prefixes
		}
		return rd.ribEntries(h, &c, afi, addPath)
	default:
		return nil
	}
	c.u32("sequence number")
	return rd.ribEntries(h, &c, afi, addPath)
}

// ribEntries decodes the prefix and the entries of a RIB record (after the sequence
// number and, for RIB_GENERIC, the family).
func (rd *Reader) ribEntries(h header, c *cursor, afi uint16, addPath bool) error {
	p := c.prefix(afi == 2, "RIB prefix")
	n := int(c.u16("entry count"))
	if c.err != nil {
		return c.err
	}
	// Each entry needs at least 8 bytes: a count beyond that is a lie we refuse
	// before allocating for it.
	if n*8 > len(c.b) {
		return fmt.Errorf("entry count %d does not fit in %d bytes", n, len(c.b))
	}
	for i := 0; i < n; i++ {
		idx := int(c.u16("peer index"))
		c.u32("originated time")
		var id uint32
		if addPath {
			id = c.u32("path identifier")
		}
		alen := int(c.u16("attribute length"))
		ab := c.take(alen, "attributes")
		if c.err != nil {
			return fmt.Errorf("entry %d: %w", i, c.err)
		}
		if idx >= len(rd.peers) {
			return fmt.Errorf("entry %d: peer index %d outside the peer table (%d peers)", i, idx, len(rd.peers))
		}
		attrs, err := parseAttrs(ab, attrContext{as4: true, rib: true, ribAFI: afi})
		if err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		r := h.route(RIB)
		r.PeerIP, r.PeerAS = rd.peers[idx].ip, rd.peers[idx].as
		r.Prefix, r.Attrs, r.AddPath, r.PathID = p, attrs, addPath, id
		rd.pending = append(rd.pending, r)
	}
	return nil
}

// peerIndex decodes a PEER_INDEX_TABLE; it replaces the previous one.
func (rd *Reader) peerIndex(c *cursor) error {
	c.u32("collector BGP ID")
	c.take(int(c.u16("view name length")), "view name")
	n := int(c.u16("peer count"))
	if c.err != nil {
		return c.err
	}
	if n*7 > len(c.b) { // type, BGP ID, an IPv4 address, a 2-byte AS: at least 11; 7 is safe
		return fmt.Errorf("peer count %d does not fit in %d bytes", n, len(c.b))
	}
	peers := make([]peerEntry, 0, n)
	for i := 0; i < n; i++ {
		t := c.u8("peer type")
		c.u32("peer BGP ID")
		ip := c.addr(t&1 != 0, "peer address")
		var as uint32
		if t&2 != 0 {
			as = c.u32("peer AS")
		} else {
			as = uint32(c.u16("peer AS"))
		}
		if c.err != nil {
			return fmt.Errorf("peer %d: %w", i, c.err)
		}
		peers = append(peers, peerEntry{ip: ip, as: as})
	}
	rd.peers = peers
	return nil
}

// bgp4mp decodes BGP4MP / BGP4MP_ET records (RFC 6396 §4.4, RFC 8050 §3).
func (rd *Reader) bgp4mp(h header, b []byte) error {
	var as4, addPath, local, state bool
	switch h.sub {
	case SubStateChange:
		state = true
	case SubStateChangeAS4:
		state, as4 = true, true
	case SubMessage:
	case SubMessageAS4:
		as4 = true
	case SubMessageLocal:
		local = true
	case SubMessageAS4Local:
		as4, local = true, true
	case SubMessageAddPath:
		addPath = true
	case SubMessageAS4AddPath:
		as4, addPath = true, true
	case SubMessageLocalAddPath:
		local, addPath = true, true
	case SubMessageAS4LocalAddPa:
		as4, local, addPath = true, true, true
	default:
		return nil
	}
	c := cursor{b: b}
	var peerAS uint32
	if as4 {
		peerAS = c.u32("peer AS")
		c.u32("local AS")
	} else {
		peerAS = uint32(c.u16("peer AS"))
		c.u16("local AS")
	}
	c.u16("interface index")
	afi := c.u16("address family")
	if c.err != nil {
		return c.err
	}
	if afi != 1 && afi != 2 {
		return fmt.Errorf("address family %d", afi)
	}
	peer := c.addr(afi == 2, "peer address")
	c.addr(afi == 2, "local address")
	if c.err != nil {
		return c.err
	}
	base := h.route(State)
	base.PeerIP, base.PeerAS, base.Local = peer, peerAS, local
	if state {
		base.OldState = c.u16("old state")
		base.NewState = c.u16("new state")
		if c.err != nil {
			return c.err
		}
		rd.pending = append(rd.pending, base)
		return nil
	}
	return rd.bgpMessage(base, c.b, as4, addPath)
}

// bgpMessage decodes the BGP message of a BGP4MP record; only UPDATEs yield routes.
func (rd *Reader) bgpMessage(base Route, b []byte, as4, addPath bool) error {
	c := cursor{b: b}
	c.take(16, "BGP marker")
	mlen := int(c.u16("BGP message length"))
	mtype := c.u8("BGP message type")
	if c.err != nil {
		return c.err
	}
	if mlen < 19 || mlen-19 > len(c.b) {
		return fmt.Errorf("BGP message length %d, %d bytes present", mlen, len(c.b)+19)
	}
	if mtype != 2 {
		return nil // OPEN, NOTIFICATION, KEEPALIVE, ROUTE-REFRESH
	}
	c.b = c.b[:mlen-19]
	wlen := int(c.u16("withdrawn routes length"))
	wb := c.take(wlen, "withdrawn routes")
	alen := int(c.u16("path attribute length"))
	ab := c.take(alen, "path attributes")
	if c.err != nil {
		return c.err
	}
	withdrawn, err := parseNLRI(wb, 1, addPath)
	if err != nil {
		return fmt.Errorf("withdrawn routes: %w", err)
	}
	announced, err := parseNLRI(c.b, 1, addPath)
	if err != nil {
		return fmt.Errorf("NLRI: %w", err)
	}
	var attrs *Attrs
	if len(ab) > 0 {
		if attrs, err = parseAttrs(ab, attrContext{as4: as4, addPath: addPath}); err != nil {
			return err
		}
	}
	if len(announced) > 0 && attrs == nil {
		return errors.New("NLRI without path attributes")
	}
	emit := func(k Kind, list []nlri, a *Attrs) {
		for _, n := range list {
			r := base
			r.Kind, r.Prefix, r.AddPath, r.PathID, r.Attrs = k, n.p, addPath, n.pathID, a
			rd.pending = append(rd.pending, r)
		}
	}
	emit(Withdraw, withdrawn, nil)
	if attrs != nil {
		emit(Withdraw, attrs.mpWithdraw, nil)
	}
	emit(Announce, announced, attrs)
	if attrs != nil {
		emit(Announce, attrs.mpAnnounce, attrs)
	}
	return nil
}
