package irr

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/bgpfilter/bgpfilter/routing"
)

// SetMemo shares the expansion work of sets between the expansions of one job: a
// generate run expands a thousand cones, and a set nested in many of them (a transit
// provider's customer set) was fetched and its members parsed again in every one. The
// memo keeps, per source list and set name, the set's members as the Querier returned
// them and each member already classified (ASN, set, prefix range with its operator,
// or why it is malformed); Resolver.Expand then only walks. What a walk adds to an
// Expansion (the first path to every ASN, missing sets, loops, the malformed members
// with their paths) depends on the root and stays per expansion, so a memoized
// expansion is the same, field for field, as one without memo (realdata_test.go
// checks it on the RIPE dumps).
//
// The memo is safe for concurrent use: concurrent askers of one set wait for one
// answer; a failed query is not kept (the next asker asks again). It assumes the data
// does not change while it lives: make one per job. The zero value is not usable; use
// NewSetMemo.
type SetMemo struct {
	mu   sync.Mutex
	sets map[string]*memoSet
}

// NewSetMemo returns an empty memo.
func NewSetMemo() *SetMemo { return &SetMemo{sets: map[string]*memoSet{}} }

type memoSet struct {
	done    chan struct{}
	found   bool
	members []string
	classes []memberClass
	err     error
}

// members returns the members of name from q (non-recursive) and their
// classification, asking q once per source list and name. The classes are shared
// (read-only); the members are the caller's.
func (m *SetMemo) members(ctx context.Context, q Querier, sources []string, name string) ([]string, []memberClass, bool, error) {
	key := strings.Join(sources, ",") + "|" + strings.ToUpper(name)
	for {
		m.mu.Lock()
		s, ok := m.sets[key]
		if !ok {
			s = &memoSet{done: make(chan struct{})}
			m.sets[key] = s
			m.mu.Unlock()
			s.members, s.found, s.err = q.Members(ctx, sources, name, false)
			if s.err == nil {
				s.classes = classifyMembers(s.members)
			} else {
				m.mu.Lock()
				delete(m.sets, key)
				m.mu.Unlock()
			}
			close(s.done)
			if s.err != nil {
				return nil, nil, false, s.err
			}
			return slices.Clone(s.members), s.classes, s.found, nil
		}
		m.mu.Unlock()
		select {
		case <-s.done:
		case <-ctx.Done():
			return nil, nil, false, ctx.Err()
		}
		if s.err == nil {
			return slices.Clone(s.members), s.classes, s.found, nil
		}
		// The asker failed (its context, its connection) and forgot the set: ask again.
	}
}

// memberKind is what a set member token is, before the operator of the enclosing
// member is applied.
type memberKind uint8

const (
	memberAny    memberKind = iota // ANY: contributes nothing
	memberPrefix                   // a prefix range (pr)
	memberASN                      // an ASN (asn) with its own operator (op)
	memberSet                      // a set name (name) with its own operator (op)
	memberBad                      // malformed (reason)
)

// memberClass is one classified member token.
type memberClass struct {
	kind   memberKind
	pr     routing.PrefixRange
	asn    routing.ASN
	name   string
	op     RangeOp
	reason string
	// notInASSet: an as-set cannot hold this member (a route-set, or neither a set
	// nor an ASN; RFC 2622 §5.1).
	notInASSet bool
}

func classifyMembers(ms []string) []memberClass {
	out := make([]memberClass, len(ms))
	for i, m := range ms {
		out[i] = classifyMember(m)
	}
	return out
}

// classifyMember parses one member token of a set.
func classifyMember(m string) memberClass {
	c := memberClass{notInASSet: IsRouteSetName(m) || !IsSetName(m) && !routing.IsASN(m)}
	if strings.EqualFold(m, "ANY") {
		c.kind = memberAny
		return c
	}
	pr, perr := ParsePrefixRange(m)
	if perr == nil {
		c.kind, c.pr = memberPrefix, pr
		return c
	}
	if base, _, _ := strings.Cut(m, "^"); strings.Contains(base, "/") {
		reason := strings.TrimPrefix(perr.Error(), "irr: ")
		if _, after, ok := strings.Cut(reason, strconv.Quote(m)+": "); ok {
			reason = strings.TrimPrefix(after, "irr: ")
		}
		c.kind, c.reason = memberBad, "invalid prefix range: "+reason
		return c
	}
	name, op, err := SplitRangeOp(m)
	if err != nil {
		c.kind, c.reason = memberBad, strings.TrimPrefix(err.Error(), "irr: ")
		return c
	}
	if a, err := routing.ParseASN(name); err == nil {
		c.kind, c.asn, c.op = memberASN, a, op
		return c
	}
	if IsSetName(name) {
		c.kind, c.name, c.op = memberSet, name, op
		return c
	}
	c.kind, c.reason = memberBad, "not an ASN, set name, prefix or ANY"
	return c
}

// applyMember adds the classified member m (token tok) of a set reached with operator
// outer; a malformed member is passed to bad with the reason and contributes nothing.
func applyMember(c *memberClass, tok string, outer RangeOp, path []string,
	addASN func(routing.ASN, []string, RangeOp) error, addPrefix func(routing.PrefixRange, []string) error,
	bad func(member, reason string), addSet func(string, RangeOp)) error {
	switch c.kind {
	case memberAny:
		return nil
	case memberPrefix:
		pr := c.pr
		if outer.Kind != OpNone {
			var ok bool
			if pr, ok = outer.Apply(pr); !ok {
				bad(tok, "the operator "+outer.String()+" of the enclosing member leaves no lengths")
				return nil
			}
		}
		return addPrefix(pr, path)
	case memberBad:
		bad(tok, c.reason)
		return nil
	}
	op := c.op
	if op.Kind == OpNone {
		op = outer
	} else if outer.Kind != OpNone {
		op = composeOps(op, outer)
	}
	if c.kind == memberASN {
		return addASN(c.asn, path, op)
	}
	addSet(c.name, op)
	return nil
}
