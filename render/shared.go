package render

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	"github.com/bgpfilter/bgpfilter/policy"
)

// SharedCache lets the documents of one job that hold the same prefix entries (every
// export policy of a generate run announces the same set: the own prefixes plus every
// customer's filter) render those entries once per vendor instead of once per
// document. Without it a run over N customers renders N copies of a set that itself
// grows with N. Entries count as the same when they are the same slice (same backing
// array and length), as policy.ExportDocumentFrom shares them; the cache keeps them
// referenced, so an address cannot be reused for other entries while it lives. Create
// one per job (NewSharedCache) and pass it in Options.Shared; it is safe for
// concurrent use.
type SharedCache struct {
	mu    sync.Mutex
	lines map[sharedKey]*sharedLines
	texts map[sharedTextKey]*sharedText
}

// NewSharedCache returns an empty cache.
func NewSharedCache() *SharedCache {
	return &SharedCache{lines: map[sharedKey]*sharedLines{}, texts: map[sharedTextKey]*sharedText{}}
}

type sharedKey struct {
	entries *policy.Entry
	n       int
}

type sharedLines struct {
	once  sync.Once
	keep  []policy.Entry
	lines []Line
}

type sharedTextKey struct {
	sharedKey
	vendor, template string
	family           int
}

type sharedText struct {
	once sync.Once
	text string
	err  error
}

func keyOf(es []policy.Entry) (sharedKey, bool) {
	if len(es) == 0 {
		return sharedKey{}, false
	}
	return sharedKey{&es[0], len(es)}, true
}

// linesFor returns the template lines of es, computed once per slice.
func (c *SharedCache) linesFor(es []policy.Entry) []Line {
	k, ok := keyOf(es)
	if c == nil || !ok {
		return makeLines(es)
	}
	c.mu.Lock()
	sl := c.lines[k]
	if sl == nil {
		sl = &sharedLines{keep: es}
		c.lines[k] = sl
	}
	c.mu.Unlock()
	sl.once.Do(func() { sl.lines = makeLines(es) })
	return sl.lines
}

func makeLines(es []policy.Entry) []Line {
	lines := make([]Line, len(es))
	for i, e := range es {
		lines[i] = Line{Prefix: e.Prefix.String(), Bits: e.Prefix.Bits(), Min: e.Min, Max: e.Max,
			Exact: e.Exact(), HasGE: e.HasGE(), HasLE: e.HasLE()}
	}
	return lines
}

// sharedPlaceholder stands for the prefix set's name while a shared rendering is made; each
// use replaces it with the document's own name. Names are validated per vendor
// (letters, digits, '_', '-'), so a NUL never occurs in one.
const sharedPlaceholder = "\x00bgpfilter-shared-name\x00"

// shared is the template function `shared NAME DATA`: the output of the template NAME
// for the prefix set DATA, as {{ template NAME DATA }} would print it. With a cache the
// template runs once per vendor and entry slice, with a placeholder for the set's
// name, and every use substitutes its own name; templates must therefore print the
// name only as it is (never transformed).
func (r *Renderer) shared(name string, d *PrefixData) (string, error) {
	if d == nil || d.Filter == nil {
		return "", fmt.Errorf("shared %s: no prefix set", name)
	}
	k, ok := keyOf(d.Filter.Entries)
	if r.cache == nil || !ok {
		var buf bytes.Buffer
		err := r.t.ExecuteTemplate(&buf, name, d)
		return buf.String(), err
	}
	tk := sharedTextKey{sharedKey: k, vendor: r.format, template: name, family: d.Family}
	r.cache.mu.Lock()
	st := r.cache.texts[tk]
	if st == nil {
		st = &sharedText{}
		r.cache.texts[tk] = st
	}
	r.cache.mu.Unlock()
	st.once.Do(func() {
		anon := *d
		anon.Name = sharedPlaceholder
		var buf bytes.Buffer
		st.err = r.t.ExecuteTemplate(&buf, name, &anon)
		st.text = buf.String()
	})
	if st.err != nil {
		return "", st.err
	}
	return strings.ReplaceAll(st.text, sharedPlaceholder, d.Name), nil
}
