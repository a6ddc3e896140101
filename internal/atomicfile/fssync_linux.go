//go:build linux

package atomicfile

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Group commit of staged files on Linux. An fsync per file costs a journal commit and
// a device cache flush each; a generate run writes thousands of files, and their
// fsyncs took longer than rendering them. Instead, CommitAll asks for one syncfs(2) of
// the file system, and concurrent CommitAll calls (generate writes many customers at
// once) share it: a caller joins the next sync that starts after its call.
//
// Errors: since Linux 5.8 syncfs reports the writeback errors of the file system
// since the descriptor last saw one (errseq). Each file system has one descriptor,
// opened before any file staged on it is written, and every sync's result is kept by
// round number: a caller whose files were written after round lo completed and that
// joined round hi fails over to fsyncing each of its own files when any round in
// (lo, hi] reported an error (its own, or any other file's on that file system: the
// per-file fsync then says whose). Older kernels, or a syncfs that cannot run, get the
// per-file fsyncs.

type fsSyncer struct {
	mu      sync.Mutex
	cond    *sync.Cond
	fd      *os.File // a directory of the file system, open for the process's life
	running bool
	started uint64 // rounds started
	done    uint64 // rounds finished (rounds run one at a time, in order)
	// failed holds the rounds whose syncfs failed, oldest first, at most maxFailed;
	// forgot is the newest round dropped from it.
	failed []uint64
	forgot uint64
}

const maxFailed = 256

// syncfs is unix.Syncfs; the tests make it fail.
var syncfs = unix.Syncfs

var (
	syncers   sync.Map // device number -> *fsSyncer
	syncfsOK  = sync.OnceValue(kernelReportsSyncfsErrors)
	syncersMu sync.Mutex
)

// kernelReportsSyncfsErrors reports whether this kernel's syncfs returns writeback
// errors (Linux 5.8 and later).
func kernelReportsSyncfsErrors() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	rel := unix.ByteSliceToString(u.Release[:])
	parts := strings.SplitN(rel, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return false
	}
	return major > 5 || major == 5 && minor >= 8
}

// syncToken is a staged file's place in its file system's rounds.
type syncToken struct {
	s    *fsSyncer
	seen uint64 // rounds finished before the file was written
}

// syncTokenFor returns the token of a file about to be written in dir, or nil when
// group commit is not available there (the file is then fsynced on its own).
func syncTokenFor(dir string) *syncToken {
	if !syncfsOK() {
		return nil
	}
	var st unix.Stat_t
	if unix.Stat(dir, &st) != nil {
		return nil
	}
	dev := uint64(st.Dev)
	v, ok := syncers.Load(dev)
	if !ok {
		syncersMu.Lock()
		if v, ok = syncers.Load(dev); !ok {
			fd, err := os.Open(dir)
			if err != nil {
				syncersMu.Unlock()
				return nil
			}
			s := &fsSyncer{fd: fd}
			s.cond = sync.NewCond(&s.mu)
			v = s
			syncers.Store(dev, s)
		}
		syncersMu.Unlock()
	}
	s := v.(*fsSyncer)
	s.mu.Lock()
	defer s.mu.Unlock()
	return &syncToken{s: s, seen: s.done}
}

// next returns the number of the round that will start after now: everything
// written before the call is durable once it has finished.
func (s *fsSyncer) next() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started + 1
}

// wait runs or waits for round need and reports whether every round in (lo, need]
// synced without an error.
func (s *fsSyncer) wait(lo, need uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.done < need {
		if s.running {
			s.cond.Wait()
			continue
		}
		s.running = true
		s.started++
		n := s.started
		s.mu.Unlock()
		err := syncfs(int(s.fd.Fd()))
		s.mu.Lock()
		s.running, s.done = false, n
		if err != nil {
			s.failed = append(s.failed, n)
			if len(s.failed) > maxFailed {
				s.forgot = s.failed[0]
				s.failed = s.failed[1:]
			}
		}
		s.cond.Broadcast()
	}
	if lo < s.forgot {
		return false
	}
	for _, r := range s.failed {
		if r > lo && r <= need {
			return false
		}
	}
	return true
}

// groupSync makes durable what was written to the files of tokens (and, with dirs,
// what was done in those directories since) with shared syncfs rounds. It reports
// false for the tokens it could not vouch for: the caller fsyncs those itself.
func groupSync(tokens []*syncToken) []bool {
	ok := make([]bool, len(tokens))
	need := map[*fsSyncer]uint64{}
	for _, t := range tokens {
		if t != nil {
			if _, seen := need[t.s]; !seen {
				need[t.s] = t.s.next()
			}
		}
	}
	clean := map[*fsSyncer]uint64{} // the oldest seen per syncer
	for _, t := range tokens {
		if t != nil {
			if lo, seen := clean[t.s]; !seen || t.seen < lo {
				clean[t.s] = t.seen
			}
		}
	}
	result := map[*fsSyncer]bool{}
	for s, n := range need {
		result[s] = s.wait(clean[s], n)
	}
	for i, t := range tokens {
		ok[i] = t != nil && result[t.s]
	}
	return ok
}

// dirTokens returns a fresh token per directory, taken before its entries change.
func dirTokens(dirs []string) []*syncToken {
	out := make([]*syncToken, len(dirs))
	for i, d := range dirs {
		out[i] = syncTokenFor(filepath.Clean(d))
	}
	return out
}
