package policy

import "testing"

// TestCheckCustomerName: a name is refused exactly when one of its objects (the
// name, or the name, '_' and a suffix) can equal a shared export set's name, in any
// case.
func TestCheckCustomerName(t *testing.T) {
	if ExportSetName(4) != "BGPFILTER_EXPORT_V4" || ExportSetName(6) != "BGPFILTER_EXPORT_V6" {
		t.Fatalf("export set names %s, %s", ExportSetName(4), ExportSetName(6))
	}
	for name, refused := range map[string]bool{
		"BGPFILTER": true, "bgpfilter": true, "BGPFILTER_EXPORT": true, "Bgpfilter_export": true,
		"BGPFILTER_EXPORT_V4": true, "bgpfilter_export_v6": true,
		"BGPFILTER_EXPORTS": false, "BGPFILTER_EXPORT_V": false, "BGPFILTER_EXPORT_V46": false, "BGPFILTERS": false,
		"BGPFILTER_EX": false, "EXPORT": false, "acme": false, "BGPFILTER_EXPORT_V4X": false,
	} {
		if err := CheckCustomerName(name); (err != nil) != refused {
			t.Errorf("%s: %v, want refused %v", name, err, refused)
		}
	}
}
