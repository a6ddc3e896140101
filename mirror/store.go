package mirror

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
)

// StateFile is the name of the mirror's state file inside the mirror directory.
const StateFile = "state.json"

// SourceState is what the mirror remembers about one source between runs: where its
// updates come from and how far they have been applied.
type SourceState struct {
	// Serial is the last NRTMv3 serial applied (the dump's serial after a load).
	Serial uint64 `json:"serial,omitempty"`
	// SessionID and Version are the NRTMv4 session and the last version applied.
	SessionID string `json:"session_id,omitempty"`
	Version   uint64 `json:"version,omitempty"`
	// NRTM3 is the NRTMv3 server (HOST:PORT); NRTM4 the Update Notification File
	// location (URL or directory) and NRTM4Key the PEM or base64 public key text.
	NRTM3    string `json:"nrtm3,omitempty"`
	NRTM4    string `json:"nrtm4,omitempty"`
	NRTM4Key string `json:"nrtm4_key,omitempty"`
	// NextSigningKey is the key announced for rotation by the last notification.
	NextSigningKey string `json:"next_signing_key,omitempty"`
	// DB is the file, relative to the mirror directory, holding the source's objects;
	// Journal holds the changes since DB was written, of which the first JournalBytes
	// are committed.
	DB           string    `json:"db"`
	Journal      string    `json:"journal,omitempty"`
	JournalBytes int64     `json:"journal_bytes,omitempty"`
	Objects      int       `json:"objects"`
	Updated      time.Time `json:"updated"`
}

// State is the content of the state file.
type State struct {
	Sources map[string]*SourceState `json:"sources"`
}

func readState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return &State{Sources: map[string]*SourceState{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("mirror: %s: %w", filepath.Join(dir, StateFile), err)
	}
	if st.Sources == nil {
		st.Sources = map[string]*SourceState{}
	}
	for name, s := range st.Sources {
		if !validAttrName(name) || s == nil || !plainName(s.DB) || !plainName(s.Journal) || s.JournalBytes < 0 {
			return nil, fmt.Errorf("mirror: %s: bad entry for source %q", StateFile, name)
		}
	}
	return &st, nil
}

// plainName accepts "" or a file name without directories, as state entries must be.
func plainName(n string) bool {
	return n == "" || (filepath.Base(n) == n && !strings.HasPrefix(n, "."))
}

func writeState(dir string, st *State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("mirror: encode state: %w", err)
	}
	return atomicfile.WriteFile(filepath.Join(dir, StateFile), append(b, '\n'), 0o644)
}

// store holds the current objects of one source by identity (Object.ID).
type store struct {
	objs map[string]*Object
}

func newStore() *store { return &store{objs: make(map[string]*Object)} }

// sorted returns the objects ordered by identity, for deterministic files.
func (s *store) sorted() []*Object {
	ids := make([]string, 0, len(s.objs))
	for id := range s.objs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]*Object, len(ids))
	for i, id := range ids {
		out[i] = s.objs[id]
	}
	return out
}

// writeDB writes the source's objects as an RPSL file (objects separated by blank
// lines, in identity order) atomically.
func (s *store) writeDB(path, source string) error {
	objs := s.sorted()
	size := 64
	for _, o := range objs {
		size += len(o.Text) + 1
	}
	var b bytes.Buffer
	b.Grow(size)
	fmt.Fprintf(&b, "# bgpfilter mirror of %s: %d objects\n\n", source, len(s.objs))
	for _, o := range objs {
		b.WriteString(o.Text)
		b.WriteByte('\n')
	}
	return atomicfile.WriteFile(path, b.Bytes(), 0o644)
}

// readRPSLFile loads the objects of source from an RPSL file (plain or gzip). Objects
// of other sources and malformed objects are counted in skipped.
func readRPSLFile(path, source string, fn func(*Object)) (n, skipped int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("mirror: %w", err)
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 256<<10)
	br := r.(*bufio.Reader)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return 0, 0, fmt.Errorf("mirror: %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	err = ScanObjects(r, func(text string) error {
		o, err := ParseObject(text)
		if err != nil || o.Source != source {
			skipped++
			return nil
		}
		n++
		fn(o)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("mirror: load %s: %w", path, err)
	}
	return n, skipped, nil
}

// journalRec is one line of a source's journal: a change applied since the DB file
// was last written. The journal is replayed over the DB file when the mirror opens,
// up to the length the state file committed.
type journalRec struct {
	Op     string `json:"op"` // "add" or "del"
	Object string `json:"object,omitempty"`
	Class  string `json:"class,omitempty"`
	Key    string `json:"key,omitempty"`
}

// appendJournal writes recs after the committed length and returns the new length.
// Anything beyond the committed length (a write that was never committed) is cut.
func appendJournal(path string, committed int64, recs []journalRec) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return 0, fmt.Errorf("mirror: journal: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(committed); err != nil {
		return 0, fmt.Errorf("mirror: journal: %w", err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	if _, err := f.Seek(committed, io.SeekStart); err != nil {
		return 0, fmt.Errorf("mirror: journal: %w", err)
	}
	enc := json.NewEncoder(w)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return 0, fmt.Errorf("mirror: journal: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return 0, fmt.Errorf("mirror: journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("mirror: journal: %w", err)
	}
	end, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, fmt.Errorf("mirror: journal: %w", err)
	}
	return end, nil
}

// replayJournal applies the first n bytes of a journal to s.
func replayJournal(path string, n int64, s *store) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("mirror: journal: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(io.LimitReader(f, n)))
	for i := 1; ; i++ {
		var r journalRec
		err := dec.Decode(&r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("mirror: journal %s record %d: %w", path, i, err)
		}
		switch r.Op {
		case "add":
			o, err := ParseObject(r.Object)
			if err != nil {
				return fmt.Errorf("mirror: journal %s record %d: %w", path, i, err)
			}
			s.objs[o.ID()] = o
		case "del":
			delete(s.objs, r.Class+"\x00"+r.Key)
		default:
			return fmt.Errorf("mirror: journal %s record %d: op %q", path, i, r.Op)
		}
	}
}
