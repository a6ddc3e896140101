package mirror

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// MaxFileBytes caps a snapshot or delta file, compressed or not.
const MaxFileBytes = 8 << 30

// NotificationName is the file name of the Update Notification File in a directory.
const NotificationName = "update-notification-file.jose"

// NotificationURL turns an NRTMv4 location (https:// or file:// URL of the
// notification file or of its directory, or a local path) into a URL.
func NotificationURL(loc string) (*url.URL, error) {
	if strings.Contains(loc, "://") {
		u, err := url.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("nrtm4 location: %w", err)
		}
		switch u.Scheme {
		case "https", "http":
			if u.Host == "" {
				return nil, fmt.Errorf("nrtm4 location %q: no host", loc)
			}
			if strings.HasSuffix(u.Path, "/") {
				u.Path += NotificationName
			}
			return u, nil
		case "file":
			if u.Path == "" {
				return nil, fmt.Errorf("nrtm4 location %q: no path", loc)
			}
			loc = u.Path
		default:
			return nil, fmt.Errorf("nrtm4 location %q: unsupported scheme", loc)
		}
	}
	abs, err := filepath.Abs(loc)
	if err != nil {
		return nil, fmt.Errorf("nrtm4 location: %w", err)
	}
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		abs = filepath.Join(abs, NotificationName)
	}
	return &url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}, nil
}

// resolve finds a snapshot or delta file named in the notification at base. Relative
// references resolve against the notification's URL; for a local notification a file
// that is not found there (or an https:// URL) is looked up by its base name next to
// the notification, so a mirrored directory of files works without its server layout.
func resolve(base *url.URL, ref string) (*url.URL, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("nrtm4 file reference %.80q: %w", ref, err)
	}
	u := base.ResolveReference(r)
	if base.Scheme != "file" {
		if u.Scheme != "https" && u.Scheme != "http" {
			return nil, fmt.Errorf("nrtm4 file reference %.80q: scheme %q not allowed", ref, u.Scheme)
		}
		return u, nil
	}
	if u.Scheme == "file" {
		if _, err := os.Stat(u.Path); err == nil {
			return u, nil
		}
	}
	name := path.Base(u.Path)
	if name == "." || name == "/" || name == ".." {
		return nil, fmt.Errorf("nrtm4 file reference %.80q: no file name", ref)
	}
	return &url.URL{Scheme: "file", Path: path.Join(path.Dir(base.Path), name)}, nil
}

func (m *Mirror) fetch(ctx context.Context, u *url.URL, limit int64) ([]byte, error) {
	var rc io.ReadCloser
	switch u.Scheme {
	case "file":
		f, err := os.Open(filepath.FromSlash(u.Path))
		if err != nil {
			return nil, fmt.Errorf("nrtm4: %w", err)
		}
		rc = f
	default:
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("nrtm4: %w", err)
		}
		client := m.cfg.HTTP
		if client == nil {
			client = &http.Client{Timeout: m.cfg.Timeout}
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("nrtm4: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("nrtm4: GET %s: %s", u, resp.Status)
		}
		rc = resp.Body
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("nrtm4: read %s: %w", u, ctxErr(ctx, err))
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("nrtm4: %s exceeds %d bytes", u, limit)
	}
	return b, nil
}

// fetchFile fetches a snapshot or delta file, checks its hash when the notification
// gives one, and returns the content decompressed when it is gzip.
func (m *Mirror) fetchFile(ctx context.Context, base *url.URL, ref FileRef) (io.Reader, error) {
	u, err := resolve(base, ref.URL)
	if err != nil {
		return nil, err
	}
	b, err := m.fetch(ctx, u, MaxFileBytes)
	if err != nil {
		return nil, err
	}
	if ref.Hash != "" {
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, ref.Hash) {
			return nil, fmt.Errorf("%w: %s: SHA-256 %s, notification says %s", ErrNRTM4, u, got, ref.Hash)
		}
	}
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		gz, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrNRTM4, u, err)
		}
		return io.LimitReader(gz, MaxFileBytes), nil
	}
	return bytes.NewReader(b), nil
}

// FetchNotification fetches the Update Notification File at loc, verifies its JWS
// signature against keys and parses it. A notification whose signature does not verify
// is refused with an error wrapping ErrSignature; usedKey is the index of the key that
// verified it.
func (m *Mirror) FetchNotification(ctx context.Context, loc string, keys []crypto.PublicKey) (n *Notification, base *url.URL, usedKey int, err error) {
	base, err = NotificationURL(loc)
	if err != nil {
		return nil, nil, 0, err
	}
	raw, err := m.fetch(ctx, base, MaxNotificationBytes)
	if err != nil {
		return nil, nil, 0, err
	}
	payload, err := VerifyJWS(raw, keys...)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("nrtm4 %s: %w", base, err)
	}
	// Which key verified it matters for key rotation (the second is the next key).
	for i, k := range keys {
		if _, kerr := VerifyJWS(raw, k); kerr == nil {
			usedKey = i
			break
		}
	}
	n, err = ParseNotification(payload)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("nrtm4 %s: %w", base, err)
	}
	return n, base, usedKey, nil
}

// pendingDelta is a delta file fetched, checked and parsed, ready to apply.
type pendingDelta struct {
	version uint64
	changes []Change
}

func (m *Mirror) updateNRTM4(ctx context.Context, name string, ss *SourceState) error {
	var keys []crypto.PublicKey
	for _, text := range []string{ss.NRTM4Key, ss.NextSigningKey} {
		if text == "" {
			continue
		}
		k, err := ParsePublicKey([]byte(text))
		if err != nil {
			return fmt.Errorf("mirror: %s: %w", name, err)
		}
		keys = append(keys, k)
	}
	n, base, used, err := m.FetchNotification(ctx, ss.NRTM4, keys)
	if err != nil {
		return fmt.Errorf("mirror: %s: %w", name, err)
	}
	if n.Source != name {
		return fmt.Errorf("mirror: %s: %w: notification is for source %s", name, ErrNRTM4, n.Source)
	}
	if ts, _ := time.Parse(time.RFC3339, n.Timestamp); m.cfg.MaxAge > 0 && time.Since(ts) > m.cfg.MaxAge {
		return fmt.Errorf("mirror: %s: %w: notification of %s is older than %v", name, ErrNRTM4, n.Timestamp, m.cfg.MaxAge)
	}
	// Everything is fetched and checked before anything is applied.
	var snapshot *store
	from := ss.Version
	switch {
	case ss.SessionID != n.SessionID || ss.Version == 0:
		m.log.Info("nrtm4 loading snapshot", "source", name, "session", n.SessionID, "version", n.Snapshot.Version, "old_session", ss.SessionID)
		if snapshot, err = m.fetchSnapshot(ctx, base, n); err != nil {
			return fmt.Errorf("mirror: %s: %w", name, err)
		}
		from = n.Snapshot.Version
	case ss.Version == n.Version:
		m.log.Debug("nrtm4 up to date", "source", name, "version", ss.Version)
		return m.promoteKey(name, ss, used, n)
	case ss.Version > n.Version:
		return fmt.Errorf("mirror: %s: %w: notification version %d is older than the mirror's %d", name, ErrNRTM4, n.Version, ss.Version)
	case len(n.Deltas) == 0 || n.Deltas[0].Version > ss.Version+1:
		m.log.Info("nrtm4 deltas expired, loading snapshot", "source", name, "version", ss.Version)
		if snapshot, err = m.fetchSnapshot(ctx, base, n); err != nil {
			return fmt.Errorf("mirror: %s: %w", name, err)
		}
		from = n.Snapshot.Version
	}
	var deltas []pendingDelta
	for _, ref := range n.Deltas {
		if ref.Version <= from {
			continue
		}
		if ref.Version != from+uint64(len(deltas))+1 {
			return fmt.Errorf("mirror: %s: %w: delta %d follows version %d", name, ErrNRTM4, ref.Version, from+uint64(len(deltas)))
		}
		r, err := m.fetchFile(ctx, base, ref)
		if err != nil {
			return fmt.Errorf("mirror: %s delta %d: %w", name, ref.Version, err)
		}
		ch, err := ParseDelta(r, name, n.SessionID, ref.Version)
		if err != nil {
			return fmt.Errorf("mirror: %s delta %d: %w", name, ref.Version, err)
		}
		deltas = append(deltas, pendingDelta{version: ref.Version, changes: ch})
	}
	if snapshot != nil {
		if err := m.replace(name, snapshot); err != nil {
			return err
		}
		ss.Serial, ss.SessionID, ss.Version = 0, n.SessionID, n.Snapshot.Version
		m.log.Info("nrtm4 snapshot applied", "source", name, "version", ss.Version, "objects", len(snapshot.objs))
	}
	for _, d := range deltas {
		for i := range d.changes {
			d.changes[i].From = fmt.Sprintf("delta version %d", d.version)
		}
		st, err := m.applyBatch(name, d.changes)
		if err != nil {
			if perr := m.persist(name); perr != nil {
				m.log.Error("mirror persist failed", "source", name, "err", perr)
			}
			return err
		}
		ss.Version = d.version
		m.log.Info("nrtm4 delta applied", "source", name, "version", d.version, "adds", st.adds, "deletes", st.deletes, "ignored", st.ignored, "refused", st.refused)
	}
	if err := m.promoteKey(name, ss, used, n); err != nil {
		return err
	}
	return m.persist(name)
}

// promoteKey records a key rotation: a notification verified by the announced next key
// makes it the current key; a next_signing_key in the notification is remembered.
func (m *Mirror) promoteKey(name string, ss *SourceState, used int, n *Notification) error {
	changed := false
	if used == 1 && ss.NextSigningKey != "" {
		m.log.Info("nrtm4 signing key rotated", "source", name)
		ss.NRTM4Key, ss.NextSigningKey = ss.NextSigningKey, ""
		changed = true
	}
	if n.NextSigningKey != "" && n.NextSigningKey != ss.NextSigningKey && n.NextSigningKey != ss.NRTM4Key {
		if _, err := ParsePublicKey([]byte(n.NextSigningKey)); err != nil {
			m.log.Warn("nrtm4 next_signing_key unusable", "source", name, "err", err)
		} else {
			ss.NextSigningKey = n.NextSigningKey
			changed = true
		}
	}
	if changed {
		return writeState(m.cfg.Dir, m.st)
	}
	return nil
}

func (m *Mirror) fetchSnapshot(ctx context.Context, base *url.URL, n *Notification) (*store, error) {
	r, err := m.fetchFile(ctx, base, n.Snapshot)
	if err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", n.Snapshot.Version, err)
	}
	s := newStore()
	skipped := 0
	err = ParseSnapshot(r, n.Source, n.SessionID, n.Snapshot.Version, func(o *Object) error {
		if o.Source != n.Source {
			skipped++
			return nil
		}
		s.objs[o.ID()] = o
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", n.Snapshot.Version, err)
	}
	if skipped > 0 {
		m.log.Warn("nrtm4 snapshot objects of another source ignored", "source", n.Source, "count", skipped)
	}
	return s, nil
}
