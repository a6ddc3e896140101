package cli

import ucli "github.com/urfave/cli/v2"

// urfave/cli computes a flag's names (Names, through FlagNames) with a regular
// expression on every call, and before every command it asks each global flag whether
// it is set, which looks every other flag up by name: some 500 regexp replacements,
// ~0.15 ms of the ~3 ms a small bgpq4 run costs. The wrappers below answer Names from
// a copy made once; every other method is the flag's own (embedded), so parsing, help
// and environment variables are urfave/cli's (TestFlagNamesCached compares them).

type namedBool struct {
	*ucli.BoolFlag
	names []string
}

func (f *namedBool) Names() []string { return f.names }

type namedString struct {
	*ucli.StringFlag
	names []string
}

func (f *namedString) Names() []string { return f.names }

type namedStringSlice struct {
	*ucli.StringSliceFlag
	names []string
}

func (f *namedStringSlice) Names() []string { return f.names }

type namedDuration struct {
	*ucli.DurationFlag
	names []string
}

func (f *namedDuration) Names() []string { return f.names }

type namedInt struct {
	*ucli.IntFlag
	names []string
}

func (f *namedInt) Names() []string { return f.names }

type namedGeneric struct {
	*ucli.GenericFlag
	names []string
}

func (f *namedGeneric) Names() []string { return f.names }

// cachedNames returns flags with each flag of a known type wrapped so that Names
// is computed once. A *ucli.BoolFlag with DisableDefaultText or Hidden stays as it is:
// the help printer and the shell completion look for that type to honour them.
func cachedNames(flags []ucli.Flag) []ucli.Flag {
	out := make([]ucli.Flag, len(flags))
	for i, f := range flags {
		switch v := f.(type) {
		case *ucli.BoolFlag:
			if v.DisableDefaultText || v.Hidden {
				out[i] = f
				continue
			}
			out[i] = &namedBool{v, v.Names()}
		case *ucli.StringFlag:
			out[i] = &namedString{v, v.Names()}
		case *ucli.StringSliceFlag:
			out[i] = &namedStringSlice{v, v.Names()}
		case *ucli.DurationFlag:
			out[i] = &namedDuration{v, v.Names()}
		case *ucli.IntFlag:
			out[i] = &namedInt{v, v.Names()}
		case *ucli.GenericFlag:
			out[i] = &namedGeneric{v, v.Names()}
		default:
			out[i] = f
		}
	}
	return out
}
