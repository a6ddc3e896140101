// Package render turns policy filters into router configuration text through
// text/template and a hermetic subset of sprig. The vendor syntax lives in the embedded
// templates (package templates); this package loads them (optionally overridden from a
// file or a directory), validates every identifier that reaches a config and renders
// into a buffer, so a failed render never produces partial output.
package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"github.com/Masterminds/sprig/v3"

	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/templates"
)

// ErrUnsupported means the format cannot express the filter (e.g. a length range in a
// Junos prefix-list, or an as-path list for a format without one).
var ErrUnsupported = errors.New("not supported by this format")

// format describes one --format value: the template directory and entry templates.
type format struct {
	dir       string
	prefix    string // entry template for prefix lists; "" = unsupported
	aspath    string // entry template for as-path lists; "" = unsupported
	exactOnly bool   // the prefix template cannot express length ranges
	// peerHelper, when set, is the suffix of a helper object the as-path template
	// defines for a peer AS (bird: the function NAME_path); its name is validated too.
	peerHelper string
	alias      bool // another name for a listed format; not in Formats()
}

var formats = map[string]format{
	"junos":              {dir: "junos", prefix: "prefix-list.tmpl", aspath: "as-path.tmpl", exactOnly: true},
	"junos-route-filter": {dir: "junos", prefix: "route-filter-list.tmpl", aspath: "as-path.tmpl"},
	// junos-route-filter-list is an alias of junos-route-filter (the Junos object name).
	"junos-route-filter-list": {dir: "junos", prefix: "route-filter-list.tmpl", aspath: "as-path.tmpl", alias: true},
	"junos-policy":            {dir: "junos", prefix: "policy-statement.tmpl", aspath: "as-path.tmpl"},
	"iosxr":                   {dir: "iosxr", prefix: "prefix-list.tmpl", aspath: "as-path.tmpl"},
	"ios":                     {dir: "ios", prefix: "prefix-list.tmpl", aspath: "as-path.tmpl"},
	"eos":                     {dir: "eos", prefix: "prefix-list.tmpl", aspath: "as-path.tmpl"},
	"bird":                    {dir: "bird", prefix: "prefix-list.tmpl", aspath: "as-path.tmpl", peerHelper: "_path"},
	"frr":                     {dir: "frr", prefix: "prefix-list.tmpl", aspath: "as-path.tmpl"},
	"openbgpd":                {dir: "openbgpd", prefix: "prefix-list.tmpl", aspath: "as-path.tmpl"},
	"json":                    {dir: "json", prefix: "prefix-list.tmpl", aspath: "as-path.tmpl"},
}

// Formats returns the supported --format values, sorted.
func Formats() []string {
	out := make([]string, 0, len(formats))
	for k, f := range formats {
		if !f.alias {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Options selects template overrides.
type Options struct {
	// TemplateFile, when set, replaces the entry template of the chosen output.
	TemplateFile string
	// TemplateDir, when set, holds the same layout as the embedded templates
	// (DIR/<vendor>/*.tmpl); each file and each {{define}} in it replaces the built-in
	// template of the same name. The directory must exist.
	TemplateDir string
	// noCompile: every entry through text/template (the differential tests).
	noCompile bool
}

// Renderer renders filters for one format. It is safe for concurrent use after New.
type Renderer struct {
	format string
	f      format
	t      *template.Template
	// builtinOnly: no template was overridden, so compiled entry templates
	// (entries.go) are shared with every other such Renderer of the process.
	builtinOnly bool
	// noCompile makes `entries` run text/template for every entry (tests compare).
	noCompile  bool
	entryMu    sync.Mutex
	entryComps map[string]*entryCompiler
}

// New loads the templates for format (embedded, then the overrides in opt).
func New(formatName string, opt Options) (*Renderer, error) {
	f, ok := formats[formatName]
	if !ok {
		return nil, fmt.Errorf("render: unknown format %q (one of %s)", formatName, strings.Join(Formats(), ", "))
	}
	base, err := builtin(f.dir)
	if err != nil {
		return nil, err
	}
	// A clone: the overrides below and the renderer's own functions stay in it.
	t, err := base.Clone()
	if err != nil {
		return nil, fmt.Errorf("render: templates for %s: %w", f.dir, err)
	}
	if opt.TemplateDir != "" {
		if err := parseDir(t, opt.TemplateDir, f.dir); err != nil {
			return nil, err
		}
	}
	r := &Renderer{format: formatName, f: f, t: t,
		builtinOnly: opt.TemplateDir == "" && opt.TemplateFile == "", noCompile: opt.noCompile}
	t.Funcs(template.FuncMap{"entries": r.entries, "asnEntries": r.asnEntries})
	if opt.TemplateFile != "" {
		b, err := os.ReadFile(opt.TemplateFile)
		if err != nil {
			return nil, fmt.Errorf("render: --template: %w", err)
		}
		// The file replaces both entry templates; only the one used matters.
		for _, name := range []string{f.prefix, f.aspath} {
			if name == "" {
				continue
			}
			if _, err := t.New(name).Parse(string(b)); err != nil {
				return nil, fmt.Errorf("render: --template %s: %w", opt.TemplateFile, err)
			}
		}
	}
	return r, nil
}

// builtins are the embedded templates of each directory, parsed once per process
// (generate renders thousands of documents; parsing took a tenth of its CPU).
var builtins sync.Map // dir -> func() (*template.Template, error)

// builtin returns the parsed embedded templates of dir; callers clone them.
func builtin(dir string) (*template.Template, error) {
	v, _ := builtins.LoadOrStore(dir, sync.OnceValues(func() (*template.Template, error) {
		t := template.New(dir).Funcs(funcMap()).Option("missingkey=error")
		sub, err := fs.Sub(templates.FS, dir)
		if err != nil {
			return nil, fmt.Errorf("render: templates for %s: %w", dir, err)
		}
		if t, err = t.ParseFS(sub, "*.tmpl"); err != nil {
			return nil, fmt.Errorf("render: built-in templates for %s: %w", dir, err)
		}
		return t, nil
	}))
	return v.(func() (*template.Template, error))()
}

// parseDir parses DIR/<vendor>/*.tmpl into t, redefining templates of the same name.
func parseDir(t *template.Template, dir, vendor string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("render: --template-dir: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("render: --template-dir %s: not a directory", dir)
	}
	root, err := os.OpenRoot(dir) // a symlink cannot lead a template read out of dir
	if err != nil {
		return fmt.Errorf("render: --template-dir: %w", err)
	}
	defer root.Close()
	user := root.FS()
	names, err := fs.Glob(user, vendor+"/*.tmpl")
	if err != nil {
		return fmt.Errorf("render: --template-dir %s: %w", dir, err)
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(user, n)
		if err != nil {
			return fmt.Errorf("render: --template-dir: %w", err)
		}
		if _, err := t.New(path.Base(n)).Parse(string(b)); err != nil {
			return fmt.Errorf("render: --template-dir %s: %w", path.Join(dir, n), err)
		}
	}
	return nil
}

// PrefixList renders a prefix filter. The filter's name is validated first; a range
// entry in an exact-only format is an error wrapping ErrUnsupported.
func (r *Renderer) PrefixList(pf *policy.PrefixFilter) ([]byte, error) {
	if r.f.prefix == "" {
		return nil, fmt.Errorf("render: %s: prefix lists: %w", r.format, ErrUnsupported)
	}
	if err := ValidateName(r.format, pf.Name); err != nil {
		return nil, err
	}
	if pf.Family != 4 && pf.Family != 6 {
		return nil, fmt.Errorf("render: address family %d", pf.Family)
	}
	if r.f.exactOnly {
		for _, e := range pf.Entries {
			if !e.Exact() {
				return nil, fmt.Errorf("render: %s prefix-lists cannot carry length ranges (%s): use --format junos-route-filter or junos-policy: %w",
					r.format, e.Prefix, ErrUnsupported)
			}
		}
	}
	return r.exec(r.f.prefix, newPrefixData(pf))
}

// PrefixData is what prefix-list templates execute on: the filter's scalars and one
// precomputed Line per entry (field access is several times cheaper than method calls
// in text/template, which matters at 100k entries). Filter is the full model, with
// provenance, for templates that need it (json).
type PrefixData struct {
	Name     string
	Family   int
	V6       bool
	Empty    bool
	Objects  []string
	Warnings []string
	Entries  []Line
	Filter   *policy.PrefixFilter
}

// Line is one prefix entry: Prefix ("192.0.2.0/24") with lengths Min..Max; HasGE means
// Min > Bits, HasLE means Max > Bits, Exact means neither.
type Line struct {
	Prefix              string
	Bits, Min, Max      int
	Exact, HasGE, HasLE bool
}

func newPrefixData(pf *policy.PrefixFilter) *PrefixData {
	return newPrefixDataLines(pf, makeLines(pf.Entries))
}

// newPrefixDataLines is newPrefixData with the entries' lines already made.
func newPrefixDataLines(pf *policy.PrefixFilter, lines []Line) *PrefixData {
	d := &PrefixData{Name: pf.Name, Family: pf.Family, V6: pf.V6(), Empty: pf.Empty(),
		Objects: pf.Objects, Warnings: pf.Warnings, Entries: lines, Filter: pf}
	if d.Objects == nil {
		d.Objects = []string{}
	}
	if d.Warnings == nil {
		d.Warnings = []string{}
	}
	return d
}

// ASPath renders an as-path / origin filter; the name is validated first.
func (r *Renderer) ASPath(af *policy.ASPathFilter) ([]byte, error) {
	if r.f.aspath == "" {
		return nil, fmt.Errorf("render: %s: as-path lists: %w", r.format, ErrUnsupported)
	}
	if err := ValidateName(r.format, af.Name); err != nil {
		return nil, err
	}
	if af.PeerAS != 0 && r.f.peerHelper != "" {
		if err := ValidateName(r.format, af.Name+r.f.peerHelper); err != nil {
			return nil, fmt.Errorf("render: the --peer-as check of %s: %w", af.Name, err)
		}
	}
	return r.exec(r.f.aspath, af)
}

func (r *Renderer) exec(name string, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := r.t.ExecuteTemplate(&buf, name, data); err != nil {
		return nil, fmt.Errorf("render: %s: %w", r.format, err)
	}
	return buf.Bytes(), nil
}

// removedFuncs are sprig functions that are non-deterministic, touch the environment or
// are pointless and risky in router configs. "slice" is removed so the text/template
// builtin comes back.
var removedFuncs = []string{"randInt", "shuffle", "bcrypt", "htpasswd", "derivePassword",
	"encryptAES", "decryptAES", "buildCustomCert", "ago", "slice", "env", "expandenv",
	"getHostByName", "now", "randBytes", "uuidv4"}

var removedPrefixes = []string{"gen", "rand", "date", "htmlDate"}

// funcMap is the template function set: hermetic sprig minus removedFuncs, plus cheap
// vendor helpers.
func funcMap() template.FuncMap {
	m := sprig.HermeticTxtFuncMap()
	for _, k := range removedFuncs {
		delete(m, k)
	}
	for k := range m {
		for _, p := range removedPrefixes {
			if strings.HasPrefix(k, p) {
				delete(m, k)
			}
		}
	}
	m["asn"] = func(a routing.ASN) uint32 { return uint32(a) }
	m["asnAlt"] = asnAlt
	m["asnJoin"] = asnJoin
	m["asnChunks"] = asnChunks
	m["seqno"] = func(i, step int) int { return (i + 1) * step }
	// savseq is the sequence number of entry i after off fixed entries (10, 20, ...).
	m["savseq"] = func(i, off int) int { return (i + off + 1) * 10 }
	m["json"] = jsonValue
	m["jsonEntry"] = jsonEntry
	rsFuncs(m)
	m["entries"] = func(string, *PrefixData) (string, error) { return "", errors.New("entries: no renderer") }
	m["asnEntries"] = func(string, []uint32, string) (string, error) { return "", errors.New("asnEntries: no renderer") }
	m["numJoin"] = numJoin
	m["longestMatch"] = longestMatch // junos_lpm.go
	m["maxLen"] = func(v6 bool) int {
		if v6 {
			return 128
		}
		return 32
	}
	return m
}

// asnAlt joins ASNs as a regex alternation "64496|64497".
func asnAlt(as []routing.ASN) string { return asnJoin("|", as) }

// asnJoin joins ASNs in asplain with sep.
func asnJoin(sep string, as []routing.ASN) string {
	var b strings.Builder
	for i, a := range as {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(strconv.FormatUint(uint64(a), 10))
	}
	return b.String()
}

// numJoin joins numbers in decimal with sep (an ASN chunk of a regex alternation:
// one call instead of a template range over every number).
func numJoin(sep string, ns []uint32) string {
	b := make([]byte, 0, len(ns)*(6+len(sep)))
	for i, n := range ns {
		if i > 0 {
			b = append(b, sep...)
		}
		b = strconv.AppendUint(b, uint64(n), 10)
	}
	return string(b)
}

// asnChunks splits ASNs into groups of at most n (n < 1 means one group).
func asnChunks(n int, as []routing.ASN) [][]routing.ASN {
	if len(as) == 0 {
		return nil
	}
	if n < 1 {
		n = len(as)
	}
	out := make([][]routing.ASN, 0, (len(as)+n-1)/n)
	for i := 0; i < len(as); i += n {
		out = append(out, as[i:min(i+n, len(as))])
	}
	return out
}

// jsonValue encodes v as compact JSON; nil slices become [].
func jsonValue(v any) (string, error) {
	switch x := v.(type) {
	case []string:
		if x == nil {
			v = []string{}
		}
	case []routing.ASN:
		if x == nil {
			v = []routing.ASN{}
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// jsonEntryView is the JSON shape of one prefix entry.
type jsonEntryView struct {
	Prefix  string     `json:"prefix"`
	Exact   bool       `json:"exact"`
	Min     int        `json:"min"`
	Max     int        `json:"max"`
	Origins []uint32   `json:"origins"`
	Sources []string   `json:"sources"`
	Paths   [][]string `json:"paths"`
	ROV     string     `json:"rov,omitempty"`
	Reasons []string   `json:"rov_reasons,omitempty"`
}

// jsonEntry encodes one entry with its provenance as compact JSON.
func jsonEntry(e policy.Entry) (string, error) {
	v := jsonEntryView{Prefix: e.Prefix.String(), Exact: e.Exact(), Min: e.Min, Max: e.Max,
		Origins: make([]uint32, len(e.Origins)), Sources: e.Sources, Paths: e.Paths,
		ROV: e.ROVSummary(), Reasons: e.ROVReasons}
	for i, a := range e.Origins {
		v.Origins[i] = uint32(a)
	}
	if v.Sources == nil {
		v.Sources = []string{}
	}
	if v.Paths == nil {
		v.Paths = [][]string{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
