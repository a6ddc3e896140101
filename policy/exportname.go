package policy

import (
	"fmt"
	"strings"
)

// ExportSetBase is the stem of the shared export set's names. Every export policy of
// a run (the customers' NAME_OUT_V4 / NAME_OUT_V6) announces the same set, the own
// prefixes plus every customer's filter, so generate writes it once per vendor, as
// one object per family named ExportSetName, in a file of its own; the customers'
// export policies refer to it by that fixed name, so other tools can too.
const ExportSetBase = "BGPFILTER_EXPORT"

// ExportSetName is the name of the shared export set of family (4 or 6):
// BGPFILTER_EXPORT_V4, BGPFILTER_EXPORT_V6.
func ExportSetName(family int) string { return famName(ExportSetBase, "_V", family) }

// CheckCustomerName refuses a customer name whose objects could be named like the
// shared export set. A customer's objects are its name, or its name, '_' and a
// suffix (NAME_IN_V4, NAME_PFX_V6, NAME_ROA_V4 ...), so a collision is possible only
// when the name is an export set's name or one of its '_'-separated stems
// (BGPFILTER, BGPFILTER_EXPORT). Compared ignoring case: not every router compares
// names case-sensitively.
func CheckCustomerName(name string) error {
	for _, fam := range []int{4, 6} {
		shared := ExportSetName(fam)
		if strings.EqualFold(name, shared) || len(shared) > len(name) && strings.EqualFold(shared[:len(name)+1], name+"_") {
			return fmt.Errorf("customer name %s is reserved: its objects could be named like the shared export set %s", name, shared)
		}
	}
	return nil
}
