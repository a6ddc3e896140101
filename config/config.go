// Package config reads bgpfilter's YAML configuration file: the operator's identity,
// the IRR and RPKI sources, policy defaults, and the customers (generate, explain, SAV
// and the flow audit) or route-server members (route-server) with their per-session
// settings. Load validates every key and value and fills in every default, so that a
// File's consumers never merge defaults themselves; (*File).Spec turns a customer or
// member into the policy.SessionSpec the policy builder takes.
//
// The package reads the config file and nothing else: IRR, RPKI and PeeringDB specs
// are returned as written (relative paths resolved against the config file's
// directory) for package pipeline to open.
package config

import (
	"errors"
	"net/netip"

	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// ErrInvalid is wrapped by every error about the config's content (unknown key, bad
// value, missing key); callers map it to the usage exit code (1).
var ErrInvalid = errors.New("invalid config")

// MaxNameLength is the longest customer or member name: with the longest suffix
// ("_BOGON_ASNS") the object names stay within every vendor's limit.
const MaxNameLength = 40

// Targets are the vendor targets a config may name.
var Targets = []string{"junos", "iosxr", "bird", "frr"}

// File is a loaded, validated config.
type File struct {
	// Path is the file as given to Load; Dir its directory (relative paths in IRR,
	// RPKI and PeeringDB were resolved against it).
	Path string
	Dir  string

	// LocalAS and RouterID are the operator's (required with customers; RouterID
	// with any customer session).
	LocalAS  routing.ASN
	RouterID netip.Addr
	// IRR are the IRR specs in priority order, as --irr takes them (whois://HOST[:PORT],
	// an RPSL file, a .gz file or a directory). Empty: the command's default.
	IRR []string
	// Sources are the IRR source names in priority order (--sources).
	Sources []string
	// RPKI is the VRP spec as --rpki takes it (a JSON/CSV file or rtr://HOST:PORT);
	// empty: no RPKI data at generation time.
	RPKI string
	// RTRCache, when valid, is the RTR cache the routers validate against at run time.
	RTRCache netip.AddrPort
	// PeeringDB are PeeringDB API "net" pages (JSON, optionally .gz) to take AS-SETs
	// and max-prefix limits from when a customer gives none (see ApplyPeeringDB).
	PeeringDB []string

	// Self is the operator's own address space: it feeds every export policy.
	Self Self
	// Defaults are the policy settings of every customer and member that does not
	// override them, built-in defaults filled in.
	Defaults Knobs
	// Customers, in config order.
	Customers []Customer

	// RS is the route-server section (issue 9); nil when absent.
	RS *RouteServer
	// Members are the route-server members (issue 9), in config order.
	Members []Member
}

// Self is the config key self: the operator's AS-SETs and/or literal prefixes.
type Self struct {
	ASSets   []string
	Prefixes []routing.PrefixRange
}

// PrefixLengths are the prefix-length windows of both families.
type PrefixLengths struct {
	IPv4, IPv6 policy.LengthBounds
}

// MaxPrefixes are max-prefix limits of both families (0: no limit) and the action.
type MaxPrefixes struct {
	IPv4, IPv6 int
	Action     policy.MaxPrefixAction
}

// Bogons is the config key bogons: true, false, or a mapping that switches the two
// lists separately and removes documentation ASNs and prefixes (fixtures) from them.
type Bogons struct {
	ASNs, Prefixes bool
	ExceptASNs     []policy.ASNRange
	ExceptPrefixes []netip.Prefix
}

// Knobs are the policy settings of config key defaults, which every customer and
// member (under overrides) may set again. In a File every field holds the effective
// value: the built-in default, then defaults, then the customer's own.
type Knobs struct {
	// Targets are the vendors to render (default: all of Targets).
	Targets []string
	// PrefixLength is the prefix-length rule's window (default 8-24, 16-48).
	PrefixLength PrefixLengths
	// MaxLength drops route objects longer than this per family (bgpq4 -m); 0 means
	// the PrefixLength maximum, which is the default.
	MaxLength4, MaxLength6 int
	// AllowMoreSpecifics makes every filter entry accept its more-specifics up to the
	// PrefixLength maximum (bgpq4 -R).
	AllowMoreSpecifics bool
	// MaxASPathLength is the as-path-length limit (default 32).
	MaxASPathLength int
	// RPKIPolicy combines IRR with RPKI at generation time (default drop-invalid).
	RPKIPolicy rpki.Policy
	// Peerlock is the peerlock list: PeerlockMode "default" (policy.DefaultPeerlock),
	// "off" (empty) or "list" (the config's ASNs).
	PeerlockMode string
	Peerlock     []policy.ASNRange
	// Bogons (default: both lists on, no exceptions).
	Bogons Bogons
	// ShrinkGuard is the share (0..1) of a filter's entries a run may lose before
	// generate refuses to replace it; 1 means off. Default 0.2.
	ShrinkGuard float64
	// OriginBinding pairs prefixes with their origins (default false).
	OriginBinding bool
	// MaxPrefix holds the limits and action (default: no limit, teardown).
	MaxPrefix MaxPrefixes
	// Rules holds every switchable rule: false when the config switched it off.
	Rules map[policy.RuleName]bool
}

// Customer is one entry of customers: a BGP session (of role customer or peer) that
// generate renders, explain evaluates, and SAV and the flow audit protect.
type Customer struct {
	// Name: letters, digits, '_', starting with a letter, at most 40 characters;
	// unique among customers and members; not BGPFILTER, BGPFILTER_EXPORT or a shared
	// export set's name (policy.CheckCustomerName). Policy names are NAME_IN_V4 and so on.
	Name string
	ASN  routing.ASN
	Role policy.Role
	// ASSets are the customer's cone; empty: the ASN alone (or PeeringDB's AS-SET
	// after ApplyPeeringDB). ASSetFrom says where they came from: "config",
	// "peeringdb" or "" (none).
	ASSets    []string
	ASSetFrom string
	// ExtraPrefixes are added to the customer's filter; ExcludePrefixes removed.
	ExtraPrefixes   []routing.PrefixRange
	ExcludePrefixes []netip.Prefix
	// Sessions are the neighbour addresses (both families) and ports.
	Sessions []policy.Neighbor
	// Knobs are the effective settings (defaults, then the customer's own keys).
	Knobs Knobs
	// OwnMaxPrefix is the max_prefix the customer wrote itself (zero limits when it
	// wrote none), so ApplyPeeringDB fills only the gaps.
	OwnMaxPrefix MaxPrefixes
	// Interfaces are the customer-facing interfaces (issue 10: SAV and flow audit).
	Interfaces []Interface
	// SAV is the source address validation setting (issue 10); nil: none.
	SAV *SAV
	// Line is the customer's line in the config file, for messages.
	Line int
}

// Interface is one entry of a customer's interfaces (issue 10): where SAV is applied
// and how flow records map to the customer.
type Interface struct {
	// Device is the router's name (as the operator names it; used in file names of
	// SAV output); Name the interface on it ("xe-0/0/1.100", "Bundle-Ether1").
	Device, Name string
	// Exporter is the flow exporter address of the device; invalid when absent.
	Exporter netip.Addr
	// IfIndex is the SNMP ifIndex of the interface in flow records; HasIfIndex false
	// means every interface of Exporter.
	IfIndex    uint32
	HasIfIndex bool
}

// SAV modes (issue 10).
const (
	SAVStrict = "strict" // uRPF strict plus the customer's prefixes
	SAVLoose  = "loose"  // uRPF loose
	SAVACL    = "acl"    // an ingress ACL permitting only the customer's sources
)

// SAV is a customer's sav key (issue 10).
type SAV struct {
	// Mode is SAVStrict, SAVLoose or SAVACL.
	Mode string
	// ExtraPrefixes are permitted sources beyond the customer's prefix filter.
	ExtraPrefixes []netip.Prefix
}

// Reject policies of a route server (issue 9).
const (
	RejectPolicyReject = "reject" // filtered routes are dropped
	RejectPolicyTag    = "tag"    // kept with a reject-reason large community, never exported
)

// RouteServer is the rs section (issue 9).
type RouteServer struct {
	ASN      routing.ASN
	RouterID netip.Addr
	// RejectPolicy is RejectPolicyReject (default) or RejectPolicyTag.
	RejectPolicy string
	// Session holds the transport settings (config/routeserver.go).
	Session RSSession
	// NextHop is NextHopAuthorized (default), NextHopSameAS or NextHopOff.
	NextHop string
	// BlackholeNextHop4/6 turn on RFC 7999 blackholing (65535:666) with the next hop
	// rewritten to these addresses; zero: blackhole routes are not accepted as such.
	BlackholeNextHop4, BlackholeNextHop6 netip.Addr
	// NeverViaRS are ASNs that must not appear in a path via the route server;
	// NeverViaRSPeeringDB (default true) adds PeeringDB's info_never_via_route_servers
	// networks when PeeringDB pages are given.
	NeverViaRS          []routing.ASN
	NeverViaRSPeeringDB bool
	// ROV is ROVRTR, ROVStatic, ROVOff or "" (rtr with rtr_cache, else static with
	// rpki, else off).
	ROV string
	// ASPA turns on ASPA upstream verification, rendered for BIRD >= 2.16 only
	// (BIRDVersion, default "2.0.12", the Debian 12 version).
	ASPA        bool
	BIRDVersion string
}

// Member is one entry of members (issue 9): a route-server client, a session of role
// rs-client of the same policy model.
type Member struct {
	Name string
	ASN  routing.ASN
	// Addresses are the member's router addresses on the peering LAN (both families).
	Addresses []netip.Addr
	ASSets    []string
	ASSetFrom string
	// Knobs are the effective settings: defaults, then max_prefix, then overrides.
	Knobs        Knobs
	OwnMaxPrefix MaxPrefixes
	Line         int
}
