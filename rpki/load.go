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
// recognised from the content. The file is parsed as it is read (decompressed), so
// memory follows the VRP set, not the file (issue 12 item 7).
func LoadFile(ctx context.Context, path string, opt Options) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rpki: read %s: %w", path, err)
	}
	defer f.Close()
	r, err := openMaybeGzip(f)
	if err != nil {
		return nil, fmt.Errorf("rpki: read %s: %w", path, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rpki: load %s: %w", path, err)
	}
	b := NewBuilder(opt)
	format, built, err := parseStream(ctxReader{ctx, r}, b)
	if err != nil {
		return nil, fmt.Errorf("rpki: %s: %w", path, err)
	}
	b.SetMetadata(path, format, built)
	t, err := b.Build()
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
	format, built, err := parseStream(bytes.NewReader(data), b)
	if err != nil {
		return nil, fmt.Errorf("rpki: %s: %w", source, err)
	}
	b.SetMetadata(source, format, built)
	return b.Build() // its errors name the source
}

// parseStream recognises the format from the first bytes after white space and
// byte order marks and parses r into b.
func parseStream(r io.Reader, b *Builder) (string, time.Time, error) {
	br := bufio.NewReaderSize(r, scanBuf)
	for {
		c, err := br.Peek(1)
		if err != nil {
			if err == io.EOF {
				return "", time.Time{}, ErrFormat
			}
			return "", time.Time{}, err
		}
		switch c[0] {
		case ' ', '\t', '\r', '\n':
			br.Discard(1)
			continue
		case 0xef:
			if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
				br.Discard(3)
				continue
			}
		}
		break
	}
	head, err := br.Peek(4)
	switch {
	case len(head) > 0 && head[0] == '{':
		return parseJSON(newScanner(br), b)
	case len(head) >= 4 && strings.EqualFold(string(head), "ASN,"):
		f, err := parseCSV(br, b)
		return f, time.Time{}, err
	case err != nil && err != io.EOF:
		return "", time.Time{}, err
	}
	return "", time.Time{}, ErrFormat
}

// ctxReader fails reads once ctx is done, so a long load can be cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Decompressed gzip input is bounded by its own compressed size: at most
// gzipMaxRatio times the file, and at least gzipMinLimit, never more than maxInput.
// rpki-client's JSON compresses about 21:1 (3.55 MB to 75 MB), so the bound leaves
// room; a gzip bomb (1 MB expanding to 1 GiB) is refused after reading at most
// max(gzipMinLimit, 64 MB). The input is parsed as it streams, so the bound limits
// time, not memory. The ISIZE trailer is never read: it is the writer's claim.
const (
	gzipMaxRatio = 64
	gzipMinLimit = 64 << 20
)

// ErrTooLarge is returned for input that decompresses to more than the bound above
// (or a plain file larger than maxInput).
var ErrTooLarge = errors.New("input too large")

// openMaybeGzip returns a reader of f's content, decompressing it when it starts
// with the gzip magic, bounded as above.
func openMaybeGzip(f *os.File) (io.Reader, error) {
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
		tooLarge := fmt.Errorf("gzip data expands to more than %d bytes (%d times the %d-byte file): refusing it as corrupt or hostile: %w",
			limit, limit/max(fileSize, 1), fileSize, ErrTooLarge)
		return &boundedReader{r: zr, left: limit, err: tooLarge}, nil
	}
	tooLarge := fmt.Errorf("more than %d bytes: %w", int64(maxInput), ErrTooLarge)
	return &boundedReader{r: br, left: maxInput, err: tooLarge}, nil
}

// boundedReader reads at most left bytes of r; one more is the error err.
type boundedReader struct {
	r    io.Reader
	left int64
	err  error
}

func (l *boundedReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, l.err
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if l.left -= int64(n); l.left < 0 {
		return 0, l.err // the bytes past the bound are dropped
	}
	return n, err
}

// parseCSV reads rpki-client CSV ("ASN,IP Prefix,Max Length,Trust Anchor,Expires")
// or Routinator CSV (without Expires).
func parseCSV(r io.Reader, b *Builder) (string, error) {
	format := "routinator-csv"
	line := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxToken)
	for sc.Scan() {
		l := sc.Bytes()
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
	if err := sc.Err(); err != nil {
		return format, fmt.Errorf("csv line %d: %w", line+1, err)
	}
	return format, nil
}
