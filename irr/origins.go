package irr

import "github.com/bgpfilter/bgpfilter/routing"

// originRoutes holds the route (or route6) objects of one origin in one source: the
// prefixes and their texts in parallel slices, in no particular order (every reader
// sorts). Per-origin lists replace a map keyed by prefix and origin: loading a million
// routes then costs one small-map lookup per route instead of an insert into a
// million-entry map. A list longer than linearMax gets a prefix index, so that adding
// and finding stay O(1) for origins with many routes.
type originRoutes struct {
	keys []pkey
	refs []textRef
	pos  map[pkey]int32 // index into keys; nil while len(keys) <= linearMax
}

const linearMax = 32

// find returns the index of k, or -1.
func (o *originRoutes) find(k pkey) int {
	if o.pos != nil {
		if i, ok := o.pos[k]; ok {
			return int(i)
		}
		return -1
	}
	for i := range o.keys {
		if o.keys[i] == k {
			return i
		}
	}
	return -1
}

// add appends k, which must not be in the list.
func (o *originRoutes) add(k pkey, t textRef) {
	o.keys = append(o.keys, k)
	o.refs = append(o.refs, t)
	switch {
	case o.pos != nil:
		o.pos[k] = int32(len(o.keys) - 1)
	case len(o.keys) > linearMax:
		o.pos = make(map[pkey]int32, 2*len(o.keys))
		for i, k := range o.keys {
			o.pos[k] = int32(i)
		}
	}
}

// del removes the entry at i (the last entry takes its place).
func (o *originRoutes) del(i int) {
	last := len(o.keys) - 1
	if o.pos != nil {
		delete(o.pos, o.keys[i])
		if i != last {
			o.pos[o.keys[last]] = int32(i)
		}
	}
	o.keys[i], o.refs[i] = o.keys[last], o.refs[last]
	o.keys, o.refs = o.keys[:last], o.refs[:last]
}

// prefixes returns the prefixes of family f (0 IPv4, 1 IPv6) with origin a.
func (s *source) prefixes(f int, a routing.ASN) []pkey {
	if s.lz != nil {
		return s.lz.prefixes(f, a)
	}
	if o := s.origin[f][a]; o != nil {
		return o.keys
	}
	return nil
}

// route returns the text of the route object k.
func (s *source) route(k routeKey) (textRef, bool) {
	if o := s.origin[kfam(k.p)][k.origin]; o != nil {
		if i := o.find(k.p); i >= 0 {
			return o.refs[i], true
		}
	}
	return textRef{}, false
}

// deleteRoute removes route object k and reports whether it was there.
func (s *source) deleteRoute(k routeKey) bool {
	f := kfam(k.p)
	o := s.origin[f][k.origin]
	if o == nil {
		return false
	}
	i := o.find(k.p)
	if i < 0 {
		return false
	}
	o.del(i)
	s.nroutes[f]--
	if len(o.keys) == 0 {
		delete(s.origin[f], k.origin)
	}
	return true
}

// countPrefixes returns len(s.prefixes(f, a)) without decoding them.
func (s *source) countPrefixes(f int, a routing.ASN) int {
	if s.lz != nil {
		return s.lz.count(f, a)
	}
	return len(s.prefixes(f, a))
}

// appendKeys appends the routes of a in family f.
func (s *source) appendKeys(dst []pkey, f int, a routing.ASN) []pkey {
	if s.lz != nil {
		return s.lz.appendKeys(dst, f, a)
	}
	return append(dst, s.prefixes(f, a)...)
}

// appendPacked4 appends pack4 of every IPv4 route of a.
func (s *source) appendPacked4(dst []uint64, a routing.ASN) []uint64 {
	if s.lz != nil {
		return s.lz.appendPacked4(dst, a)
	}
	for _, k := range s.prefixes(0, a) {
		dst = append(dst, pack4(k))
	}
	return dst
}

// set returns the set with the upper-case name key, or nil.
func (s *source) set(key string) *rpslSet {
	if s.lz != nil {
		return s.lz.set(key)
	}
	return s.sets[key]
}

// asMembers returns the aut-nums whose member-of names the set key.
func (s *source) asMembers(key string) map[routing.ASN]memberOfRef {
	if s.lz != nil {
		return s.lz.asMembers(key)
	}
	return s.asMemberOf[key]
}

// routeMembers returns the routes whose member-of names the set key.
func (s *source) routeMembers(key string) map[routeKey]memberOfRef {
	if s.lz != nil {
		return s.lz.routeMembers(key)
	}
	return s.routeMemberOf[key]
}

// hasRoute reports whether s holds route object k.
func (s *source) hasRoute(k routeKey) bool {
	if s.lz != nil {
		return s.lz.hasRoute(k)
	}
	o := s.origin[kfam(k.p)][k.origin]
	return o != nil && o.find(k.p) >= 0
}

// eachRoute calls fn for every route object of s.
func (s *source) eachRoute(fn func(k routeKey)) {
	for f := range s.origin {
		for a, o := range s.origin[f] {
			for _, k := range o.keys {
				fn(routeKey{p: k, origin: a})
			}
		}
	}
}

// materialize decodes an index read from a snapshot into the maps of its sources
// (once; under the read or the write lock): the queries a prefix-list run makes answer
// from the snapshot directly, the rest (plain lookups, FindRoutes, changes, writing a
// snapshot) need the maps. A corrupt block leaves the maps partial and the error in
// snapErr.
func (ix *Index) materialize() {
	if ix.snap == nil {
		return
	}
	ix.matOnce.Do(func() {
		for _, s := range ix.srcs {
			if s.lz != nil {
				s.lz.fill(s)
			}
		}
	})
}

// mutable prepares the index for a change (the caller holds the write lock): the maps
// are filled and the lazy views, which would not see the change, are dropped.
func (ix *Index) mutable() {
	if ix.snap == nil || ix.lazyStats == nil {
		return
	}
	ix.materialize()
	for _, s := range ix.srcs {
		s.lz = nil
	}
	ix.lazyStats = nil
}
