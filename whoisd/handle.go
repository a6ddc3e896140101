package whoisd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/irr/rpsl"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/whois"
)

// errTooMany is an answer over Options.MaxObjects.
var errTooMany = errors.New("too many objects")

// handle answers one query line into the output buffer. keep is false when the
// connection must close after it ("!q", or any query outside multiple-command mode);
// err is a write error (the connection is then dropped).
func (c *conn) handle(line string) (keep bool, err error) {
	start := time.Now()
	c.setWriteDeadline()
	q, perr := whois.ParseQuery([]byte(line))
	if c.s.opt.DisableA && strings.HasPrefix(strings.TrimSpace(line), "!a") {
		q, perr = whois.Query{}, &whois.QueryError{Msg: "Unrecognised command: a"}
	}
	kind := q.Kind
	failed := false
	defer func() {
		l := kind.String()
		c.s.m.queries.WithLabelValues(l).Inc()
		c.s.m.duration.WithLabelValues(l).Observe(time.Since(start).Seconds())
		if failed {
			c.s.m.errors.WithLabelValues(l).Inc()
		}
	}()
	if perr != nil {
		kind, failed = whois.KindInvalid, true
		var qe *whois.QueryError
		switch {
		case errors.As(perr, &qe):
			c.log.Debug("whois-server: refused query", "query", clip(line), "err", qe.Msg)
			return c.persistent, c.replyError(qe.Text, qe.Msg)
		case errors.Is(perr, whois.ErrEmptyQuery):
			return true, nil
		default:
			return c.persistent, c.replyError(false, perr.Error())
		}
	}
	if q.Kind == whois.KindQuit {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.s.opt.QueryTimeout)
	defer cancel()
	failed, err = c.answer(ctx, q)
	return c.persistent, err
}

// answer runs one parsed query. failed reports an error answer (F or "%% ERROR").
func (c *conn) answer(ctx context.Context, q whois.Query) (failed bool, err error) {
	w := c.bw
	switch q.Kind {
	case whois.KindPersistent:
		c.persistent = true
		return false, nil
	case whois.KindClientName:
		c.log.Debug("whois-server: client identified", "name", clip(q.Name))
		return false, whois.WriteC(w)
	case whois.KindVersion:
		return false, whois.WriteA(w, []byte(c.s.opt.Version))
	case whois.KindTimeout:
		// The server's IdleTimeout is an upper bound: "!t" may only lower it.
		c.idle.Store(int64(min(time.Duration(q.Seconds)*time.Second, c.s.opt.IdleTimeout)))
		return false, whois.WriteC(w)
	case whois.KindSourcesList:
		srcs, err := c.selected(ctx)
		if err != nil {
			return true, c.internal(q, err)
		}
		if len(srcs) == 0 {
			return false, whois.WriteC(w)
		}
		return false, whois.WriteA(w, []byte(strings.Join(srcs, ",")))
	case whois.KindSources:
		if msg, err := c.selectSources(ctx, q.Sources); msg != "" {
			return true, c.replyError(false, msg)
		} else if err != nil {
			return true, c.internal(q, err)
		}
		return false, whois.WriteC(w)
	case whois.KindMembers:
		members, found, err := c.s.b.Members(ctx, c.sources, q.Name, q.Recursive)
		if err != nil {
			return true, c.internal(q, err)
		}
		if !found || len(members) == 0 {
			return false, whois.WriteD(w)
		}
		return false, writeStrings(w, members)
	case whois.KindRoutes:
		res, err := c.s.b.Routes(ctx, c.sources, []routing.ASN{q.ASN}, q.Family == whois.FamilyV6)
		if err == nil && len(res) != 1 {
			err = fmt.Errorf("backend answered %d route lists for one ASN", len(res))
		}
		if err != nil {
			return true, c.internal(q, err)
		}
		return false, writePrefixes(w, res[0], nil)
	case whois.KindSetPrefixes:
		var v4, v6 []netip.Prefix
		var found4, found6 bool
		var err error
		if q.Family != whois.FamilyV6 {
			v4, found4, err = c.s.b.SetPrefixes(ctx, c.sources, q.Name, false)
		}
		if err == nil && q.Family != whois.FamilyV4 {
			v6, found6, err = c.s.b.SetPrefixes(ctx, c.sources, q.Name, true)
		}
		if err != nil {
			return true, c.internal(q, err)
		}
		if !found4 && !found6 {
			return false, whois.WriteD(w)
		}
		return false, writePrefixes(w, v4, v6)
	case whois.KindRouteSearch:
		return c.routeSearch(ctx, q)
	case whois.KindExactKey:
		var objs []*rpsl.Object
		for _, o := range c.s.b.Lookup(c.sources, q.Name) {
			if strings.EqualFold(o.Class, q.Class) {
				objs = append(objs, o) // IRRd answers the first match only
				break
			}
		}
		return false, c.replyObjects(false, objects(objs))
	case whois.KindText:
		return c.textSearch(ctx, q)
	}
	return true, c.replyError(q.Text, "Unrecognised command")
}

// selected returns the connection's sources, or the backend's default list.
func (c *conn) selected(ctx context.Context) ([]string, error) {
	if c.sources != nil {
		return c.sources, nil
	}
	return c.s.b.Sources(ctx)
}

// selectSources checks and selects a source list ("!s", "-s"). msg is IRRd's error
// text when a source is unknown.
func (c *conn) selectSources(ctx context.Context, list []string) (msg string, err error) {
	if err := c.s.b.CheckSources(ctx, list); err != nil {
		if errors.Is(err, irr.ErrUnknownSource) {
			return whois.MsgSourcesUnavailable, nil
		}
		return "", err
	}
	c.sources = append([]string(nil), list...)
	return "", nil
}

func (c *conn) routeSearch(ctx context.Context, q whois.Query) (failed bool, err error) {
	m := map[whois.RouteMatch]irr.RouteMatch{
		whois.MatchExact:   irr.Exact,
		whois.MatchOrigins: irr.Exact,
		whois.MatchLessOne: irr.OneLessSpecific,
		whois.MatchLessAll: irr.AllLessSpecific,
		whois.MatchMoreAll: irr.AllMoreSpecific,
	}[q.Match]
	routes := c.s.b.FindRoutes(c.sources, q.Prefix, m)
	if q.Match == whois.MatchOrigins {
		var origins []string
		seen := make(map[routing.ASN]bool)
		for _, r := range routes {
			if !seen[r.Origin] {
				seen[r.Origin] = true
				origins = append(origins, r.Origin.String())
			}
		}
		if len(origins) == 0 {
			return false, whois.WriteD(c.bw)
		}
		return false, writeStrings(c.bw, origins)
	}
	objs, err := c.routeObjects(routes, nil)
	if errors.Is(err, errTooMany) {
		return true, c.replyError(q.Text, err.Error())
	}
	return false, c.replyObjects(q.Text, objs)
}

// objList is an object answer: n objects, fetched one at a time by get. The index
// parses an object from its stored text on every lookup, so holding the parsed
// objects of a large answer would hold the whole answer; an objList holds only
// what it needs to fetch them again.
type objList struct {
	n   int
	get func(i int) *rpsl.Object
}

func objects(objs []*rpsl.Object) objList {
	return objList{len(objs), func(i int) *rpsl.Object { return objs[i] }}
}

// routeObjects returns the route objects of routes whose class is in types (all
// when empty), at most MaxObjects.
func (c *conn) routeObjects(routes []irr.Route, types []string) (objList, error) {
	if len(routes) > c.s.opt.MaxObjects {
		return objList{}, fmt.Errorf("%w: %d route objects match, the limit is %d; narrow the query", errTooMany, len(routes), c.s.opt.MaxObjects)
	}
	find := func(r irr.Route) *rpsl.Object {
		for _, o := range c.s.b.Lookup([]string{r.Source}, r.Prefix.String()) {
			if o.Class != "route" && o.Class != "route6" {
				continue
			}
			if hasOrigin(o, r.Origin) {
				return o
			}
		}
		return nil
	}
	var keep []int32 // indexes into routes
	for i, r := range routes {
		// A multi-origin object is indexed under each origin: list it once, at its
		// lowest origin.
		if o := find(r); o != nil && lowestOrigin(o) == r.Origin && (len(types) == 0 || containsFold(types, o.Class)) {
			keep = append(keep, int32(i))
		}
	}
	return objList{len(keep), func(i int) *rpsl.Object { return find(routes[keep[i]]) }}, nil
}

// lowestOrigin returns the lowest ASN among the route object's origin attributes.
func lowestOrigin(o *rpsl.Object) routing.ASN {
	low, ok := routing.ASN(0), false
	for _, v := range o.GetAll("origin") {
		if a, err := routing.ParseASN(strings.TrimSpace(v)); err == nil && (!ok || a < low) {
			low, ok = a, true
		}
	}
	return low
}

// hasOrigin reports whether one of the route object's origin attributes is a (an
// object may have several: see irr's multi-origin route objects).
func hasOrigin(o *rpsl.Object, a routing.ASN) bool {
	for _, v := range o.GetAll("origin") {
		if b, err := routing.ParseASN(strings.TrimSpace(v)); err == nil && b == a {
			return true
		}
	}
	return false
}

// textSearch answers a RIPE-style query: flags change the connection's state as in
// IRRd (-k, -s, -a), then the key is looked up.
func (c *conn) textSearch(ctx context.Context, q whois.Query) (failed bool, err error) {
	if q.Persistent {
		c.persistent = true
	}
	if q.AllSources {
		c.sources = nil
	}
	if q.Sources != nil {
		if msg, err := c.selectSources(ctx, q.Sources); msg != "" {
			return true, c.replyError(true, msg)
		} else if err != nil {
			return true, c.internal(q, err)
		}
	}
	if q.Name == "" {
		return false, c.replyObjects(true, objList{})
	}
	var objs []*rpsl.Object
	if p, ok := searchPrefix(q.Name); ok {
		// A prefix or address finds the most specific route objects covering it,
		// the exact prefix included.
		routes := c.s.b.FindRoutes(c.sources, p, irr.AllLessSpecific)
		best := -1
		for _, r := range routes {
			best = max(best, r.Prefix.Bits())
		}
		var top []irr.Route
		for _, r := range routes {
			if r.Prefix.Bits() == best {
				top = append(top, r)
			}
		}
		objs, err := c.routeObjects(top, q.ObjectTypes)
		if err != nil {
			return true, c.replyError(true, err.Error())
		}
		return false, c.replyObjects(true, objs)
	}
	objs = c.s.b.Lookup(c.sources, q.Name)
	if len(objs) > c.s.opt.MaxObjects {
		return true, c.replyError(true, fmt.Sprintf("%v: %d objects match", errTooMany, len(objs)))
	}
	return false, c.replyObjects(true, objects(filterClasses(objs, q.ObjectTypes)))
}

func searchPrefix(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil && p == p.Masked() {
		return p, true
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}

// filterClasses keeps the objects whose class is in types (all when empty).
func filterClasses(objs []*rpsl.Object, types []string) []*rpsl.Object {
	if len(types) == 0 {
		return objs
	}
	var out []*rpsl.Object
	for _, o := range objs {
		if containsFold(types, o.Class) {
			out = append(out, o)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// authHash matches a password hash in object text (mntner "auth:" lines). IRRd never
// serves hashes: it replaces everything after the scheme with a dummy value, and so
// do we, so that a mirrored dump that still holds hashes does not leak them.
// It is compiled on first use, not at every start of the binary.
var authHash = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)(BCRYPT-PW|MD5-PW|CRYPT-PW)[^\n]+`) })

// RemoveAuthHashes returns text with every password hash replaced as IRRd does
// ("MD5-PW DummyValue  # Filtered for security").
func RemoveAuthHashes(text string) string {
	if !strings.Contains(strings.ToUpper(text), "-PW") {
		return text
	}
	return authHash().ReplaceAllString(text, "${1} DummyValue  # Filtered for security")
}

// replyObjects writes objects: in IRRd mode as one A reply (D when empty), in RIPE
// mode as IRRd does (objects separated by a blank line, then two more newlines, or
// IRRd's "No entries found" comment). The text is rendered one object at a time into
// the connection's scratch buffer, twice in IRRd mode (once for the A length, once to
// write), so a stalled client holds the write buffer and one object, never the whole
// answer (up to MaxObjects objects of up to 4 MiB each).
func (c *conn) replyObjects(text bool, objs objList) error {
	defer c.trimScratch()
	if objs.n == 0 {
		if text {
			_, err := io.WriteString(c.bw, whois.MsgNoEntries+"\n\n\n")
			return err
		}
		return whois.WriteD(c.bw)
	}
	// body writes the objects separated by newlines; IRRd strips the newlines after
	// the last one.
	body := func(w io.Writer) error {
		for i := range objs.n {
			o := objs.get(i)
			if o == nil {
				return fmt.Errorf("object %d of %d of the answer vanished", i+1, objs.n)
			}
			b := c.objectText(o)
			if i > 0 {
				if _, err := io.WriteString(w, "\n"); err != nil {
					return err
				}
			}
			if i == objs.n-1 {
				b = bytes.TrimRight(b, "\r\n")
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	}
	if text {
		if err := body(c.bw); err != nil {
			return err
		}
		_, err := io.WriteString(c.bw, "\n\n\n")
		return err
	}
	var n countWriter
	if err := body(&n); err != nil {
		return err
	}
	return whois.WriteAStream(c.bw, int(n), body)
}

// objectText renders o as served (password hashes removed) into the connection's
// scratch buffer; the result is valid until the next call.
func (c *conn) objectText(o *rpsl.Object) []byte {
	c.scratch = o.AppendText(c.scratch[:0])
	if bytes.Contains(bytes.ToUpper(c.scratch), []byte("-PW")) {
		c.scratch = append(c.scratch[:0], RemoveAuthHashes(string(c.scratch))...)
	}
	return c.scratch
}

// maxScratch is the scratch buffer a connection keeps between answers; a larger one
// (a huge object) is given back after its answer.
const maxScratch = 64 << 10

func (c *conn) trimScratch() {
	if cap(c.scratch) > maxScratch {
		c.scratch = nil
	}
}

// countWriter counts the bytes written to it.
type countWriter int

func (n *countWriter) Write(p []byte) (int, error) {
	*n += countWriter(len(p))
	return len(p), nil
}

// replyError writes an error answer: "F <msg>" or RIPE-style "%% ERROR: <msg>".
func (c *conn) replyError(text bool, msg string) error {
	if text {
		_, err := io.WriteString(c.bw, "%% ERROR: "+whois.SanitizeLine(msg, whois.MaxErrorLen)+"\n\n\n")
		return err
	}
	return whois.WriteF(c.bw, msg)
}

// internal logs a backend failure and answers IRRd's internal-error message.
func (c *conn) internal(q whois.Query, err error) error {
	c.log.Warn("whois-server: query failed", "kind", q.Kind.String(), "name", clip(q.Name), "err", err)
	return c.replyError(q.Text, whois.MsgInternal)
}

// writeStrings writes items separated by spaces as one A reply (D when empty),
// without joining them in memory first.
func writeStrings(w io.Writer, items []string) error {
	if len(items) == 0 {
		return whois.WriteD(w)
	}
	n := len(items) - 1
	for _, s := range items {
		n += len(s)
	}
	return whois.WriteAStream(w, n, func(w io.Writer) error {
		for i, s := range items {
			if i > 0 {
				if _, err := io.WriteString(w, " "); err != nil {
					return err
				}
			}
			if _, err := io.WriteString(w, s); err != nil {
				return err
			}
		}
		return nil
	})
}

// writePrefixes writes the prefixes of a and then b separated by spaces as one A
// reply (D when both are empty), formatting each prefix twice instead of holding
// the whole answer in memory.
func writePrefixes(w io.Writer, a, b []netip.Prefix) error {
	if len(a)+len(b) == 0 {
		return whois.WriteD(w)
	}
	var buf [64]byte
	n := len(a) + len(b) - 1
	for _, list := range [2][]netip.Prefix{a, b} {
		for _, p := range list {
			n += len(p.AppendTo(buf[:0]))
		}
	}
	return whois.WriteAStream(w, n, func(w io.Writer) error {
		first := true
		for _, list := range [2][]netip.Prefix{a, b} {
			for _, p := range list {
				out := buf[:0]
				if !first {
					out = append(out, ' ')
				}
				first = false
				if _, err := w.Write(p.AppendTo(out)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// clip shortens client-supplied text for a log line.
func clip(s string) string {
	if len(s) > 128 {
		return s[:128] + "…(" + strconv.Itoa(len(s)) + " bytes)"
	}
	return s
}
