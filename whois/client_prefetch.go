package whois

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/bgpfilter/bgpfilter/routing"
)

// Read-ahead of set members. Client-side recursion (bgpq4's -L, EXCEPT and SRC::, the
// native resolver) asks for one set at a time with a non-recursive "!i", which costs one
// round trip per set. bgpq4 pipelines the "!i" queries of a whole nesting level
// instead. The client gets the same effect without a batch API: every member of an
// "!i" answer that names a set goes on a frontier, and the next "!i" that is not
// answered already carries the whole frontier with it, pipelined; those answers are
// kept for the calls that follow. A recursion therefore costs about one round trip per
// nesting level, as bgpq4's does. Read-ahead queries are speculative: an F reply to one
// is dropped (the real call asks again and fails then), but a transport failure fails
// the call as any failure does.
const (
	prefetchTTL     = time.Minute // a read-ahead answer is used at most this long
	prefetchBatch   = 5000        // most speculative queries sent with one call
	prefetchEntries = 100000      // most answers kept
)

type prefetchKey struct{ sel, name string }

type prefetch struct {
	answers  map[prefetchKey]prefetchAnswer
	frontier map[string]bool      // upper-case set names seen in answers, not yet asked
	asked    map[prefetchKey]bool // queries sent (by a call or ahead of one)
	hits     int
}

type prefetchAnswer struct {
	rep Reply
	at  time.Time
}

func (p *prefetch) reset() {
	*p = prefetch{answers: map[prefetchKey]prefetchAnswer{}, frontier: map[string]bool{}, asked: map[prefetchKey]bool{}}
}

// membersPrefetchLocked answers a non-recursive "!i" from the read-ahead, or asks for
// it together with the frontier.
func (c *Client) membersPrefetchLocked(ctx context.Context, sources []string, name string) ([]string, bool, error) {
	sel, err := selection(sources)
	if err != nil {
		return nil, false, err
	}
	// Connect first: a new connection starts with an empty read-ahead.
	if err := c.ensureLocked(ctx); err != nil {
		return nil, false, err
	}
	p := &c.pf
	if p.answers == nil {
		p.reset()
	}
	key := prefetchKey{sel, strings.ToUpper(name)}
	if a, ok := p.answers[key]; ok {
		delete(p.answers, key)
		if time.Since(a.at) < prefetchTTL {
			p.hits++
			return c.membersFound(ctx, sources, name, a.rep)
		}
	}
	qs := []string{"!i" + name}
	names := []string{key.name}
	p.asked[key] = true
	delete(p.frontier, key.name)
	if len(p.answers) < prefetchEntries {
		for n := range p.frontier {
			if len(names) > prefetchBatch {
				break
			}
			delete(p.frontier, n)
			k := prefetchKey{sel, n}
			if p.asked[k] {
				continue
			}
			p.asked[k] = true
			qs = append(qs, "!i"+n)
			names = append(names, n)
		}
	}
	if len(qs) > 1 {
		c.log.Debug("whois: !i read-ahead", "query", qs[0], "ahead", len(qs)-1)
	}
	reps, err := c.runLenientLocked(ctx, sources, qs, len(qs)-1, modesOf(len(qs), dataMembers))
	if err != nil {
		return nil, false, err
	}
	now := time.Now()
	for i, r := range reps {
		if r.Kind == ReplyF || r.Kind == ReplyE {
			delete(p.asked, prefetchKey{sel, names[i]})
			continue
		}
		p.learn(sel, r)
		if i > 0 {
			p.answers[prefetchKey{sel, names[i]}] = prefetchAnswer{rep: r, at: now}
		}
	}
	return c.membersFound(ctx, sources, name, reps[0])
}

// learn puts the set names among an answer's members on the frontier. Tokens that
// are AS numbers or prefixes (route-set members) are not sets.
func (p *prefetch) learn(sel string, r Reply) {
	if r.Kind != ReplyA {
		return
	}
	toks := r.Members
	if r.Data != nil {
		toks = strings.Fields(string(r.Data))
	}
	for _, tok := range toks {
		// A member may carry a range operator ("RS-FOO^+"); the set is "RS-FOO".
		tok = prefixPart(tok)
		if routing.IsASN(tok) || checkQueryKey(tok) != nil {
			continue
		}
		if _, err := netip.ParsePrefix(tok); err == nil {
			continue
		}
		n := strings.ToUpper(tok)
		if !p.asked[prefetchKey{sel, n}] {
			p.frontier[n] = true
		}
	}
}

// prefixPart cuts a range operator: "192.0.2.0/24^+" → "192.0.2.0/24".
func prefixPart(s string) string {
	if i := strings.IndexByte(s, '^'); i >= 0 {
		return s[:i]
	}
	return s
}

// setClass is the RPSL class a set name belongs to: "as-set" for "AS-FOO",
// "AS64496:AS-FOO" or "AS64496:AS-FOO:AS64497", "route-set" for "RS-FOO" and
// "AS64496:RS-FOO"; "" for other names. RFC 2622 §5: the set-name components of a
// hierarchical name are all of one type, the others are AS numbers.
func setClass(name string) string {
	for _, part := range strings.Split(strings.ToUpper(name), ":") {
		switch {
		case strings.HasPrefix(part, "AS-"):
			return "as-set"
		case strings.HasPrefix(part, "RS-"):
			return "route-set"
		}
	}
	return ""
}

// existsLocked tells an empty set from a missing one after a "D" reply, which IRRd
// gives for both: "!m<class>,<name>" returns the object when it exists. A server that
// does not answer "!m" leaves the set "not found", as the D said.
func (c *Client) existsLocked(ctx context.Context, sources []string, name string) (bool, error) {
	class := setClass(name)
	if class == "" {
		return false, nil
	}
	reps, err := c.runLenientLocked(ctx, sources, []string{"!m" + class + "," + name}, 1, nil)
	if err != nil {
		return false, err
	}
	return reps[0].Kind == ReplyA, nil
}

// membersFound is membersReply, with "D" checked by existsLocked.
func (c *Client) membersFound(ctx context.Context, sources []string, name string, r Reply) ([]string, bool, error) {
	if r.Kind != ReplyD {
		return membersReply(r)
	}
	ok, err := c.existsLocked(ctx, sources, name)
	if err != nil {
		return nil, false, err
	}
	if ok {
		return []string{}, true, nil
	}
	return nil, false, nil
}

// modesOf returns n copies of m.
func modesOf(n int, m dataMode) []dataMode {
	out := make([]dataMode, n)
	for i := range out {
		out[i] = m
	}
	return out
}
