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
	// f stays open until Commit, CommitAll or Abort: the data is made durable there,
	// before the rename (CommitAll shares one file-system sync between many files).
	f      *os.File
	token  *syncToken
	closed bool
	done   bool
}

// Stage writes data to a temporary file in path's directory; Commit or CommitAll
// makes it durable before renaming it. When path exists, the temporary file takes
// its mode and, where it differs from ours, its owner (a replaced router config keeps
// the permissions an operator gave it); otherwise it gets perm. An existing path that
// is not a regular file is refused.
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
	token := syncTokenFor(filepath.Dir(path)) // before the data is written
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("atomicfile: %w", err)
	}
	s := &Staged{path: path, tmp: f.Name(), f: f, token: token}
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
	return s, nil
}

// syncFile is (*os.File).Sync; the tests count and fail it.
var syncFile = (*os.File).Sync

// finish syncs the staged data unless synced (a group sync vouched for it), closes
// the file and, on an error, removes it.
func (s *Staged) finish(synced bool) error {
	var err error
	if !synced {
		if err = syncFile(s.f); err != nil {
			err = fmt.Errorf("atomicfile: sync %s: %w", s.path, err)
		}
	}
	s.closed = true
	if cerr := s.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("atomicfile: close %s: %w", s.path, cerr)
	}
	if err != nil {
		os.Remove(s.tmp)
	}
	return err
}

// Commit syncs the staged file, renames it over its target and syncs the directory.
func (s *Staged) Commit() error {
	if s.done {
		return fmt.Errorf("atomicfile: %s: already committed or aborted", s.path)
	}
	s.done = true
	if err := s.finish(false); err != nil {
		return err
	}
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
	if !s.closed {
		s.f.Close()
	}
	os.Remove(s.tmp)
}

// CommitAll makes every staged file durable, renames each over its target, then
// syncs each directory they are in once (Commit syncs it per file: a job that
// replaces several files of one directory pays one directory sync instead of one per
// file). On Linux the data and the directories are synced by syncfs rounds shared
// with concurrent CommitAll calls on the same file system (fssync_linux.go), each
// file or directory the rounds cannot vouch for by its own fsync. A file that cannot
// be synced fails the call before anything is renamed (Abort then removes the staged
// files); otherwise it stops at the first rename that fails and returns its error;
// the files renamed before it stay.
func CommitAll(staged []*Staged) error {
	for _, s := range staged {
		if s.done {
			return fmt.Errorf("atomicfile: %s: already committed or aborted", s.path)
		}
	}
	tokens := make([]*syncToken, len(staged))
	for i, s := range staged {
		tokens[i] = s.token
	}
	synced := groupSync(tokens)
	var firstErr error
	for i, s := range staged {
		if err := s.finish(synced[i]); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		// Nothing was renamed: remove every staged file (finish removed the failed one).
		for _, s := range staged {
			s.done = true
			os.Remove(s.tmp)
		}
		return firstErr
	}
	var dirs []string
	for _, s := range staged {
		if d := filepath.Dir(s.path); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	dtokens := dirTokens(dirs) // before the renames change the directories
	for _, s := range staged {
		s.done = true
		if err := os.Rename(s.tmp, s.path); err != nil {
			os.Remove(s.tmp)
			return fmt.Errorf("atomicfile: rename %s: %w", s.path, err)
		}
	}
	for i, ok := range groupSync(dtokens) {
		if ok {
			continue
		}
		if d, err := os.Open(dirs[i]); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return nil
}
