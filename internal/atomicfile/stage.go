package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Staged is a file written to a temporary name beside its target and not yet renamed
// over it: a job stages every output first and renames them only when all of them
// could be written, so a failure leaves every previous file in place.
type Staged struct {
	path, tmp string
	done      bool
}

// Stage writes data to a temporary file in path's directory and syncs it. When path
// exists, the temporary file takes its mode and, where it differs from ours, its
// owner (a replaced router config keeps the permissions an operator gave it);
// otherwise it gets perm. An existing path that is not a regular file is refused.
func Stage(path string, data []byte, perm os.FileMode) (*Staged, error) {
	owner := -1
	group := -1
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("atomicfile: %s: not a regular file", path)
		}
		perm = st.Mode().Perm()
		owner, group = fileOwner(st)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("atomicfile: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("atomicfile: %w", err)
	}
	s := &Staged{path: path, tmp: f.Name()}
	fail := func(err error) (*Staged, error) {
		f.Close()
		os.Remove(s.tmp)
		return nil, err
	}
	if _, err := f.Write(data); err != nil {
		return fail(fmt.Errorf("atomicfile: write %s: %w", path, err))
	}
	if err := f.Chmod(perm); err != nil {
		return fail(fmt.Errorf("atomicfile: chmod %s: %w", path, err))
	}
	if owner >= 0 {
		if st, err := f.Stat(); err == nil {
			if u, g := fileOwner(st); u >= 0 && (u != owner || g != group) {
				if err := f.Chown(owner, group); err != nil {
					return fail(fmt.Errorf("atomicfile: %s: cannot keep its owner %d:%d: %w", path, owner, group, err))
				}
			}
		}
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("atomicfile: sync %s: %w", path, err))
	}
	if err := f.Close(); err != nil {
		os.Remove(s.tmp)
		return nil, fmt.Errorf("atomicfile: close %s: %w", path, err)
	}
	return s, nil
}

// Commit renames the staged file over its target and syncs the directory.
func (s *Staged) Commit() error {
	if s.done {
		return fmt.Errorf("atomicfile: %s: already committed or aborted", s.path)
	}
	s.done = true
	if err := os.Rename(s.tmp, s.path); err != nil {
		os.Remove(s.tmp)
		return fmt.Errorf("atomicfile: rename %s: %w", s.path, err)
	}
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Abort removes the staged file; the target is untouched. Abort after Commit does
// nothing.
func (s *Staged) Abort() {
	if s == nil || s.done {
		return
	}
	s.done = true
	os.Remove(s.tmp)
}

// CommitAll renames every staged file over its target, then syncs each directory
// they are in once (Commit syncs it per file: a job that replaces several files of
// one directory pays one directory sync instead of one per file). It stops at the
// first rename that fails and returns its error; the files renamed before it stay.
func CommitAll(staged []*Staged) error {
	var dirs []string
	for _, s := range staged {
		if s.done {
			return fmt.Errorf("atomicfile: %s: already committed or aborted", s.path)
		}
		s.done = true
		if err := os.Rename(s.tmp, s.path); err != nil {
			os.Remove(s.tmp)
			return fmt.Errorf("atomicfile: rename %s: %w", s.path, err)
		}
		if d := filepath.Dir(s.path); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	for _, dir := range dirs {
		if d, err := os.Open(dir); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return nil
}
