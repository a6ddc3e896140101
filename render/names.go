package render

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidName means an identifier that would reach a router config breaks the
// vendor's rules (characters, length, keywords). Nothing is rendered then.
var ErrInvalidName = errors.New("invalid name")

// nameRule is a vendor's identifier syntax. The rules are deliberately narrower than
// what each router accepts: letters, digits and a few punctuation characters that need
// no quoting anywhere, so a name can never carry quotes, spaces, braces, semicolons or
// newlines into the config.
type nameRule struct {
	// extra are the punctuation characters allowed besides [A-Za-z0-9].
	extra string
	// maxLen is the longest accepted name in bytes.
	maxLen int
	// firstLetter requires the first character to be a letter (or '_' when allowed).
	firstLetter bool
	// reserved reports words the vendor's parser treats as keywords or predefined
	// symbols (case-sensitively, as BIRD does); nil means none.
	reserved func(string) bool
}

// nameRules maps a template directory (vendor) to its identifier rule.
var nameRules = map[string]nameRule{
	// Junos policy-options names: up to 255 characters; we keep it short and quote-free.
	"junos": {extra: "-_.", maxLen: 64},
	// IOS-XR RPL set names: letters, digits, '-', '_', first a letter.
	"iosxr": {extra: "-_", maxLen: 64, firstLetter: true},
	// IOS prefix-list / as-path access-list names: up to 63 characters, no spaces.
	"ios": {extra: "-_.", maxLen: 63},
	// Arista EOS: prefix-list names up to 100 characters.
	"eos": {extra: "-_.", maxLen: 100},
	// BIRD 2 symbols: [A-Za-z_][A-Za-z0-9_]*, not a keyword or predefined symbol (bird_reserved.go).
	"bird": {extra: "_", maxLen: 64, firstLetter: true, reserved: birdReservedName},
	// FRR prefix-list / as-path access-list WORD.
	"frr": {extra: "-_.", maxLen: 64},
	// OpenBGPD set names are bare words in bgpd.conf.
	"openbgpd": {extra: "-_", maxLen: 64, firstLetter: true},
	// JSON: the name is a JSON string, escaped anyway; still keep it to the safe set.
	"json": {extra: "-_.:", maxLen: 255},
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// check validates name against the rule.
func (r nameRule) check(name string) error {
	if name == "" {
		return errors.New("empty")
	}
	if len(name) > r.maxLen {
		return fmt.Errorf("longer than %d characters", r.maxLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isAlnum(c) || strings.IndexByte(r.extra, c) >= 0 {
			continue
		}
		return fmt.Errorf("character %q not allowed (allowed: letters, digits and %q)", c, r.extra)
	}
	if r.firstLetter && !isLetter(name[0]) && !(name[0] == '_' && strings.IndexByte(r.extra, '_') >= 0) {
		return errors.New("must start with a letter")
	}
	if r.reserved != nil && r.reserved(name) {
		return errors.New("reserved word or predefined symbol")
	}
	return nil
}

// ValidateName checks that name may be used as a list name for format. The error wraps
// ErrInvalidName and quotes the name safely.
func ValidateName(format, name string) error {
	f, ok := formats[format]
	if !ok {
		return fmt.Errorf("render: unknown format %q", format)
	}
	if err := nameRules[f.dir].check(name); err != nil {
		return fmt.Errorf("render: %s name %q: %w: %v", format, name, ErrInvalidName, err)
	}
	return nil
}

// DefaultName derives a list name for format from the objects the user gave: the
// objects joined by "_", with a "SOURCE::" prefix removed, ':' turned into '_' and, for
// vendors without '-' or '.', those turned into '_' too. Any other character is kept, so
// a hostile object name still fails ValidateName (naming the object).
func DefaultName(format string, objects []string) string {
	f, ok := formats[format]
	if !ok {
		return strings.Join(objects, "_")
	}
	rule := nameRules[f.dir]
	parts := make([]string, 0, len(objects))
	for _, o := range objects {
		if i := strings.Index(o, "::"); i >= 0 {
			o = o[i+2:]
		}
		b := []byte(o)
		for i, c := range b {
			if (c == ':' || c == '-' || c == '.') && strings.IndexByte(rule.extra, c) < 0 {
				b[i] = '_'
			}
		}
		parts = append(parts, string(b))
	}
	name := strings.Join(parts, "_")
	if rule.firstLetter && name != "" && !isLetter(name[0]) && name[0] != '_' && strings.IndexByte(rule.extra, '_') >= 0 {
		name = "L_" + name
	}
	return name
}
