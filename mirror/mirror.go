package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/irr/rpsl"
)

// Index is what a mirror keeps current: *irr.Index implements it. Apply must delete
// and add a batch atomically with respect to queries.
type Index interface {
	Apply(adds, deletes []*rpsl.Object) error
}

// SourceConfig configures one mirrored source. Empty fields keep what the state file
// recorded in an earlier run.
type SourceConfig struct {
	Name       string // IRR source name, e.g. RIPE
	Dump       string // RPSL dump (plain or .gz) loaded when the source has no data yet, or with Config.Reload
	DumpSerial uint64 // the dump's NRTMv3 serial (e.g. RIPE.CURRENTSERIAL)
	NRTM3      string // NRTMv3 server HOST:PORT
	NRTM4      string // NRTMv4 Update Notification File: https:// or file:// URL, or a local directory or file
	NRTM4Key   string // NRTMv4 public key text (PEM or base64); required with NRTM4
}

// Config configures a Mirror.
type Config struct {
	Dir      string         // the mirror directory (created if missing)
	Sources  []SourceConfig // sources to add or reconfigure; the state file keeps the rest
	Reload   bool           // load the configured dumps even if the source already has data
	Interval time.Duration  // time between update rounds in Run (default 1 minute)
	Timeout  time.Duration  // bound on one source's update (default 10 minutes)
	Logger   *slog.Logger   // nil: discard
	HTTP     *http.Client   // for https:// NRTMv4 locations; nil: a client with Timeout
	// MaxAge refuses an NRTMv4 notification whose timestamp is older than this, so a
	// replayed (validly signed) old notification cannot hold the mirror back; 0: off.
	MaxAge time.Duration
}

// Mirror is a set of mirrored IRR sources in one directory. Update applies pending
// NRTM updates to the stored copy and to the attached index; its methods are safe for
// concurrent use (updates are serialised).
type Mirror struct {
	cfg    Config
	log    *slog.Logger
	mu     sync.Mutex
	st     *State
	stores map[string]*store
	ix     Index
	// pending holds the journal records of changes not yet persisted; compact marks
	// sources whose next persist rewrites the DB file (after a full replacement).
	pending map[string][]journalRec
	compact map[string]bool
	lock    *os.File // exclusive flock on the directory's lock file while open
}

// LockFile is the lock file in the mirror directory: one process at a time may open a
// mirror, since two writers would interleave journal and state writes.
const LockFile = ".lock"

// ErrLocked is returned by Open when another process has the mirror open.
var ErrLocked = errors.New("mirror directory is in use by another process")

// Close releases the mirror directory. The Mirror must not be used afterwards.
func (m *Mirror) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lock == nil {
		return nil
	}
	err := m.lock.Close() // closing the descriptor releases the flock
	m.lock = nil
	return err
}

// Open reads the mirror directory, applies cfg.Sources (loading dumps where needed)
// and returns the mirror with every source's objects in memory.
func Open(cfg Config) (*Mirror, error) {
	if cfg.Dir == "" {
		return nil, errors.New("mirror: no directory")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(cfg.Dir, LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	if err := lockFile(lock); err != nil {
		lock.Close()
		return nil, fmt.Errorf("mirror: %s: %w (%v)", cfg.Dir, ErrLocked, err)
	}
	m, err := open(cfg, lock)
	if err != nil {
		lock.Close()
		return nil, err
	}
	return m, nil
}

func open(cfg Config, lock *os.File) (*Mirror, error) {
	st, err := readState(cfg.Dir)
	if err != nil {
		return nil, err
	}
	m := &Mirror{cfg: cfg, log: cfg.Logger, st: st, stores: map[string]*store{},
		pending: map[string][]journalRec{}, compact: map[string]bool{}, lock: lock}
	for name, ss := range st.Sources {
		s := newStore()
		if ss.DB != "" {
			if _, _, err := readRPSLFile(filepath.Join(cfg.Dir, ss.DB), name, func(o *Object) { s.objs[o.ID()] = o }); err != nil {
				return nil, err
			}
		}
		if ss.Journal != "" && ss.JournalBytes > 0 {
			if err := replayJournal(filepath.Join(cfg.Dir, ss.Journal), ss.JournalBytes, s); err != nil {
				return nil, err
			}
		}
		m.stores[name] = s
	}
	for _, sc := range cfg.Sources {
		if err := m.configure(sc); err != nil {
			return nil, err
		}
	}
	if err := writeState(cfg.Dir, m.st); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Mirror) configure(sc SourceConfig) error {
	name := strings.ToUpper(strings.TrimSpace(sc.Name))
	if !validAttrName(name) {
		return fmt.Errorf("mirror: bad source name %q", sc.Name)
	}
	ss := m.st.Sources[name]
	if ss == nil {
		ss = &SourceState{}
		m.st.Sources[name] = ss
		m.stores[name] = newStore()
	}
	if sc.NRTM3 != "" {
		ss.NRTM3 = sc.NRTM3
	}
	if sc.NRTM4 != "" {
		ss.NRTM4 = sc.NRTM4
	}
	if sc.NRTM4Key != "" {
		if _, err := ParsePublicKey([]byte(sc.NRTM4Key)); err != nil {
			return fmt.Errorf("mirror: source %s: %w", name, err)
		}
		ss.NRTM4Key = sc.NRTM4Key
	}
	if ss.NRTM4 != "" && ss.NRTM4Key == "" {
		return fmt.Errorf("mirror: source %s: NRTMv4 needs a public key", name)
	}
	if sc.Dump == "" || (ss.DB != "" && !m.cfg.Reload) {
		return nil
	}
	s := newStore()
	n, skipped, err := readRPSLFile(sc.Dump, name, func(o *Object) { s.objs[o.ID()] = o })
	if err != nil {
		return err
	}
	m.log.Info("dump loaded", "source", name, "file", sc.Dump, "objects", n, "skipped", skipped, "serial", sc.DumpSerial)
	if err := m.replace(name, s); err != nil {
		return err
	}
	ss.Serial, ss.SessionID, ss.Version = sc.DumpSerial, "", 0
	return m.persist(name)
}

// Sources returns the mirrored source names, sorted.
func (m *Mirror) Sources() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.st.Sources))
	for n := range m.st.Sources {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// State returns a copy of one source's state; ok is false for an unknown source.
func (m *Mirror) State(source string) (SourceState, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ss := m.st.Sources[strings.ToUpper(source)]
	if ss == nil {
		return SourceState{}, false
	}
	return *ss, true
}

// Objects returns the stored objects of a source in identity order.
func (m *Mirror) Objects(source string) []*Object {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.stores[strings.ToUpper(source)]; s != nil {
		return s.sorted()
	}
	return nil
}

// Attach loads every stored object into ix and makes ix the target of later updates.
// Objects the index refuses are logged and left out.
func (m *Mirror) Attach(ix Index) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(m.stores)) {
		objs := m.stores[name].sorted()
		for len(objs) > 0 {
			n := min(len(objs), 10000)
			adds, bad := convert(objs[:n])
			for _, o := range bad {
				delete(m.stores[name].objs, o.ID())
			}
			if len(bad) > 0 {
				m.log.Warn("objects refused by the index", "source", name, "count", len(bad))
			}
			if err := ix.Apply(adds, nil); err != nil {
				return fmt.Errorf("mirror: attach %s: %w", name, err)
			}
			objs = objs[n:]
		}
	}
	m.ix = ix
	return nil
}

// convert turns objects into index objects, validating each against the index's
// rules; refused ones are returned in bad.
func convert(objs []*Object) (good []*rpsl.Object, bad []*Object) {
	var scratch *irr.Index
	for i, o := range objs {
		if i%4096 == 0 {
			scratch = irr.NewIndex()
		}
		ro, err := check(scratch, o)
		if err != nil {
			bad = append(bad, o)
			continue
		}
		good = append(good, ro)
	}
	return good, bad
}

// check parses o and validates it against the index's rules (by adding it to
// scratch, an index used only for this), so that the mirror refuses what the index
// would refuse before storing it.
func check(scratch *irr.Index, o *Object) (*rpsl.Object, error) {
	if o.Class == "route" || o.Class == "route6" {
		pfx, _, _ := strings.Cut(strings.ToLower(o.Key), "as")
		if p, err := netip.ParsePrefix(pfx); err == nil && p != p.Masked() {
			return nil, fmt.Errorf("%s %s: host bits set (the prefix is %s)", o.Class, p, p.Masked())
		}
	}
	sc := rpsl.NewScanner(strings.NewReader(o.Text), "mirror")
	ro, err := sc.Next()
	sc.Close()
	if err == nil {
		err = scratch.Add(ro)
	}
	return ro, err
}

// batchStats counts what one batch did.
type batchStats struct {
	adds, deletes, ignored, refused int
}

// applyBatch applies changes (in order) to the store of source and, as one batch, to
// the attached index. Changes for objects of other sources are ignored; deletions of
// unknown objects are counted in ignored. Nothing changes when an error is returned.
func (m *Mirror) applyBatch(source string, changes []Change) (batchStats, error) {
	s := m.stores[source]
	overlay := make(map[string]*Object)
	var st batchStats
	var scratch *irr.Index
	checked := 0
	for i := range changes {
		c := &changes[i]
		id := c.ID()
		if c.Kind == OpAdd {
			if c.Object.Source != source {
				st.ignored++
				continue
			}
			// Refuse what the index would refuse now, as IRRd refuses an NRTM
			// operation whose object does not parse ("This operation is ignored"),
			// instead of storing it and failing on it at every later load.
			if checked%4096 == 0 {
				scratch = irr.NewIndex()
			}
			checked++
			if _, err := check(scratch, c.Object); err != nil {
				st.refused++
				m.log.Warn("NRTM ADD refused", "source", source, "op", c.From, "class", c.Object.Class, "key", c.Object.Key, "err", err)
				continue
			}
			overlay[id] = c.Object
			continue
		}
		if c.Object != nil && c.Object.Source != source { // an NRTMv3 DEL names its object's source
			st.ignored++
			continue
		}
		cur, inOverlay := overlay[id]
		if !inOverlay {
			cur = s.objs[id]
		}
		if cur == nil {
			st.ignored++
			continue
		}
		overlay[id] = nil
	}
	return st, m.commit(source, overlay, &st)
}

// replace makes the objects of next the whole content of source, as one batch.
func (m *Mirror) replace(source string, next *store) error {
	s := m.stores[source]
	overlay := make(map[string]*Object, len(next.objs))
	for id := range s.objs {
		overlay[id] = nil
	}
	for id, o := range next.objs {
		overlay[id] = o
	}
	var st batchStats
	m.compact[source] = true
	return m.commit(source, overlay, &st)
}

// commit applies an overlay (identity → new object, nil for deleted) to the index and
// then to the store.
func (m *Mirror) commit(source string, overlay map[string]*Object, st *batchStats) error {
	s := m.stores[source]
	ids := slices.Sorted(maps.Keys(overlay))
	var addObjs, delObjs []*Object
	for _, id := range ids {
		old, nw := s.objs[id], overlay[id]
		if old != nil && nw != nil && old.Text == nw.Text {
			delete(overlay, id)
			continue
		}
		if old != nil {
			delObjs = append(delObjs, old)
		}
		if nw != nil {
			addObjs = append(addObjs, nw)
		}
	}
	if m.ix != nil {
		adds, bad := convert(addObjs)
		for _, o := range bad {
			st.refused++
			overlay[o.ID()] = nil
			m.log.Warn("object refused by the index", "source", source, "class", o.Class, "key", o.Key)
		}
		dels, _ := convert(delObjs)
		if err := m.ix.Apply(adds, dels); err != nil && !errors.Is(err, irr.ErrNotFound) {
			return fmt.Errorf("mirror: apply %s: %w", source, err)
		} else if err != nil {
			m.log.Warn("index out of step with the mirror", "source", source, "err", err)
		}
	}
	journal := !m.compact[source]
	for _, id := range ids {
		o, ok := overlay[id]
		switch {
		case !ok:
		case o == nil:
			old := s.objs[id]
			if old == nil {
				continue
			}
			st.deletes++
			delete(s.objs, id)
			if journal {
				m.pending[source] = append(m.pending[source], journalRec{Op: "del", Class: old.Class, Key: old.Key})
			}
		default:
			st.adds++
			s.objs[id] = o
			if journal {
				m.pending[source] = append(m.pending[source], journalRec{Op: "add", Object: o.Text})
			}
		}
	}
	return nil
}

// persist commits the source's changes: it appends them to the journal, or rewrites
// the DB file when there is none yet, after a full replacement, or when the journal
// has grown past a quarter of the DB file (at least 1 MB). The state file is written
// last; it is the commit point.
func (m *Mirror) persist(source string) error {
	ss := m.st.Sources[source]
	s := m.stores[source]
	dbPath := filepath.Join(m.cfg.Dir, source+".db")
	ss.Journal = source + ".journal"
	jPath := filepath.Join(m.cfg.Dir, ss.Journal)
	rewrite := ss.DB == "" || m.compact[source]
	if !rewrite {
		st, err := os.Stat(dbPath)
		rewrite = err != nil || ss.JournalBytes > max(st.Size()/4, 1<<20)
	}
	if rewrite {
		if err := s.writeDB(dbPath, source); err != nil {
			return err
		}
		ss.DB, ss.JournalBytes = source+".db", 0
	} else if recs := m.pending[source]; len(recs) > 0 {
		n, err := appendJournal(jPath, ss.JournalBytes, recs)
		if err != nil {
			return err
		}
		ss.JournalBytes = n
	}
	ss.Objects = len(s.objs)
	ss.Updated = time.Now().UTC().Truncate(time.Second)
	if err := writeState(m.cfg.Dir, m.st); err != nil {
		return err
	}
	delete(m.pending, source)
	delete(m.compact, source)
	if rewrite {
		// Only after the state no longer refers to it; a leftover tail is ignored anyway.
		if err := os.Truncate(jPath, 0); err != nil && !errors.Is(err, os.ErrNotExist) {
			m.log.Warn("mirror journal truncate failed", "source", source, "err", err)
		}
	}
	return nil
}

// ApplyNRTM3 applies a parsed NRTMv3 stream to source as one batch. The stream must
// continue exactly at the source's serial; anything else leaves the mirror unchanged.
func (m *Mirror) ApplyNRTM3(source string, s *Stream) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.applyNRTM3(strings.ToUpper(source), s)
}

func (m *Mirror) applyNRTM3(source string, s *Stream) error {
	ss := m.st.Sources[source]
	if ss == nil {
		return fmt.Errorf("mirror: unknown source %s", source)
	}
	if s.Source != source {
		return fmt.Errorf("mirror: %s: %w: stream is for %s", source, ErrNRTMFormat, s.Source)
	}
	if ss.Serial == 0 {
		return fmt.Errorf("mirror: %s: no serial yet (load a dump with its serial first)", source)
	}
	if s.First != ss.Serial+1 {
		return fmt.Errorf("mirror: %s: %w: stream starts at %d, mirror is at %d", source, ErrSerial, s.First, ss.Serial)
	}
	if len(s.Ops) == 0 {
		return nil
	}
	changes := make([]Change, len(s.Ops))
	for i, op := range s.Ops {
		changes[i] = Change{Kind: op.Kind, Object: op.Object, From: fmt.Sprintf("serial %d", op.Serial)}
		if op.Kind == OpDel {
			changes[i].Class, changes[i].Key = op.Object.Class, op.Object.Key
		}
	}
	st, err := m.applyBatch(source, changes)
	if err != nil {
		return err
	}
	ss.Serial = s.LastSerial()
	m.log.Info("nrtm3 applied", "source", source, "serial", ss.Serial, "adds", st.adds, "deletes", st.deletes, "ignored", st.ignored, "refused", st.refused)
	return m.persist(source)
}

// Update runs one update round: every source with an NRTMv4 or NRTMv3 location is
// brought up to date. Errors of different sources are joined; a failed source keeps
// its previous state.
func (m *Mirror) Update(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(m.st.Sources)) {
		ss := m.st.Sources[name]
		sctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
		var err error
		switch {
		case ss.NRTM4 != "":
			err = m.updateNRTM4(sctx, name, ss)
		case ss.NRTM3 != "":
			err = m.updateNRTM3(sctx, name, ss)
		}
		cancel()
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (m *Mirror) updateNRTM3(ctx context.Context, name string, ss *SourceState) error {
	if ss.Serial == 0 {
		return fmt.Errorf("mirror: %s: no serial yet (load a dump with its serial first)", name)
	}
	s, err := FetchNRTM3(ctx, ss.NRTM3, name, ss.Serial+1)
	if errors.Is(err, ErrUpToDate) {
		m.log.Debug("nrtm3 up to date", "source", name, "serial", ss.Serial)
		return nil
	}
	if err != nil {
		return err
	}
	return m.applyNRTM3(name, s)
}

// Run updates the mirror every Interval until ctx ends, logging failed rounds (a
// failed round leaves the mirror as it was; the next round retries). It returns
// ctx's error.
func (m *Mirror) Run(ctx context.Context) error {
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		if err := m.Update(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("mirror update failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Run opens the mirror in cfg.Dir, loads its objects into ix and keeps ix current
// until ctx ends. A whois server calls it in a goroutine after building ix; queries
// see each update entirely or not at all.
func Run(ctx context.Context, ix *irr.Index, cfg Config) error {
	m, err := Open(cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Attach(ix); err != nil {
		return err
	}
	return m.Run(ctx)
}
