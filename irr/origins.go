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

// hasRoute reports whether s holds route object k (without its text reference, so
// without Index.fillRefs).
func (s *source) hasRoute(k routeKey) bool {
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

// fillRefs gives the origin lists of an index read from a snapshot their text
// references, which the snapshot keeps apart from the prefixes and which are read on
// first use: a prefix-list run never needs them. Every user of originRoutes.refs
// (route, insert, deleteLocked, WriteSnapshot) calls it first; before it, refs are nil.
func (ix *Index) fillRefs() {
	ix.refsOnce.Do(func() {
		if ix.refsLoad == nil {
			return
		}
		b, err := ix.refsLoad()
		if err != nil {
			b = nil // the texts then read as nothing (arena.get checks every reference)
		}
		// The written order: sources by index, family, origin, prefix (the lists are
		// still as loaded: every change calls fillRefs first).
		srcs := make([]*source, len(ix.srcs))
		for _, s := range ix.srcs {
			srcs[s.idx] = s
		}
		for _, s := range srcs {
			for f := range s.origin {
				for _, a := range sortedKeys(s.origin[f]) {
					o := s.origin[f][a]
					o.refs = make([]textRef, len(o.keys))
					for i := range o.refs {
						if len(b) < refSize {
							break
						}
						o.refs[i] = decodeRef(b)
						b = b[refSize:]
					}
				}
			}
		}
	})
}
