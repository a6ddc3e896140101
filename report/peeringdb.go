package report

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bgpfilter/bgpfilter/routing"
)

// PDBNet is the part of a PeeringDB net record the report shows.
type PDBNet struct {
	ID        int    `json:"id"`
	Name      string `json:"name"`
	IRRASSet  string `json:"irr_as_set"`
	Website   string `json:"website"`
	PolicyURL string `json:"policy_url"`
	Prefixes4 int    `json:"info_prefixes4"`
	Prefixes6 int    `json:"info_prefixes6"`
	// Contacts counts the poc_set entries when the page has them (anonymous API pages
	// do not: PeeringDB shows contacts to logged-in users only).
	Contacts int `json:"contacts"`
}

// LoadPeeringDB reads PeeringDB API "net" pages ({"data": [...]}, gzip or not).
func LoadPeeringDB(paths []string) (map[routing.ASN]PDBNet, error) {
	out := make(map[routing.ASN]PDBNet)
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		var r io.Reader = f
		if strings.HasSuffix(p, ".gz") {
			zr, err := gzip.NewReader(f)
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			r = zr
		}
		var page struct {
			Data []struct {
				PDBNet
				ASN    uint32            `json:"asn"`
				PocSet []json.RawMessage `json:"poc_set"`
			} `json:"data"`
		}
		err = json.NewDecoder(io.LimitReader(r, 1<<30)).Decode(&page)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: PeeringDB net page: %w", p, err)
		}
		for _, n := range page.Data {
			v := n.PDBNet
			v.Contacts = len(n.PocSet)
			out[routing.ASN(n.ASN)] = v
		}
	}
	return out, nil
}
