// Package flow decodes flow-export datagrams (NetFlow v5, NetFlow v9, IPFIX, sFlow v5)
// into the few fields a source-address audit needs: exporter, input interface, source
// address, packets, bytes and sampling rate.
//
// Templates, options templates, NetFlow v5 and sFlow v5 are parsed with the decoders of
// github.com/netsampler/goflow2/v2, each behind a bounds pre-check and a recover, because
// those decoders can be driven into unbounded allocation or endless loops by crafted
// datagrams (zero-size templates, uncapped expanded sFlow record counts, NetFlow v5
// counts larger than the datagram). v9/IPFIX data records are read through a template
// compiled into field offsets: goflow2's data-set decoder allocates an interface value per
// field (515 allocations for a 21-record datagram, about 200k records/s on one core here),
// which cannot reach the audit's 1M records/s; the differential test in this package
// checks every record of the shared captures against goflow2's full decode.
//
// Every count the decoder keeps (sessions, templates, samplers) is capped; a Decoder is
// not safe for concurrent use.
package flow

import (
	"fmt"
	"net/netip"
)

// Protocol is the export protocol of a datagram.
type Protocol uint8

// The protocols a Decoder understands. The zero value is ProtoUnknown.
const (
	ProtoUnknown Protocol = iota
	ProtoNetFlowV5
	ProtoNetFlowV9
	ProtoIPFIX
	ProtoSFlowV5
)

func (p Protocol) String() string {
	switch p {
	case ProtoNetFlowV5:
		return "netflow_v5"
	case ProtoNetFlowV9:
		return "netflow_v9"
	case ProtoIPFIX:
		return "ipfix"
	case ProtoSFlowV5:
		return "sflow_v5"
	}
	return "unknown"
}

// Record is one flow (NetFlow/IPFIX data record) or one sampled packet (sFlow flow
// sample) as the audit sees it. Packets and Bytes are as exported, not yet multiplied by
// SamplingRate; SamplingRate 0 means the exporter has not said (no options record yet).
type Record struct {
	Exporter     netip.Addr // UDP source address (NetFlow/IPFIX) or sFlow agent address
	Src          netip.Addr // source address of the flow, IPv4-mapped addresses unmapped
	InIf         uint32     // input interface index (SNMP ifIndex); 0 if not exported
	Packets      uint64
	Bytes        uint64
	SamplingRate uint32
	Proto        Protocol
}

// Limits bound the state a Decoder keeps for untrusted exporters. Zero fields take the
// defaults of DefaultLimits.
type Limits struct {
	// MaxSessions caps the exporter transport sessions (address and UDP port) whose
	// templates are kept; the least recently seen one is dropped when a new one arrives.
	MaxSessions int
	// MaxTemplates caps the templates (data and options) per session, over all
	// observation domains; further new templates are refused and counted.
	MaxTemplates int
	// MaxFields caps the fields of one template (after zero-length fields are dropped).
	MaxFields int
	// MaxSamplers caps the sampler/selector ids remembered per session.
	MaxSamplers int
}

// DefaultLimits are the caps README documents.
var DefaultLimits = Limits{MaxSessions: 4096, MaxTemplates: 1024, MaxFields: 256, MaxSamplers: 256}

func (l Limits) withDefaults() Limits {
	if l.MaxSessions <= 0 {
		l.MaxSessions = DefaultLimits.MaxSessions
	}
	if l.MaxTemplates <= 0 {
		l.MaxTemplates = DefaultLimits.MaxTemplates
	}
	if l.MaxFields <= 0 {
		l.MaxFields = DefaultLimits.MaxFields
	}
	if l.MaxSamplers <= 0 {
		l.MaxSamplers = DefaultLimits.MaxSamplers
	}
	return l
}

// Stats counts what a Decoder saw. All counters only grow.
type Stats struct {
	Datagrams        [5]uint64 // by Protocol (index ProtoUnknown: unrecognised version)
	Records          uint64    // records emitted
	Malformed        uint64    // datagrams refused or cut short as malformed
	UnknownExporter  uint64    // datagrams refused by the exporter allow-list
	TemplateNotFound uint64    // data sets whose template has not arrived (normal after a restart)
	Templates        uint64    // templates and options templates accepted
	TemplatesRefused uint64    // templates refused (over MaxTemplates/MaxFields, zero size, bad ids)
	Withdrawals      uint64    // IPFIX template withdrawals applied
	SessionsEvicted  uint64    // sessions dropped because MaxSessions was reached
	Panics           uint64    // decoder panics recovered (each also counts as Malformed)
}

// MalformedError says why a datagram was refused; Decode returns it wrapped with the
// exporter and protocol.
type MalformedError struct {
	Proto  Protocol
	Reason string
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("malformed %s datagram: %s", e.Proto, e.Reason)
}

func malformed(p Protocol, format string, args ...any) error {
	return &MalformedError{Proto: p, Reason: fmt.Sprintf(format, args...)}
}
