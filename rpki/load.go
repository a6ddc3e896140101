package rpki

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// maxInput caps the decompressed size of an input file.
const maxInput int64 = 4 << 30

// LoadFile reads VRPs and ASPAs from a relying-party output file, plain or gzipped:
// rpki-client JSON (roas, aspas, provider_authorizations), Routinator json/jsonext,
// StayRTR/OctoRPKI/Cloudflare JSON, rpki-client CSV or Routinator CSV. The format is
// recognised from the content.
func LoadFile(ctx context.Context, path string, opt Options) (*Table, error) {
	data, err := readMaybeGzip(path)
	if err != nil {
		return nil, fmt.Errorf("rpki: read %s: %w", path, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rpki: load %s: %w", path, err)
	}
	t, err := Parse(data, path, opt)
	if err != nil {
		return nil, err
	}
	if t.meta.BuildTime.IsZero() && opt.MaxAge > 0 {
		// No build time in the data: fall back to the file's modification time.
		if st, err := os.Stat(path); err == nil {
			if err := checkFuture(path, "no build time in the data, file modified", st.ModTime(), opt.now()); err != nil {
				return nil, err
			}
			if age := opt.now().Sub(st.ModTime()); age > opt.MaxAge {
				return nil, fmt.Errorf("rpki: %s: %w: no build time, modified %s ago, more than the allowed %s",
					path, ErrStale, age.Round(time.Second), opt.MaxAge)
			}
		}
	}
	return t, nil
}

// Parse reads VRPs and ASPAs from data (JSON or CSV, already decompressed); source
// names the data in messages and Metadata.
func Parse(data []byte, source string, opt Options) (*Table, error) {
	b := NewBuilder(opt)
	format, built, err := parseInto(data, b)
	if err != nil {
		return nil, fmt.Errorf("rpki: %s: %w", source, err)
	}
	b.SetMetadata(source, format, built)
	return b.Build() // its errors name the source
}

func parseInto(data []byte, b *Builder) (string, time.Time, error) {
	first := bytes.TrimLeft(data, " \t\r\n\ufeff")
	switch {
	case len(first) > 0 && first[0] == '{':
		return parseJSON(first, b)
	case len(first) >= 4 && strings.EqualFold(string(first[:4]), "ASN,"):
		f, err := parseCSV(first, b)
		return f, time.Time{}, err
	}
	return "", time.Time{}, ErrFormat
}

// Decompressed gzip input is bounded by its own compressed size: at most
// gzipMaxRatio times the file, and at least gzipMinLimit, never more than maxInput.
// rpki-client's JSON compresses about 21:1 (3.55 MB to 75 MB), so the bound leaves
// room; a gzip bomb (1 MB expanding to 1 GiB) is refused after reading at most
// max(gzipMinLimit, 64 MB) instead of being held whole. The ISIZE trailer is never
// read: it is the writer's claim, and forging it made the reader allocate 4 GiB up
// front.
const (
	gzipMaxRatio = 64
	gzipMinLimit = 64 << 20
)

// ErrTooLarge is returned for input that decompresses to more than the bound above
// (or a plain file larger than maxInput).
var ErrTooLarge = errors.New("input too large")

// readMaybeGzip reads a file, decompressing it when it starts with the gzip magic.
func readMaybeGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var fileSize int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		fileSize = st.Size()
	}
	br := bufio.NewReaderSize(f, 1<<16)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		limit := min(max(gzipMinLimit, gzipMaxRatio*fileSize), maxInput)
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		data, err := readAllLimited(zr, min(24*fileSize, limit), limit)
		if errors.Is(err, ErrTooLarge) {
			return nil, fmt.Errorf("gzip data expands to more than %d bytes (%d times the %d-byte file): refusing it as corrupt or hostile: %w",
				limit, limit/max(fileSize, 1), fileSize, ErrTooLarge)
		}
		return data, err
	}
	data, err := readAllLimited(br, fileSize, maxInput)
	if errors.Is(err, ErrTooLarge) {
		return nil, fmt.Errorf("more than %d bytes: %w", int64(maxInput), ErrTooLarge)
	}
	return data, err
}

// readAllLimited reads r to the end into a buffer of initial capacity hint; more
// than limit bytes fail with ErrTooLarge. The buffer doubles but never grows past
// limit+1, so refusing hostile input costs at most about twice the limit in
// allocations (bytes.Buffer's growth could overshoot to four times it).
func readAllLimited(r io.Reader, hint, limit int64) ([]byte, error) {
	if hint <= 0 || hint > limit {
		hint = min(1<<20, limit)
	}
	buf := make([]byte, 0, hint+1)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return nil, ErrTooLarge
			}
			nb := make([]byte, len(buf), min(2*int64(cap(buf)), limit+1))
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, ErrTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// parseCSV reads rpki-client CSV ("ASN,IP Prefix,Max Length,Trust Anchor,Expires")
// or Routinator CSV (without Expires).
func parseCSV(data []byte, b *Builder) (string, error) {
	format := "routinator-csv"
	line := 0
	for len(data) > 0 {
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		line++
		l = bytes.TrimRight(l, "\r ")
		if len(l) == 0 {
			continue
		}
		if line == 1 {
			if bytes.HasSuffix(l, []byte(",Expires")) {
				format = "rpki-client-csv"
			}
			continue
		}
		f := strings.Split(string(l), ",")
		if len(f) < 4 {
			return format, fmt.Errorf("csv line %d: want at least 4 fields, have %d", line, len(f))
		}
		asn, err := parseASNText(strings.TrimSpace(f[0]))
		if err != nil {
			return format, fmt.Errorf("csv line %d: %w", line, err)
		}
		p, err := parsePrefixBytes([]byte(strings.TrimSpace(f[1])))
		if err != nil {
			return format, fmt.Errorf("csv line %d: %w", line, err)
		}
		ml, err := strconv.Atoi(strings.TrimSpace(f[2]))
		if err != nil || ml < 0 || ml > 128 {
			return format, fmt.Errorf("csv line %d: bad max length %q", line, f[2])
		}
		v := VRP{Prefix: p, ASN: asn, MaxLength: uint8(ml), TA: b.internTA([]byte(strings.TrimSpace(f[3])))}
		if len(f) >= 5 && strings.TrimSpace(f[4]) != "" {
			e, err := strconv.ParseInt(strings.TrimSpace(f[4]), 10, 64)
			if err != nil {
				return format, fmt.Errorf("csv line %d: bad expires %q", line, f[4])
			}
			v.Expires = e
		}
		if err := b.AddVRP(v); err != nil {
			return format, fmt.Errorf("csv line %d: %w", line, err)
		}
	}
	return format, nil
}
