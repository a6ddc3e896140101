// Package peeringdb reads PeeringDB API "net" pages ({"data": [...]}, as the API and
// its anonymous dumps serve them, gzip or not): for each network its AS-SET
// (irr_as_set), prefix counts (info_prefixes4/6) and whether it never announces via
// route servers (info_never_via_route_servers). Net is the one type for such a
// record: config.ApplyPeeringDB takes AS-SETs and max-prefix limits from it for
// customers and members, the route-server builder also the never-via-route-servers
// list, the MANRS report the rest.
package peeringdb

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/bgpfilter/bgpfilter/routing"
)

// MaxSize bounds one page after decompression.
const MaxSize = 1 << 30

// Net is the part of a PeeringDB net record bgpfilter uses.
type Net struct {
	ID         int         `json:"id"`
	ASN        routing.ASN `json:"asn"`
	Name       string      `json:"name"`
	IRRASSet   string      `json:"irr_as_set"`
	Prefixes4  int         `json:"info_prefixes4"`
	Prefixes6  int         `json:"info_prefixes6"`
	NeverViaRS bool        `json:"info_never_via_route_servers"`
	Website    string      `json:"website"`
	PolicyURL  string      `json:"policy_url"`
	// Contacts counts the poc_set entries when the page has them (anonymous API pages
	// do not: PeeringDB shows contacts to logged-in users only). The MANRS report
	// shows it; the page's own key is poc_set, so this one is never read from a page.
	Contacts int `json:"contacts"`
}

// ErrFormat is wrapped by errors about a file that is not a PeeringDB net page.
var ErrFormat = errors.New("not a PeeringDB net page")

// Load reads net pages; a later page's record of the same ASN replaces an earlier one.
func Load(paths []string) (map[routing.ASN]Net, error) {
	out := make(map[routing.ASN]Net)
	for _, p := range paths {
		if err := loadFile(p, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func loadFile(path string, out map[routing.ASN]Net) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("peeringdb: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("peeringdb: %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	nets, err := Decode(io.LimitReader(r, MaxSize))
	if err != nil {
		return fmt.Errorf("peeringdb: %s: %w", path, err)
	}
	for _, n := range nets {
		out[n.ASN] = n
	}
	return nil
}

// Decode parses one net page.
func Decode(r io.Reader) ([]Net, error) {
	var page struct {
		Data *[]json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(r).Decode(&page); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if page.Data == nil {
		return nil, fmt.Errorf("%w: no \"data\" list", ErrFormat)
	}
	out := make([]Net, 0, len(*page.Data))
	for i, raw := range *page.Data {
		var rec struct {
			Net
			Contacts json.RawMessage   `json:"contacts"` // not a PeeringDB key: never taken from input
			PocSet   []json.RawMessage `json:"poc_set"`  // objects or ids, depending on the API depth
		}
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil, fmt.Errorf("%w: record %d: %v", ErrFormat, i, err)
		}
		n := rec.Net
		n.Contacts = len(rec.PocSet)
		if n.ASN == 0 {
			return nil, fmt.Errorf("%w: record %d has no asn", ErrFormat, i)
		}
		if n.Prefixes4 < 0 || n.Prefixes6 < 0 {
			return nil, fmt.Errorf("%w: record %d (AS%d): negative prefix count", ErrFormat, i, n.ASN)
		}
		out = append(out, n)
	}
	return out, nil
}
