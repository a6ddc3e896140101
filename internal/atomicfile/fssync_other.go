//go:build !linux

package atomicfile

// Without syncfs(2) every staged file and directory is fsynced on its own.

type syncToken struct{}

func syncTokenFor(string) *syncToken { return nil }

func groupSync(tokens []*syncToken) []bool { return make([]bool, len(tokens)) }

func dirTokens(dirs []string) []*syncToken { return make([]*syncToken, len(dirs)) }
