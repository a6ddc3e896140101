// Package irrcache keeps IRR query answers on disk between runs. It wraps an
// irr.Querier: answers younger than the TTL are served from the cache, every fresh
// answer is stored, and when the wrapped Querier fails with irr.ErrUnavailable (every
// server down) an answer no older than the stale-on-failure limit is used instead —
// loudly: a warning on the log and a StaleUse record for the run summary.
//
// Entries are keyed by the server identity (the configured server list, in order), the
// query and the source list: an answer from one server never serves a run against
// another, and "default sources" means that server's defaults. Each entry is a file written
// atomically (temporary file, fsync, rename) holding a header with the key, the time
// it was stored and a SHA-256 of the payload; a file whose header, key, length or
// checksum does not match is ignored with a warning.
package irrcache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

// magic starts every cache file; the version changes when the format does.
const magic = "bgpfilter-irrcache v1\n"

// maxEntry bounds the size of a cache file that is read back.
const maxEntry = 1 << 30

// Options configure a Cache.
type Options struct {
	// Dir holds the cache files (created if missing).
	Dir string
	// TTL is how long an answer is served without asking the servers; 0 always
	// asks (the cache then only serves StaleOnFailure).
	TTL time.Duration
	// StaleOnFailure, when positive, allows an answer up to this old when the
	// wrapped Querier fails with irr.ErrUnavailable.
	StaleOnFailure time.Duration
	// Server identifies where the answers come from, e.g. "whois://a:43 whois://b:43";
	// it is part of every key. Empty: the wrapped Querier's Identity() (irr.Failover
	// and whois.Client have one); New fails when there is neither.
	Server string
	// Logger receives the warnings (nil: discard).
	Logger *slog.Logger
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// StaleUse records one answer served from the cache because every server failed.
type StaleUse struct {
	Query    string    `json:"query"`
	StoredAt time.Time `json:"stored_at"`
	Age      string    `json:"age"`
	Cause    string    `json:"cause"`
}

// Cache is an irr.Querier that caches the answers of another one.
type Cache struct {
	q   irr.Querier
	opt Options
	log *slog.Logger

	mu       sync.Mutex
	stale    []StaleUse
	hits     int
	reported bool // the stale summary line was logged
}

// Identifier is implemented by Queriers that can name the servers they ask.
type Identifier interface {
	Identity() string
}

var _ irr.Querier = (*Cache)(nil)

// New wraps q with a cache in opt.Dir.
func New(q irr.Querier, opt Options) (*Cache, error) {
	if opt.Dir == "" {
		return nil, errors.New("irrcache: no cache directory")
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("irrcache: %w", err)
	}
	if opt.Server == "" {
		if id, ok := q.(Identifier); ok {
			opt.Server = id.Identity()
		}
	}
	if opt.Server == "" {
		return nil, errors.New("irrcache: no server identity for the cache keys")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cache{q: q, opt: opt, log: log}, nil
}

// StaleUses returns the answers served stale so far (for the run's JSON summary).
func (c *Cache) StaleUses() []StaleUse {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.stale)
}

// Hits returns how many answers came from the cache within the TTL.
func (c *Cache) Hits() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits
}

// StaleCount returns how many answers were served stale so far; a run with a
// non-zero count used old data and its summary must say so.
func (c *Cache) StaleCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.stale)
}

// ReportStale logs, once per Cache, one ERROR line that counts the answers served
// stale (with the oldest one's age and the first failure), instead of one line per
// query: a run that used 4,000 cached answers says so once. It is called by Close;
// later stale uses are counted in StaleUses but not logged again.
func (c *Cache) ReportStale() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reported || len(c.stale) == 0 {
		return
	}
	c.reported = true
	oldest := c.stale[0]
	for _, u := range c.stale[1:] {
		if u.StoredAt.Before(oldest.StoredAt) {
			oldest = u
		}
	}
	// Error level so that --quiet (cron) still shows it.
	c.log.Error("STALE IRR DATA: every IRR server failed; answers were taken from the cache",
		"stale_answers", len(c.stale), "oldest_stored_at", oldest.StoredAt.Format(time.RFC3339), "oldest_age", oldest.Age,
		"first_query", c.stale[0].Query, "cause", c.stale[0].Cause)
}

// Close reports the stale answers (ReportStale) and closes the wrapped Querier when
// it has a Close method.
func (c *Cache) Close() error {
	c.ReportStale()
	if cl, ok := c.q.(interface{ Close() error }); ok {
		return cl.Close()
	}
	return nil
}

// codec is how a kind of answer is stored: its file name suffix, the magic line its
// files start with, and its payload encoding.
type codec[T any] struct {
	ext, magic string
	encode     func(T) ([]byte, error)
	decode     func([]byte, *T) error
}

// jsonCodec stores T as JSON (".json" files, magic v1).
func jsonCodec[T any]() codec[T] {
	return codec[T]{ext: ".json", magic: magic,
		encode: func(v T) ([]byte, error) { return json.Marshal(v) },
		decode: func(b []byte, v *T) error { return json.Unmarshal(b, v) }}
}

// cached runs one query through the cache: key identifies it, desc names it in
// messages, and fetch asks the wrapped Querier. T is stored as JSON.
func cached[T any](c *Cache, key, desc string, fetch func() (T, error)) (T, error) {
	return cachedAs(c, jsonCodec[T](), key, desc, fetch)
}

// cachedAs is cached with the answer stored by cd.
func cachedAs[T any](c *Cache, cd codec[T], key, desc string, fetch func() (T, error)) (T, error) {
	var zero T
	now := c.opt.Now()
	if c.opt.TTL > 0 {
		var v T
		if stored, ok := loadAs(c, cd, key, &v); ok && now.Sub(stored) <= c.opt.TTL && !stored.After(now) {
			c.mu.Lock()
			c.hits++
			c.mu.Unlock()
			c.log.Debug("irrcache: hit", "query", desc, "age", now.Sub(stored).Round(time.Second).String())
			return v, nil
		}
	}
	v, err := fetch()
	if err == nil {
		if werr := storeAs(c, cd, key, v); werr != nil {
			c.log.Warn("irrcache: cannot store answer", "query", desc, "err", werr)
		}
		return v, nil
	}
	if c.opt.StaleOnFailure <= 0 || !errors.Is(err, irr.ErrUnavailable) {
		return zero, err
	}
	var sv T
	stored, ok := loadAs(c, cd, key, &sv)
	if !ok {
		return zero, fmt.Errorf("%w (and no cached answer for --stale-on-failure)", err)
	}
	age := now.Sub(stored)
	if age > c.opt.StaleOnFailure {
		return zero, fmt.Errorf("%w (the cached answer is %s old, more than --stale-on-failure %s)", err, age.Round(time.Second), c.opt.StaleOnFailure)
	}
	use := StaleUse{Query: desc, StoredAt: stored.UTC(), Age: age.Round(time.Second).String(), Cause: err.Error()}
	c.mu.Lock()
	c.stale = append(c.stale, use)
	c.mu.Unlock()
	// One line per query at debug level; ReportStale (at Close) gives the one
	// ERROR line with the count.
	c.log.Debug("irrcache: stale answer", "query", desc, "age", use.Age, "stored_at", use.StoredAt.Format(time.RFC3339), "cause", err)
	return sv, nil
}

// header is the first line of a cache file after the magic.
type header struct {
	Key    string    `json:"key"`
	Stored time.Time `json:"stored"`
	Length int       `json:"length"`
	SHA256 string    `json:"sha256"`
}

// path is the JSON entry's file for key.
func (c *Cache) path(key string) string { return c.pathExt(key, ".json") }

func (c *Cache) pathExt(key, ext string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(c.opt.Dir, h[:2], h+ext)
}

// store writes v under key atomically, as JSON.
func (c *Cache) store(key string, v any) error {
	return storeAs(c, jsonCodec[any](), key, v)
}

func storeAs[T any](c *Cache, cd codec[T], key string, v T) error {
	payload, err := cd.encode(v)
	if err != nil {
		return fmt.Errorf("irrcache: encode: %w", err)
	}
	sum := sha256.Sum256(payload)
	hdr, err := json.Marshal(header{Key: key, Stored: c.opt.Now().UTC(), Length: len(payload), SHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		return fmt.Errorf("irrcache: encode: %w", err)
	}
	var b bytes.Buffer
	b.Grow(len(cd.magic) + len(hdr) + len(payload) + 2)
	b.WriteString(cd.magic)
	b.Write(hdr)
	b.WriteByte('\n')
	b.Write(payload)
	b.WriteByte('\n')
	p := c.pathExt(key, cd.ext)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("irrcache: %w", err)
	}
	return atomicfile.WriteFile(p, b.Bytes(), 0o644)
}

// loadAs reads the entry for key into v and returns when it was stored. A missing
// entry is a silent miss; a damaged one a miss with a warning.
func loadAs[T any](c *Cache, cd codec[T], key string, v *T) (time.Time, bool) {
	p := c.pathExt(key, cd.ext)
	stored, err := readEntry(p, cd.magic, key, func(b []byte) error { return cd.decode(b, v) })
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			c.log.Warn("irrcache: ignoring damaged cache entry", "file", p, "err", err)
		}
		return time.Time{}, false
	}
	return stored, true
}

// readEntry reads a cache file in one read and verifies and decodes it.
func readEntry(p, magic, key string, decode func([]byte) error) (time.Time, error) {
	f, err := os.Open(p)
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return time.Time{}, err
	}
	if st.Size() > maxEntry {
		return time.Time{}, fmt.Errorf("entry of %d bytes is too large", st.Size())
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil {
		return time.Time{}, err
	}
	return decodeEntryAs(data, magic, key, decode)
}

// decodeEntry verifies and decodes a JSON cache file's bytes.
func decodeEntry(data []byte, key string, v any) (time.Time, error) {
	return decodeEntryAs(data, magic, key, func(b []byte) error { return json.Unmarshal(b, v) })
}

// decodeEntryAs verifies a cache file's bytes (magic, header, key, length, checksum)
// and hands the payload to decode.
func decodeEntryAs(data []byte, magic, key string, decode func([]byte) error) (time.Time, error) {
	rest, ok := bytes.CutPrefix(data, []byte(magic))
	if !ok {
		return time.Time{}, errors.New("not a cache file of this version")
	}
	line, payload, ok := bytes.Cut(rest, []byte("\n"))
	if !ok {
		return time.Time{}, errors.New("truncated header")
	}
	var h header
	if err := json.Unmarshal(line, &h); err != nil {
		return time.Time{}, fmt.Errorf("bad header: %w", err)
	}
	if h.Key != key {
		return time.Time{}, errors.New("entry belongs to another query")
	}
	if h.Length < 0 || len(payload) != h.Length+1 || payload[h.Length] != '\n' {
		return time.Time{}, fmt.Errorf("payload is %d bytes, header says %d", len(payload)-1, h.Length)
	}
	payload = payload[:h.Length]
	sum := sha256.Sum256(payload)
	if hex.EncodeToString(sum[:]) != h.SHA256 {
		return time.Time{}, errors.New("checksum mismatch")
	}
	if err := decode(payload); err != nil {
		return time.Time{}, fmt.Errorf("bad payload: %w", err)
	}
	return h.Stored, nil
}

// Keys: the server identity, the query kind and its arguments in IRRd form, and the
// sources (upper-case, in order).
func (c *Cache) keyFor(kind string, sources []string, parts ...string) string {
	return c.opt.Server + "|" + kind + "|" + strings.ToUpper(strings.Join(sources, ",")) + "|" + strings.Join(parts, "|")
}

type membersAnswer struct {
	Members []string `json:"members"`
	Found   bool     `json:"found"`
}

type prefixesAnswer struct {
	Prefixes []netip.Prefix `json:"prefixes"`
	Found    bool           `json:"found"`
}

// Sources returns the wrapped Querier's default sources (cached).
func (c *Cache) Sources(ctx context.Context) ([]string, error) {
	return cached(c, c.keyFor("sources", nil), "!s-lc", func() ([]string, error) {
		return c.q.Sources(ctx)
	})
}

// CheckSources checks the list (a successful check is cached).
func (c *Cache) CheckSources(ctx context.Context, sources []string) error {
	_, err := cached(c, c.keyFor("check", sources), "!s"+strings.Join(sources, ","), func() (bool, error) {
		return true, c.q.CheckSources(ctx, sources)
	})
	return err
}

// Members answers "!i" (cached).
func (c *Cache) Members(ctx context.Context, sources []string, name string, recursive bool) ([]string, bool, error) {
	r := "0"
	if recursive {
		r = "1"
	}
	a, err := cached(c, c.keyFor("members", sources, strings.ToUpper(name), r), irr.DescribeMembers(sources, name, recursive), func() (membersAnswer, error) {
		m, found, err := c.q.Members(ctx, sources, name, recursive)
		return membersAnswer{Members: m, Found: found}, err
	})
	return a.Members, a.Found, err
}

// SetPrefixes answers "!a4"/"!a6" (cached).
func (c *Cache) SetPrefixes(ctx context.Context, sources []string, name string, v6 bool) ([]netip.Prefix, bool, error) {
	a, err := cached(c, c.keyFor("setprefixes", sources, strings.ToUpper(name), family(v6)), irr.DescribeSetPrefixes(sources, name, v6), func() (prefixesAnswer, error) {
		p, found, err := c.q.SetPrefixes(ctx, sources, name, v6)
		return prefixesAnswer{Prefixes: p, Found: found}, err
	})
	return a.Prefixes, a.Found, err
}

// Routes answers a "!g"/"!6" batch; the batch (the ASN list in order) is one entry,
// so a stale answer is never a mix of old and new data.
func (c *Cache) Routes(ctx context.Context, sources []string, asns []routing.ASN, v6 bool) ([][]netip.Prefix, error) {
	var b strings.Builder
	for i, a := range asns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(a), 10))
	}
	r, err := cached(c, c.keyFor("routes", sources, family(v6), b.String()), irr.DescribeRoutes(sources, asns, v6), func() ([][]netip.Prefix, error) {
		return c.q.Routes(ctx, sources, asns, v6)
	})
	if err == nil && len(r) != len(asns) {
		return nil, fmt.Errorf("irrcache: %s: %d answers for %d ASNs: %w", irr.DescribeRoutes(sources, asns, v6), len(r), len(asns), irr.ErrUnavailable)
	}
	return r, err
}

func family(v6 bool) string {
	if v6 {
		return "6"
	}
	return "4"
}
