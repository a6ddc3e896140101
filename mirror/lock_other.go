//go:build !unix && !windows

package mirror

import (
	"errors"
	"os"
)

// lockFile: no file locks on this platform, and two mirrors on one directory would
// corrupt it, so the mirror refuses to start.
func lockFile(*os.File) error {
	return errors.New("file locking is not supported on this platform")
}
