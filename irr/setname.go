package irr

import "strings"

// validSetName reports whether name is a valid RPSL name for an object of class
// (as-set or route-set), RFC 2622 §5: one or more components separated by ':', each
// an AS number or an RPSL name (letters, digits, '_' and '-', starting with a letter
// and ending with a letter or digit), at least one of them starting with the class's
// prefix ("AS-" or "RS-"). This refuses control characters and terminal escapes,
// white space, ',' and ';', and empty components ("::" reads as SOURCE::NAME).
func validSetName(class, name string) bool {
	prefix := "AS-"
	if class == "route-set" {
		prefix = "RS-"
	}
	hasPrefix := false
	for _, c := range strings.Split(name, ":") {
		u := strings.ToUpper(c)
		switch {
		case isASNComponent(u):
		case validRPSLName(u):
			if strings.HasPrefix(u, prefix) && len(u) > len(prefix) {
				hasPrefix = true
			}
		default:
			return false
		}
	}
	return hasPrefix
}

func isASNComponent(u string) bool {
	if len(u) < 3 || !strings.HasPrefix(u, "AS") {
		return false
	}
	for i := 2; i < len(u); i++ {
		if u[i] < '0' || u[i] > '9' {
			return false
		}
	}
	return true
}

func validRPSLName(u string) bool {
	if u == "" {
		return false
	}
	letter := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	if !letter(u[0]) || !(letter(u[len(u)-1]) || digit(u[len(u)-1])) {
		return false
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; !letter(c) && !digit(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}
