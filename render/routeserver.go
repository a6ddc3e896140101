package render

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// RouteServerVendors are the vendors with route-server templates (DIR/rs.tmpl).
var RouteServerVendors = []string{"bird", "frr"}

// RouteServer renders a route server's configuration (a *routeserver.Config, passed
// as data so that this package does not depend on the feature packages) with the
// vendor's rs.tmpl. Names in the configuration were validated by the config loader
// (letters, digits, '_'); no IRR free text reaches the templates.
func RouteServer(vendor string, opt Options, data any) ([]byte, error) {
	if vendor != "bird" && vendor != "frr" {
		return nil, fmt.Errorf("render: no route-server templates for %q (want %s)", vendor, strings.Join(RouteServerVendors, " or "))
	}
	r, err := New(vendor, Options{TemplateDir: opt.TemplateDir})
	if err != nil {
		return nil, err
	}
	return r.exec("rs.tmpl", data)
}

// rsFuncs are the helpers of the route-server templates.
func rsFuncs(m map[string]any) {
	// addrs joins addresses for a BIRD set or an FRR list.
	m["addrs"] = func(sep string, as []netip.Addr) string {
		s := make([]string, len(as))
		for i, a := range as {
			s[i] = a.String()
		}
		return strings.Join(s, sep)
	}
	m["u32"] = func(v any) (string, error) {
		switch x := v.(type) {
		case uint32:
			return strconv.FormatUint(uint64(x), 10), nil
		case int:
			return strconv.Itoa(x), nil
		}
		return fmt.Sprint(v), nil
	}
	m["le16"] = func(v uint32) bool { return v <= 65535 }
}
