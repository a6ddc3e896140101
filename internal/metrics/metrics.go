// Package metrics holds the counters, gauges and histograms of the long-running commands
// (whois-server, flow-audit) and writes them in the Prometheus text exposition format,
// version 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// It replaces the Prometheus client library, which these two commands used only for
// this: that library's package initialisation (default registry with Go and process
// collectors, protobuf descriptors, procfs) ran at every start of the bgpfilter binary
// and cost about 2 ms of CPU, more than bgpq4's whole run for a small list. The format
// is checked against Prometheus's own parser (github.com/prometheus/common/expfmt) in the
// tests, which the binary does not link.
package metrics

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Registry is a set of metric families, written sorted by name.
type Registry struct {
	mu   sync.Mutex
	fams map[string]writer
}

// writer is one registered family (or, for Func, several).
type writer interface {
	write(b *bytes.Buffer)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{fams: make(map[string]writer)} }

// register adds w under name; a name registered twice is a programming error.
func (r *Registry) register(name string, w writer) {
	if !validName(name) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.fams[name]; dup {
		panic(fmt.Sprintf("metrics: %s registered twice", name))
	}
	r.fams[name] = w
}

// WriteTo writes every family in the text format, families sorted by name and the
// samples of a family by label value.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	names := make([]string, 0, len(r.fams))
	for n := range r.fams {
		names = append(names, n)
	}
	slices.Sort(names)
	ws := make([]writer, len(names))
	for i, n := range names {
		ws[i] = r.fams[n]
	}
	r.mu.Unlock()
	var b bytes.Buffer
	for _, f := range ws {
		f.write(&b)
	}
	n, err := w.Write(b.Bytes())
	return int64(n), err
}

// ContentType is the media type of the text format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Handler serves the registry at scrape time.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ContentType)
		r.WriteTo(w)
	})
}

// value is a float64 updated atomically (the format's sample values are floats).
type value struct{ bits atomic.Uint64 }

func (v *value) add(d float64) {
	for {
		old := v.bits.Load()
		if v.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

func (v *value) get() float64 { return math.Float64frombits(v.bits.Load()) }

// Counter only goes up.
type Counter struct{ v value }

// Inc adds 1.
func (c *Counter) Inc() { c.v.add(1) }

// Add adds d, which must not be negative (a negative d is ignored: a counter that went
// down would read as a restart to Prometheus).
func (c *Counter) Add(d float64) {
	if d > 0 {
		c.v.add(d)
	}
}

// Value is the current count.
func (c *Counter) Value() float64 { return c.v.get() }

// Gauge goes up and down.
type Gauge struct{ v value }

// Inc adds 1.
func (g *Gauge) Inc() { g.v.add(1) }

// Dec subtracts 1.
func (g *Gauge) Dec() { g.v.add(-1) }

// Add adds d (negative to subtract).
func (g *Gauge) Add(d float64) { g.v.add(d) }

// Set sets the value.
func (g *Gauge) Set(v float64) { g.v.bits.Store(math.Float64bits(v)) }

// Value is the current value.
func (g *Gauge) Value() float64 { return g.v.get() }

// single is a family of one unlabelled counter or gauge.
type single struct {
	name, help, typ string
	v               *value
}

func (s *single) write(b *bytes.Buffer) {
	header(b, s.name, s.help, s.typ)
	sample(b, s.name, "", "", s.v.get())
}

// NewCounter registers an unlabelled counter.
func (r *Registry) NewCounter(name, help string) *Counter {
	c := &Counter{}
	r.register(name, &single{name, help, "counter", &c.v})
	return c
}

// NewGauge registers an unlabelled gauge.
func (r *Registry) NewGauge(name, help string) *Gauge {
	g := &Gauge{}
	r.register(name, &single{name, help, "gauge", &g.v})
	return g
}

// vec holds the children of a family with one label, created on first use.
type vec[T any] struct {
	mu       sync.RWMutex
	children map[string]*T
}

func (v *vec[T]) get(label string) *T {
	v.mu.RLock()
	c := v.children[label]
	v.mu.RUnlock()
	if c != nil {
		return c
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if c = v.children[label]; c == nil {
		c = new(T)
		v.children[label] = c
	}
	return c
}

// sorted returns the label values and children in label order.
func (v *vec[T]) sorted() ([]string, []*T) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	keys := make([]string, 0, len(v.children))
	for k := range v.children {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	cs := make([]*T, len(keys))
	for i, k := range keys {
		cs[i] = v.children[k]
	}
	return keys, cs
}

// CounterVec is a family of counters with one label.
type CounterVec struct {
	name, help, label string
	vec[Counter]
}

// NewCounterVec registers a counter family labelled by label.
func (r *Registry) NewCounterVec(name, help, label string) *CounterVec {
	mustLabel(label)
	c := &CounterVec{name: name, help: help, label: label, vec: vec[Counter]{children: make(map[string]*Counter)}}
	r.register(name, c)
	return c
}

// WithLabelValues returns the counter for the label value, creating it at 0.
func (c *CounterVec) WithLabelValues(v string) *Counter { return c.get(v) }

func (c *CounterVec) write(b *bytes.Buffer) {
	header(b, c.name, c.help, "counter")
	keys, cs := c.sorted()
	for i, k := range keys {
		sample(b, c.name, c.label, k, cs[i].Value())
	}
}

// Histogram counts observations in cumulative buckets.
type Histogram struct {
	upper  []float64 // set by the family
	counts []atomic.Uint64
	sum    value
	count  atomic.Uint64
	once   sync.Once
}

// Observe records v.
func (h *Histogram) Observe(v float64) {
	i, _ := slices.BinarySearch(h.upper, v) // first bucket with upper bound >= v
	if i < len(h.counts) {
		h.counts[i].Add(1)
	}
	h.sum.add(v)
	h.count.Add(1)
}

// HistogramVec is a family of histograms with one label and shared bucket bounds.
type HistogramVec struct {
	name, help, label string
	upper             []float64
	vec[Histogram]
}

// NewHistogramVec registers a histogram family labelled by label, with the given
// upper bucket bounds (sorted; +Inf is implied).
func (r *Registry) NewHistogramVec(name, help, label string, buckets []float64) *HistogramVec {
	mustLabel(label)
	if !slices.IsSorted(buckets) {
		panic("metrics: histogram buckets not sorted")
	}
	h := &HistogramVec{name: name, help: help, label: label, upper: slices.Clone(buckets),
		vec: vec[Histogram]{children: make(map[string]*Histogram)}}
	r.register(name, h)
	return h
}

// WithLabelValues returns the histogram for the label value, creating it empty.
func (h *HistogramVec) WithLabelValues(v string) *Histogram {
	c := h.get(v)
	c.once.Do(func() {
		c.upper = h.upper
		c.counts = make([]atomic.Uint64, len(h.upper))
	})
	return c
}

func (h *HistogramVec) write(b *bytes.Buffer) {
	header(b, h.name, h.help, "histogram")
	keys, _ := h.sorted()
	for _, k := range keys {
		c := h.WithLabelValues(k)
		var cum uint64
		for j, u := range h.upper {
			cum += c.counts[j].Load()
			bucket(b, h.name, h.label, k, formatFloat(u), cum)
		}
		n := c.count.Load()
		bucket(b, h.name, h.label, k, "+Inf", n)
		sample(b, h.name+"_sum", h.label, k, c.sum.get())
		sample(b, h.name+"_count", h.label, k, float64(n))
	}
}

// Type is a family's type in a Func collector.
type Type string

// The types a Func collector emits.
const (
	TypeCounter Type = "counter"
	TypeGauge   Type = "gauge"
)

// Emitter receives the samples of a Func collector at scrape time.
type Emitter struct {
	fams map[string]*funcFamily
	err  error
}

type funcFamily struct {
	help, label string
	typ         Type
	samples     map[string]float64
}

// Emit records a sample of family name; label is the label name ("" for none) and
// labelValue its value. help, typ and label must be the same for every sample of a
// family.
func (e *Emitter) Emit(name, help string, typ Type, label, labelValue string, v float64) {
	f := e.fams[name]
	if f == nil {
		f = &funcFamily{help: help, label: label, typ: typ, samples: make(map[string]float64)}
		e.fams[name] = f
	}
	if f.help != help || f.label != label || f.typ != typ || !validName(name) || (label != "" && !validName(label)) {
		e.err = fmt.Errorf("metrics: inconsistent family %s", name)
		return
	}
	f.samples[labelValue] = v
}

// funcCollector is a registered Func.
type funcCollector struct {
	fn func(*Emitter)
}

// Func registers fn, called at every scrape to emit families whose values are read
// then (such as counters kept by the flow collector). id names the registration;
// the emitted families are written in name order among themselves.
func (r *Registry) Func(id string, fn func(*Emitter)) {
	r.register(id, &funcCollector{fn})
}

func (c *funcCollector) write(b *bytes.Buffer) {
	e := &Emitter{fams: make(map[string]*funcFamily)}
	c.fn(e)
	if e.err != nil {
		b.WriteString("# " + e.err.Error() + "\n")
		return
	}
	names := make([]string, 0, len(e.fams))
	for n := range e.fams {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		f := e.fams[n]
		header(b, n, f.help, string(f.typ))
		keys := make([]string, 0, len(f.samples))
		for k := range f.samples {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			sample(b, n, f.label, k, f.samples[k])
		}
	}
}

func header(b *bytes.Buffer, name, help, typ string) {
	b.WriteString("# HELP ")
	b.WriteString(name)
	b.WriteByte(' ')
	for i := 0; i < len(help); i++ {
		switch help[i] {
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(help[i])
		}
	}
	b.WriteString("\n# TYPE ")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(typ)
	b.WriteByte('\n')
}

func sample(b *bytes.Buffer, name, label, lv string, v float64) {
	b.WriteString(name)
	if label != "" {
		b.WriteByte('{')
		labelPair(b, label, lv)
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(formatFloat(v))
	b.WriteByte('\n')
}

func bucket(b *bytes.Buffer, name, label, lv, le string, n uint64) {
	b.WriteString(name)
	b.WriteString("_bucket{")
	if label != "" {
		labelPair(b, label, lv)
		b.WriteByte(',')
	}
	labelPair(b, "le", le)
	b.WriteString("} ")
	b.WriteString(strconv.FormatUint(n, 10))
	b.WriteByte('\n')
}

// labelPair writes name="value" with the format's escapes (backslash, quote, newline).
func labelPair(b *bytes.Buffer, name, v string) {
	b.WriteString(name)
	b.WriteString(`="`)
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(v[i])
		}
	}
	b.WriteByte('"')
}

// formatFloat writes v as Go's shortest representation, with the format's spellings of
// the infinities and NaN.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// validName reports whether s is a metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*).
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func mustLabel(l string) {
	if !validName(l) || strings.HasPrefix(l, "__") || l == "le" {
		panic(fmt.Sprintf("metrics: invalid label name %q", l))
	}
}
