package irrcache

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/irr/rpsl"
)

// The snapshot cache: `--irr FILE` parses RPSL once and keeps the binary snapshot of
// the index (irr.WriteSnapshot) in the cache directory, so that the next run on the
// unchanged files opens the snapshot instead, which costs what its query touches.
//
// An entry is two files named by a hash of the load's key (the absolute paths in
// order, --strict and the default source): irr-<key>.snap, the snapshot, and
// irr-<key>.json, its record: every file's identity (path, size, modification time,
// inode, device), the SHA-256 of their content, the load report (so that the warnings
// of the first run repeat) and the snapshot's header checksum (so that a record never
// vouches for another run's snapshot). A run whose files all have the recorded identity
// uses the snapshot without reading the files; when only the identity changed (touch,
// copy back) the content is hashed and, if equal, the snapshot is used and the record
// updated; otherwise the files are parsed and the entry replaced. Both files are
// written to a temporary name and renamed (never changed in place, which a mapped
// snapshot needs); a record or snapshot that does not verify is ignored with a warning
// and rebuilt. A cache directory that cannot be written costs a warning, never the run.

// SnapshotOptions configure LoadFiles.
type SnapshotOptions struct {
	// Dir is the cache directory (created if missing); empty disables the cache.
	Dir string
	// MinSize is the total file size below which files are parsed directly (parsing a
	// small file is cheaper than writing its snapshot); 0 means DefaultMinSize.
	MinSize int64
	// Logger receives the warnings (nil: discard).
	Logger *slog.Logger
}

// DefaultMinSize is SnapshotOptions.MinSize when it is 0.
const DefaultMinSize = 1 << 20

const recordVersion = "bgpfilter-irr-snapshot v1"

// fileID identifies one file's version without reading it.
type fileID struct {
	Path  string `json:"path"`
	Size  int64  `json:"size"`
	Mtime int64  `json:"mtime_ns"`
	Inode uint64 `json:"inode"`
	Dev   uint64 `json:"dev"`
}

// record is the irr-<key>.json file of an entry.
type record struct {
	Version   string          `json:"version"`
	Files     []fileID        `json:"files"`
	SHA256    string          `json:"sha256"`
	SnapCRC   uint32          `json:"snapshot_header_crc"`
	SnapSize  int64           `json:"snapshot_size"`
	Report    *irr.LoadReport `json:"report"`
	WrittenAt time.Time       `json:"written_at"`
}

func identify(path string) (fileID, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fileID{}, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return fileID{}, err
	}
	id := fileID{Path: abs, Size: st.Size(), Mtime: st.ModTime().UnixNano()}
	id.Inode, id.Dev = inode(st)
	return id, nil
}

// LoadFiles is irr.Load through the snapshot cache of opt.Dir (see above). After a
// parse, the snapshot is written in the background while the caller queries the index:
// close the index (irr.Index.Close) before the process exits, which waits for it (a
// failed write is a warning, not an error of Close).
func LoadFiles(ctx context.Context, paths []string, lopt irr.LoadOptions, opt SnapshotOptions) (*irr.Index, *irr.LoadReport, error) {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opt.Dir == "" || len(paths) == 1 && irr.IsSnapshot(paths[0]) {
		return irr.Load(ctx, paths, lopt)
	}
	var ids []fileID
	var total int64
	for _, p := range paths {
		fs, err := rpsl.Files(p)
		if err != nil {
			return irr.Load(ctx, paths, lopt) // reports the error as a load does
		}
		for _, f := range fs {
			id, err := identify(f)
			if err != nil || irr.IsSnapshot(f) {
				return irr.Load(ctx, paths, lopt)
			}
			ids = append(ids, id)
			total += id.Size
		}
	}
	if min := opt.MinSize; total < min || min == 0 && total < DefaultMinSize {
		return irr.Load(ctx, paths, lopt)
	}
	keyh := sha256.New()
	fmt.Fprintf(keyh, "%s\nstrict=%v\nsource=%s\n", recordVersion, lopt.Strict, lopt.DefaultSource)
	for _, id := range ids {
		fmt.Fprintf(keyh, "%s\n", id.Path)
	}
	key := hex.EncodeToString(keyh.Sum(nil))[:32]
	base := filepath.Join(opt.Dir, "irr-"+key)
	e := &entry{dir: opt.Dir, rec: base + ".json", snap: base + ".snap", log: log}

	if ix, rep, ok := e.open(ctx, ids, lopt); ok {
		log.Debug("IRR snapshot cache hit", "snapshot", e.snap)
		return ix, rep, nil
	}
	log.Debug("IRR snapshot cache miss: parsing the files", "snapshot", e.snap)
	h := sha256.New()
	lopt.Tee = h
	ix, rep, err := irr.Load(ctx, paths, lopt)
	if err != nil {
		return ix, rep, err
	}
	// Files changed while they were read are not cached: the hash would not match.
	for _, id := range ids {
		if now, err := identify(id.Path); err != nil || now != id {
			log.Warn("IRR file changed while it was read; not caching its snapshot", "file", id.Path)
			return ix, rep, nil
		}
	}
	rec := &record{Version: recordVersion, Files: ids, SHA256: hex.EncodeToString(h.Sum(nil)), Report: rep}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := e.write(ix, rec); err != nil {
			log.Warn("cannot write the IRR snapshot cache (the next run parses the files again)", "dir", opt.Dir, "error", err)
		}
	}()
	ix.OnClose(func() error { <-done; return nil })
	return ix, rep, nil
}

type entry struct {
	dir, rec, snap string
	log            *slog.Logger
}

// open returns the cached index when the entry is valid for ids.
func (e *entry) open(ctx context.Context, ids []fileID, lopt irr.LoadOptions) (*irr.Index, *irr.LoadReport, bool) {
	b, err := os.ReadFile(e.rec)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, false
	}
	var rec record
	if err == nil {
		err = json.Unmarshal(b, &rec)
	}
	if err == nil && (rec.Version != recordVersion || rec.Report == nil || len(rec.Files) != len(ids)) {
		err = errors.New("unknown version or incomplete record")
	}
	if err != nil {
		e.log.Warn("ignoring a corrupt IRR snapshot cache record", "file", e.rec, "error", err)
		return nil, nil, false
	}
	if !slices.Equal(rec.Files, ids) {
		// Same paths, another identity: the same content (touch, a copy put back)
		// keeps the snapshot.
		for i := range ids {
			if ids[i].Size != rec.Files[i].Size {
				return nil, nil, false
			}
		}
		sum, err := hashFiles(ids)
		if err != nil || sum != rec.SHA256 {
			return nil, nil, false
		}
		e.log.Debug("IRR files have a new identity but the same content: keeping the snapshot", "snapshot", e.snap)
		rec.Files = ids
		if b, err := json.Marshal(&rec); err == nil {
			if err := atomicfile.WriteFile(e.rec, b, 0o644); err != nil {
				e.log.Warn("cannot update the IRR snapshot cache record", "file", e.rec, "error", err)
			}
		}
	}
	if crc, size, err := snapHeader(e.snap); err != nil || crc != rec.SnapCRC || size != rec.SnapSize {
		e.log.Warn("ignoring a corrupt or mismatched IRR snapshot cache file", "file", e.snap, "error", err)
		return nil, nil, false
	}
	ix, _, err := irr.Load(ctx, []string{e.snap}, irr.LoadOptions{ReadSnapshot: lopt.ReadSnapshot})
	if err != nil {
		e.log.Warn("ignoring a corrupt IRR snapshot cache file", "file", e.snap, "error", err)
		return nil, nil, false
	}
	ix.OnSnapshotError(func(err error) {
		e.log.Warn("removed a corrupt IRR snapshot cache entry; the next run parses the files again", "file", e.snap, "error", err)
		os.Remove(e.rec)
		os.Remove(e.snap)
	})
	return ix, rec.Report, true
}

// snapHeader returns the header checksum (bytes 12-16) and the size of a snapshot.
func snapHeader(path string) (uint32, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var b [len(irr.SnapshotMagic) + 8]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return 0, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	return binary.LittleEndian.Uint32(b[len(irr.SnapshotMagic)+4:]), st.Size(), nil
}

func hashFiles(ids []fileID) (string, error) {
	h := sha256.New()
	for _, id := range ids {
		if err := hashFile(h, id.Path); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(h hash.Hash, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(h, f)
	return err
}

// write stores ix and rec: the snapshot first, then the record naming its header
// checksum, each to a temporary file renamed into place; then entries whose files are
// gone are removed.
func (e *entry) write(ix *irr.Index, rec *record) error {
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(e.dir, ".irr-*.snap.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	bw := bufio.NewWriterSize(f, 1<<20)
	err = ix.WriteSnapshot(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if rec.SnapCRC, rec.SnapSize, err = snapHeader(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, e.snap); err != nil {
		return err
	}
	rec.WrittenAt = time.Now().UTC()
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(e.rec, b, 0o644); err != nil {
		return err
	}
	e.evict()
	return nil
}

// evict removes the entries one of whose files no longer exists, so that the cache of
// dumps that come and go (dated file names, temporary directories) does not grow
// without bound.
func (e *entry) evict() {
	tmps, _ := filepath.Glob(filepath.Join(e.dir, ".irr-*.snap.tmp"))
	for _, p := range tmps {
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > time.Hour {
			os.Remove(p) // left by a run that exited while writing
		}
	}
	recs, _ := filepath.Glob(filepath.Join(e.dir, "irr-*.json"))
	for _, p := range recs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var rec record
		if json.Unmarshal(b, &rec) != nil {
			continue
		}
		for _, id := range rec.Files {
			if _, err := os.Stat(id.Path); errors.Is(err, os.ErrNotExist) {
				os.Remove(strings.TrimSuffix(p, ".json") + ".snap")
				os.Remove(p)
				break
			}
		}
	}
}
