package mirror

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// ErrNRTM4 is wrapped by every error about malformed or inconsistent NRTMv4 files.
var ErrNRTM4 = errors.New("invalid NRTMv4 data")

// FileRef points from an Update Notification File to a snapshot or delta file.
type FileRef struct {
	Version uint64 `json:"version"`
	URL     string `json:"url"`
	Hash    string `json:"hash"` // SHA-256 of the file as published, lower-case hex; may be empty
}

// Notification is an NRTMv4 Update Notification File (the verified JWS payload).
type Notification struct {
	NRTMVersion    int       `json:"nrtm_version"`
	Timestamp      string    `json:"timestamp"`
	Type           string    `json:"type"`
	NextSigningKey string    `json:"next_signing_key,omitempty"`
	Source         string    `json:"source"`
	SessionID      string    `json:"session_id"`
	Version        uint64    `json:"version"`
	Snapshot       FileRef   `json:"snapshot"`
	Deltas         []FileRef `json:"deltas"`
}

// ParseNotification decodes and checks an Update Notification File payload: version 4,
// type "notification", a source and session, a snapshot not newer than the file's
// version, and deltas with consecutive versions ending at the file's version.
func ParseNotification(payload []byte) (*Notification, error) {
	var n Notification
	if err := json.Unmarshal(payload, &n); err != nil {
		return nil, fmt.Errorf("%w: notification: %v", ErrNRTM4, err)
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: notification: %s", ErrNRTM4, fmt.Sprintf(format, a...))
	}
	switch {
	case n.NRTMVersion != 4:
		return nil, bad("nrtm_version %d, want 4", n.NRTMVersion)
	case n.Type != "notification":
		return nil, bad("type %q, want notification", n.Type)
	case !validAttrName(n.Source):
		return nil, bad("bad source %q", n.Source)
	case n.SessionID == "" || len(n.SessionID) > 100:
		return nil, bad("bad session_id %q", n.SessionID)
	case n.Version == 0:
		return nil, bad("version 0")
	case n.Snapshot.Version == 0 || n.Snapshot.Version > n.Version || n.Snapshot.URL == "":
		return nil, bad("bad snapshot reference (version %d of %d)", n.Snapshot.Version, n.Version)
	}
	if _, err := time.Parse(time.RFC3339, n.Timestamp); err != nil {
		return nil, bad("timestamp %q: %v", n.Timestamp, err)
	}
	if err := checkHash(n.Snapshot.Hash); err != nil {
		return nil, bad("snapshot: %v", err)
	}
	for i, d := range n.Deltas {
		if d.URL == "" {
			return nil, bad("delta %d without url", d.Version)
		}
		if err := checkHash(d.Hash); err != nil {
			return nil, bad("delta %d: %v", d.Version, err)
		}
		if i > 0 && d.Version != n.Deltas[i-1].Version+1 {
			return nil, bad("delta versions %d then %d are not consecutive", n.Deltas[i-1].Version, d.Version)
		}
	}
	if k := len(n.Deltas); k > 0 && n.Deltas[k-1].Version != n.Version {
		return nil, bad("last delta version %d differs from version %d", n.Deltas[k-1].Version, n.Version)
	}
	if len(n.Deltas) == 0 && n.Snapshot.Version != n.Version {
		return nil, bad("no deltas but snapshot version %d differs from version %d", n.Snapshot.Version, n.Version)
	}
	n.Source = strings.ToUpper(n.Source)
	return &n, nil
}

func checkHash(h string) error {
	if h == "" {
		return nil
	}
	if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
		return fmt.Errorf("hash %.70q is not a hex SHA-256", h)
	}
	return nil
}

// FileHeader is the first record of a snapshot or delta file.
type FileHeader struct {
	NRTMVersion int    `json:"nrtm_version"`
	Type        string `json:"type"`
	Source      string `json:"source"`
	SessionID   string `json:"session_id"`
	Version     uint64 `json:"version"`
}

// check compares a file's header with what the notification announced.
func (h *FileHeader) check(typ, source, session string, version uint64) error {
	switch {
	case h.NRTMVersion != 4:
		return fmt.Errorf("%w: %s file: nrtm_version %d, want 4", ErrNRTM4, typ, h.NRTMVersion)
	case h.Type != typ:
		return fmt.Errorf("%w: %s file has type %q", ErrNRTM4, typ, h.Type)
	case !strings.EqualFold(h.Source, source):
		return fmt.Errorf("%w: %s file for source %q, want %s", ErrNRTM4, typ, h.Source, source)
	case h.SessionID != session:
		return fmt.Errorf("%w: %s file of session %q, want %s", ErrNRTM4, typ, h.SessionID, session)
	case h.Version != version:
		return fmt.Errorf("%w: %s file version %d, want %d", ErrNRTM4, typ, h.Version, version)
	}
	return nil
}

// Change is one record of a delta file.
type Change struct {
	Kind   OpKind  // OpAdd (add_modify) or OpDel (delete)
	Object *Object // OpAdd: the new object
	Class  string  // OpDel: object class, lower case
	Key    string  // OpDel: primary key, normalised as Object.Key
	// From names where the change came from in messages ("serial 11"); may be empty.
	From string
}

// ID returns the identity the change applies to (see Object.ID).
func (c *Change) ID() string {
	if c.Kind == OpAdd {
		return c.Object.ID()
	}
	return c.Class + "\x00" + c.Key
}

// rsReader turns a JSON text sequence (RFC 7464: records prefixed by 0x1E) into plain
// concatenated JSON, so files with and without record separators decode alike.
type rsReader struct{ r io.Reader }

func (r rsReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	for i := range p[:n] {
		if p[i] == 0x1e {
			p[i] = '\n'
		}
	}
	return n, err
}

func newSeqDecoder(r io.Reader) *json.Decoder {
	return json.NewDecoder(rsReader{bufio.NewReaderSize(r, 64<<10)})
}

// ParseSnapshot reads a snapshot file (JSON sequence: header, then one {"object": ...}
// record per RPSL object) and checks its header against source, session and version.
// fn receives each object in file order.
func ParseSnapshot(r io.Reader, source, session string, version uint64, fn func(*Object) error) error {
	dec := newSeqDecoder(r)
	var h FileHeader
	if err := dec.Decode(&h); err != nil {
		return fmt.Errorf("%w: snapshot header: %v", ErrNRTM4, err)
	}
	if err := h.check("snapshot", source, session, version); err != nil {
		return err
	}
	for i := 1; ; i++ {
		var rec struct {
			Object *string `json:"object"`
		}
		err := dec.Decode(&rec)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: snapshot record %d: %v", ErrNRTM4, i, err)
		}
		if rec.Object == nil {
			return fmt.Errorf("%w: snapshot record %d without object", ErrNRTM4, i)
		}
		o, err := ParseObject(*rec.Object)
		if err != nil {
			return fmt.Errorf("mirror: snapshot record %d: %w", i, err)
		}
		if err := fn(o); err != nil {
			return err
		}
	}
}

// ParseDelta reads a delta file (JSON sequence: header, then add_modify / delete
// records in the order the changes happened) and checks its header.
func ParseDelta(r io.Reader, source, session string, version uint64) ([]Change, error) {
	dec := newSeqDecoder(r)
	var h FileHeader
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("%w: delta header: %v", ErrNRTM4, err)
	}
	if err := h.check("delta", source, session, version); err != nil {
		return nil, err
	}
	var out []Change
	for i := 1; ; i++ {
		var rec struct {
			Action      string  `json:"action"`
			ObjectClass string  `json:"object_class"`
			PrimaryKey  string  `json:"primary_key"`
			Object      *string `json:"object"`
		}
		err := dec.Decode(&rec)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: delta %d record %d: %v", ErrNRTM4, version, i, err)
		}
		switch rec.Action {
		case "add_modify":
			if rec.Object == nil {
				return nil, fmt.Errorf("%w: delta %d record %d: add_modify without object", ErrNRTM4, version, i)
			}
			o, err := ParseObject(*rec.Object)
			if err != nil {
				return nil, fmt.Errorf("mirror: delta %d record %d: %w", version, i, err)
			}
			out = append(out, Change{Kind: OpAdd, Object: o})
		case "delete":
			class := strings.ToLower(strings.TrimSpace(rec.ObjectClass))
			if !validAttrName(class) || strings.TrimSpace(rec.PrimaryKey) == "" {
				return nil, fmt.Errorf("%w: delta %d record %d: delete without object_class/primary_key", ErrNRTM4, version, i)
			}
			out = append(out, Change{Kind: OpDel, Class: class, Key: NormalizeKey(class, rec.PrimaryKey)})
		default:
			return nil, fmt.Errorf("%w: delta %d record %d: action %.30q", ErrNRTM4, version, i, rec.Action)
		}
	}
}

// NormalizeKey brings a primary key as NRTMv4 delete records carry it into the form
// Object.Key has: upper case, collapsed white space, and for route/route6 the prefix
// in canonical form followed by the origin ("192.0.2.0/24AS64496").
func NormalizeKey(class, pk string) string {
	pk = strings.ToUpper(strings.Join(strings.Fields(pk), " "))
	if class == "route" || class == "route6" {
		if i := strings.LastIndex(pk, "AS"); i > 0 {
			pfx := strings.TrimSpace(pk[:i])
			if p, err := netip.ParsePrefix(strings.ToLower(pfx)); err == nil {
				pfx = strings.ToUpper(p.String())
			}
			return pfx + pk[i:]
		}
	}
	return pk
}
