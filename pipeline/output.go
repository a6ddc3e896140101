package pipeline

import (
	"fmt"
	"io"
)

// Output is where a job's rendered bytes go: Path (written atomically, the previous
// file kept on any error, its mode and owner kept when it is replaced) or, without a
// path, Stdout.
type Output struct {
	Path   string
	Stdout io.Writer
}

// Write writes data to the output; errors are usage errors naming what (e.g.
// "prefix-list").
func (o Output) Write(what string, data []byte) error {
	if o.Path != "" {
		if err := writeStaged(o.Path, data); err != nil {
			return WithCode(ExitUsage, fmt.Errorf("%s: --output: %w", what, err))
		}
		return nil
	}
	if o.Stdout == nil {
		return nil
	}
	if _, err := o.Stdout.Write(data); err != nil {
		return WithCode(ExitUsage, fmt.Errorf("%s: write: %w", what, err))
	}
	return nil
}
