package routing

import "fmt"

// ROVState is the route origin validation state of RFC 6811 section 2.
type ROVState uint8

// Validation states. The zero value is NotFound.
const (
	NotFound ROVState = iota // no VRP covers the route
	Valid                    // a covering VRP matches origin and length
	Invalid                  // covered, but no covering VRP matches
)

// String returns the state as bgpfilter prints it: "valid", "invalid" or "not-found".
func (s ROVState) String() string {
	switch s {
	case Valid:
		return "valid"
	case Invalid:
		return "invalid"
	default:
		return "not-found"
	}
}

// MarshalText renders the state as String does (for JSON).
func (s ROVState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses "valid", "invalid" or "not-found".
func (s *ROVState) UnmarshalText(b []byte) error {
	switch string(b) {
	case "valid":
		*s = Valid
	case "invalid":
		*s = Invalid
	case "not-found":
		*s = NotFound
	default:
		return fmt.Errorf("unknown ROV state %q", b)
	}
	return nil
}
