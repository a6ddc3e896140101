package audit

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/bgpfilter/bgpfilter/flow"
)

// Collector decodes datagrams and audits their records. It is safe for concurrent use
// (one lock: decoding and counting are cheap next to a report).
type Collector struct {
	mu        sync.Mutex
	names     []string
	m         *Matcher
	exporters map[netip.Addr]*ifMap
	dec       *flow.Decoder
	lim       Limits
	recs      []flow.Record

	start    time.Time
	interval []Counters
	total    []Counters
	off      map[offKey]*Counters
	cur      tally // interval
	all      tally // since start
	unknown  map[netip.Addr]struct{}
	lastDec  flow.Stats
	lastExp  *ifMap
	lastAddr netip.Addr
}

// tally is what is counted besides the customers.
type tally struct {
	unmapped         uint64
	unknownDatagrams uint64
	offendersDropped uint64
}

// NewCollector builds a collector for customers. Only the customers' exporters are
// accepted: datagrams from any other address are counted as unknown and not decoded, so
// spoofed UDP cannot create templates.
func NewCollector(customers []Customer, lim Limits, fl flow.Limits, now time.Time) (*Collector, error) {
	seen := map[string]bool{}
	for _, cu := range customers {
		if cu.Name == "" || seen[cu.Name] {
			return nil, fmt.Errorf("audit: customer name %q empty or given twice", cu.Name)
		}
		seen[cu.Name] = true
	}
	exp, err := mapping(customers)
	if err != nil {
		return nil, err
	}
	c := &Collector{
		m: NewMatcher(customers), exporters: exp, lim: lim.withDefaults(), start: now,
		interval: make([]Counters, len(customers)), total: make([]Counters, len(customers)),
		off: map[offKey]*Counters{}, unknown: map[netip.Addr]struct{}{},
	}
	for _, cu := range customers {
		c.names = append(c.names, cu.Name)
	}
	c.dec = flow.NewDecoder(fl, func(a netip.Addr) bool {
		if _, ok := c.exporters[a]; ok {
			return true
		}
		if len(c.unknown) < c.lim.MaxUnknownExporters {
			c.unknown[a] = struct{}{}
		}
		return false
	})
	return c, nil
}

// Prefixes returns the number of permitted prefixes loaded.
func (c *Collector) Prefixes() int { return c.m.Prefixes() }

// HandleDatagram decodes one datagram received from src and counts its records. The
// error (malformed, unknown exporter) is informational: it is already counted.
func (c *Collector) HandleDatagram(src netip.AddrPort, b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	c.recs, err = c.dec.Decode(src, b, c.recs[:0])
	if errors.Is(err, flow.ErrUnknownExporter) {
		c.cur.unknownDatagrams++
		c.all.unknownDatagrams++
	}
	c.classify(c.recs)
	return err
}

// classify counts records; the caller holds the lock.
func (c *Collector) classify(recs []flow.Record) {
	for i := range recs {
		r := &recs[i]
		x := c.lastExp
		if x == nil || r.Exporter != c.lastAddr {
			x = c.exporters[r.Exporter]
			c.lastExp, c.lastAddr = x, r.Exporter
		}
		if x == nil {
			continue // cannot happen: the decoder's allow-list refused it
		}
		ci := x.customerOf(r.InIf)
		if ci < 0 {
			c.cur.unmapped++
			c.all.unmapped++
			continue
		}
		pk, by := scaled(r.Packets, r.SamplingRate), scaled(r.Bytes, r.SamplingRate)
		spoofed := !c.m.Permitted(uint32(ci), r.Src)
		for _, ct := range [2]*Counters{&c.interval[ci], &c.total[ci]} {
			ct.Flows++
			ct.Packets += pk
			ct.Bytes += by
			if spoofed {
				ct.SpoofedFlows++
				ct.SpoofedPackets += pk
				ct.SpoofedBytes += by
			}
		}
		if !spoofed {
			continue
		}
		k := offenderOf(r.Src, uint32(ci))
		o := c.off[k]
		if o == nil {
			if len(c.off) >= c.lim.MaxOffenders {
				c.cur.offendersDropped++
				c.all.offendersDropped++
				continue
			}
			o = &Counters{}
			c.off[k] = o
		}
		o.SpoofedFlows++
		o.SpoofedPackets += pk
		o.SpoofedBytes += by
	}
}

// Report is the JSON report of one interval (flow-audit --report / --report-json).
type Report struct {
	Start     time.Time        `json:"start"`
	End       time.Time        `json:"end"`
	Customers []CustomerReport `json:"customers"`
	// UnmappedFlows are flows from a configured exporter on an interface no customer
	// has (uplinks, peers): not audited.
	UnmappedFlows    uint64            `json:"unmapped_flows"`
	UnknownExporters UnknownExporter   `json:"unknown_exporters"`
	Malformed        uint64            `json:"malformed_datagrams"`
	Datagrams        map[string]uint64 `json:"datagrams"`
	Records          uint64            `json:"records"`
	TemplateNotFound uint64            `json:"template_not_found"`
	TemplatesRefused uint64            `json:"templates_refused"`
	OffendersDropped uint64            `json:"offenders_dropped"`
	Panics           uint64            `json:"decoder_panics"`
}

// UnknownExporter counts datagrams from addresses that are no customer's exporter.
type UnknownExporter struct {
	Datagrams uint64   `json:"datagrams"`
	Addresses []string `json:"addresses"` // at most Limits.MaxUnknownExporters
}

// CustomerReport is one customer's counters in a report.
type CustomerReport struct {
	Name string `json:"name"`
	Counters
	TopOffenders []Offender `json:"top_offenders"`
}

// Offender is a source /24 or /48 that sent spoofed traffic through a customer's
// interfaces.
type Offender struct {
	Prefix  string `json:"prefix"`
	Flows   uint64 `json:"spoofed_flows"`
	Packets uint64 `json:"spoofed_packets"`
	Bytes   uint64 `json:"spoofed_bytes"`
}

// Report returns the counters since the last report (or the start) and starts a new
// interval.
func (c *Collector) Report(now time.Time) *Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.dec.Stats()
	prev := c.lastDec
	r := &Report{
		Start: c.start.UTC(), End: now.UTC(), UnmappedFlows: c.cur.unmapped,
		UnknownExporters: UnknownExporter{Datagrams: c.cur.unknownDatagrams, Addresses: []string{}},
		Malformed:        st.Malformed - prev.Malformed, Records: st.Records - prev.Records,
		TemplateNotFound: st.TemplateNotFound - prev.TemplateNotFound,
		TemplatesRefused: st.TemplatesRefused - prev.TemplatesRefused,
		OffendersDropped: c.cur.offendersDropped, Panics: st.Panics - prev.Panics,
		Datagrams: map[string]uint64{},
	}
	for p := flow.ProtoUnknown; p <= flow.ProtoSFlowV5; p++ {
		r.Datagrams[p.String()] = st.Datagrams[p] - prev.Datagrams[p]
	}
	for a := range c.unknown {
		r.UnknownExporters.Addresses = append(r.UnknownExporters.Addresses, a.String())
	}
	sort.Strings(r.UnknownExporters.Addresses)
	per := make([][]Offender, len(c.names))
	for k, o := range c.off {
		per[k.cust] = append(per[k.cust], Offender{Prefix: k.prefix().String(), Flows: o.SpoofedFlows, Packets: o.SpoofedPackets, Bytes: o.SpoofedBytes})
	}
	for i, n := range c.names {
		top := per[i]
		sort.Slice(top, func(a, b int) bool {
			if top[a].Packets != top[b].Packets {
				return top[a].Packets > top[b].Packets
			}
			return top[a].Prefix < top[b].Prefix
		})
		if len(top) > c.lim.TopOffenders {
			top = top[:c.lim.TopOffenders]
		}
		if top == nil {
			top = []Offender{}
		}
		r.Customers = append(r.Customers, CustomerReport{Name: n, Counters: c.interval[i], TopOffenders: top})
	}
	sort.Slice(r.Customers, func(a, b int) bool { return r.Customers[a].Name < r.Customers[b].Name })
	// new interval
	c.start, c.lastDec, c.cur = now, st, tally{}
	clear(c.interval)
	clear(c.off)
	clear(c.unknown)
	return r
}

// Totals are the counters since the collector started (for the Prometheus endpoint).
type Totals struct {
	Customers        map[string]Counters
	Decoder          flow.Stats
	UnmappedFlows    uint64
	UnknownDatagrams uint64
	OffendersDropped uint64
	Sessions         int
	Templates        int
}

// Totals returns the cumulative counters.
func (c *Collector) Totals() Totals {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := Totals{Customers: map[string]Counters{}, Decoder: c.dec.Stats(), UnmappedFlows: c.all.unmapped,
		UnknownDatagrams: c.all.unknownDatagrams, OffendersDropped: c.all.offendersDropped,
		Sessions: c.dec.Sessions(), Templates: c.dec.TemplateCount()}
	for i, n := range c.names {
		t.Customers[n] = c.total[i]
	}
	return t
}

func protoName(i int) string { return flow.Protocol(i).String() }
