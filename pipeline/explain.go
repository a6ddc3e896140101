package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

// ExplainJob evaluates one announcement against the import policy a customer of a
// config file gets (the document the templates render) and prints the verdict, the
// deciding rule and its evidence.
type ExplainJob struct {
	// Config is the config file; Customer a customer's name in it.
	Config, Customer string
	// Prefix is the announced prefix; Path its AS path, ASNs separated by spaces,
	// left-most first, AS_SETs in braces.
	Prefix, Path string
	// ROV, when set ("valid", "invalid", "not-found"), is the state the router's
	// validator gives the route; otherwise it is computed from the RPKI data.
	ROV string
	// JSON prints a policy.Explanation as JSON instead of text.
	JSON bool
	// Export evaluates the customer's export policy (what we announce to it: self
	// plus every customer's filter) instead of its import policy; Path may then be
	// empty. Every customer of the config is built.
	Export bool
	// IRR and RPKI are the flag specs; IRRFromFlags / RPKIFromFlags say whether the
	// flags were given (they then win over the config's keys).
	IRR                         IRRSpec
	IRRFromFlags, RPKIFromFlags bool
	RPKI                        RPKISpec
	Stdout                      io.Writer
	Logger                      *slog.Logger
}

// Run runs the job. A bad config, an unknown customer or a malformed prefix or path
// is a usage error (1); the data errors of the build keep their codes.
func (j *ExplainJob) Run(ctx context.Context) error {
	log := j.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := LoadConfig(j.Config)
	if err != nil {
		return err
	}
	cust, ok := cfg.Customer(j.Customer)
	if !ok {
		return WithCode(ExitUsage, fmt.Errorf("explain: no customer %q in %s (customers: %s)", j.Customer, cfg.Path, customerNames(cfg)))
	}
	p, err := netip.ParsePrefix(strings.TrimSpace(j.Prefix))
	if err != nil {
		return WithCode(ExitUsage, fmt.Errorf("explain: invalid prefix %q", j.Prefix))
	}
	if p.Masked() != p {
		return WithCode(ExitUsage, fmt.Errorf("explain: prefix %q has host bits set (did you mean %s?)", j.Prefix, p.Masked()))
	}
	var path policy.ASPath
	if !j.Export || strings.TrimSpace(j.Path) != "" {
		if path, err = policy.ParseASPath(j.Path); err != nil {
			return WithCode(ExitUsage, fmt.Errorf("explain: %w", err))
		}
	}
	ann := policy.Announcement{Prefix: p, Path: path}
	if j.ROV != "" {
		var st routing.ROVState
		if err := st.UnmarshalText([]byte(j.ROV)); err != nil {
			return WithCode(ExitUsage, fmt.Errorf("explain: --rov: %w (want valid, invalid or not-found)", err))
		}
		ann.ROV = &policy.ROVResult{State: st, ROAs: []string{"given with --rov"}}
	}
	src, err := OpenConfigSources(ctx, cfg, j.IRR, j.IRRFromFlags, j.RPKI, j.RPKIFromFlags)
	if err != nil {
		return err
	}
	defer src.Close()
	for _, n := range src.PeeringDBNotes {
		log.Info(n)
	}
	docs, err := policy.BuildSession(ctx, src.Inputs(), cfg.CustomerSpec(cust))
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	if j.Export {
		if err := buildExports(ctx, cfg, src, docs); err != nil {
			return err
		}
	}
	doc := docs.Import4
	switch {
	case j.Export && p.Addr().Is6():
		doc = docs.Export6
	case j.Export:
		doc = docs.Export4
	case p.Addr().Is6():
		doc = docs.Import6
	}
	for _, w := range doc.Warnings {
		log.Warn(w, "policy", doc.Name)
	}
	if ann.ROV == nil && src.RPKI != nil {
		ann = ann.WithROV(src.RPKI)
	}
	if ann.ROV == nil && doc.Session.RuntimeROV() {
		return WithCode(ExitUsage, fmt.Errorf("explain: %s validates routes at run time (rtr_cache %s) but no RPKI data is given: set rpki in the config, --rpki, or --rov STATE", doc.Name, doc.Session.RTRCache))
	}
	x, err := policy.Explain(doc, ann)
	if err != nil {
		return WithCode(ExitUsage, fmt.Errorf("explain: %w", err))
	}
	if j.JSON {
		enc := json.NewEncoder(j.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(x)
	}
	return x.WriteText(j.Stdout)
}

func customerNames(cfg *config.File) string {
	names := make([]string, 0, len(cfg.Customers))
	for _, c := range cfg.Customers {
		names = append(names, c.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// buildExports builds every customer's import documents and from them the shared
// export set (exportSets, as generate does), and sets docs' export documents: the
// policy NAME_OUT_V4 / NAME_OUT_V6 matching BGPFILTER_EXPORT_V4 / _V6.
func buildExports(ctx context.Context, cfg *config.File, src *ConfigSources, docs *policy.SessionDocuments) error {
	in := src.Inputs()
	var imports [2][]*policy.Document
	for i := range cfg.Customers {
		d, err := policy.BuildSession(ctx, in, cfg.CustomerSpec(&cfg.Customers[i]))
		if err != nil {
			return fmt.Errorf("explain: export: %w", err)
		}
		imports[0], imports[1] = append(imports[0], d.Import4), append(imports[1], d.Import6)
	}
	sets, _, err := exportSets(ctx, cfg, in, imports)
	if err != nil {
		return fmt.Errorf("explain: export: %w", err)
	}
	docs.Export4 = policy.ExportDocumentFrom(docs.Import4, sets[0])
	docs.Export6 = policy.ExportDocumentFrom(docs.Import6, sets[1])
	return nil
}
