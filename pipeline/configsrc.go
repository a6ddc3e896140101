package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/peeringdb"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// LoadConfig loads a config file (package config). A config that cannot be read or
// is invalid is the user's to fix: the error carries ExitUsage.
func LoadConfig(path string) (*config.File, error) {
	if path == "" {
		return nil, WithCode(ExitUsage, errors.New("--config FILE is required"))
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, WithCode(ExitUsage, err)
	}
	return cfg, nil
}

// ConfigSources are the IRR and RPKI data a config file names, opened once for every
// session a job builds.
type ConfigSources struct {
	IRR      *IRR
	Resolver *irr.Resolver
	// RPKI is nil when neither the config nor the flags name RPKI data.
	RPKI *rpki.Table
	// PeeringDBNotes are the changes ApplyPeeringDB made (for the log and summary).
	PeeringDBNotes []string
}

// OpenConfigSources opens the sources of cfg. The config's irr, sources and rpki keys
// are used unless the corresponding flag (or its environment variable) was given:
// irrFromFlags / rpkiFromFlags say so, and then irrSpec.Specs / rpkiSpec.Spec win
// (flag > environment > config > default). irrSpec.Sources from the flags win over the
// config's sources when non-empty. The config's peeringdb pages are loaded and applied
// to cfg (ApplyPeeringDB). The caller closes the sources.
func OpenConfigSources(ctx context.Context, cfg *config.File, irrSpec IRRSpec, irrFromFlags bool, rpkiSpec RPKISpec, rpkiFromFlags bool) (*ConfigSources, error) {
	if !irrFromFlags && len(cfg.IRR) > 0 {
		irrSpec.Specs = SplitSpecs(cfg.IRR)
	}
	if len(irrSpec.Sources) == 0 {
		irrSpec.Sources = cfg.Sources
	}
	if !rpkiFromFlags && cfg.RPKI != "" {
		rpkiSpec.Spec = cfg.RPKI
	}
	if len(cfg.PeeringDB) > 0 {
		nets, err := peeringdb.Load(cfg.PeeringDB)
		if err != nil {
			code := ExitData
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				code = ExitUnavailable
			}
			return nil, WithCode(code, fmt.Errorf("config %s: peeringdb: %w", cfg.Path, err))
		}
		notes := cfg.ApplyPeeringDB(nets)
		src, err := openConfigData(ctx, irrSpec, rpkiSpec)
		if err != nil {
			return nil, err
		}
		src.PeeringDBNotes = notes
		return src, nil
	}
	return openConfigData(ctx, irrSpec, rpkiSpec)
}

func openConfigData(ctx context.Context, irrSpec IRRSpec, rpkiSpec RPKISpec) (*ConfigSources, error) {
	src, err := OpenIRR(ctx, irrSpec)
	if err != nil {
		return nil, err
	}
	table, err := OpenRPKI(ctx, rpkiSpec)
	if err != nil {
		src.Close()
		return nil, err
	}
	// Every session of the job expands through one set memo: a set nested in many
	// customers' cones is fetched and parsed once (irr.SetMemo; same expansions).
	res := src.Resolver(irrSpec)
	res.Memo = irr.NewSetMemo()
	return &ConfigSources{IRR: src, Resolver: res, RPKI: table}, nil
}

// Inputs returns the builder's inputs (no validator when there is no RPKI data).
func (s *ConfigSources) Inputs() policy.Inputs {
	in := policy.Inputs{Querier: s.IRR.Q, Resolver: s.Resolver}
	if s.RPKI != nil {
		in.Validator, in.ROAs = s.RPKI, s.RPKI
	}
	return in
}

// Close releases the IRR connections.
func (s *ConfigSources) Close() {
	if s != nil {
		s.IRR.Close()
	}
}
