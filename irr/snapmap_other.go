//go:build !unix

package irr

import "os"

// mapFile reads the whole file where memory mapping is not available.
func mapFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f)
}

func unmapFile([]byte) {}
