package whois

import (
	"errors"
	"fmt"
)

// describeReply renders a reply for error messages, bounded in length.
func describeReply(r Reply) string {
	switch r.Kind {
	case ReplyA:
		if r.Data == nil {
			return fmt.Sprintf("A (%d members, %d prefixes)", len(r.Members), len(r.Prefixes))
		}
		return fmt.Sprintf("A%d", len(r.Data)+1)
	case ReplyF:
		return fmt.Sprintf("%q", clientClip("F "+r.Msg))
	}
	return string(rune(r.Kind))
}

// errClientData marks a reply whose framing is right but whose content is not what
// the query asks for.
var errClientData = errors.New("malformed reply data")

func clientClip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
