package rpki

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// maxInput caps the decompressed size of an input file.
const maxInput = 4 << 30

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

// readMaybeGzip reads a file, decompressing it when it starts with the gzip magic.
// For gzip files the buffer is sized from the ISIZE trailer to avoid regrowth.
func readMaybeGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		size := 0
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() >= 18 {
			var tr [4]byte
			if _, err := f.ReadAt(tr[:], st.Size()-4); err == nil {
				size = int(binary.LittleEndian.Uint32(tr[:]))
			}
		}
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		return readAllSized(zr, size)
	}
	size := 0
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = int(st.Size())
	}
	return readAllSized(br, size)
}

func readAllSized(r io.Reader, hint int) ([]byte, error) {
	if hint <= 0 || hint > maxInput {
		hint = 1 << 20
	}
	buf := bytes.NewBuffer(make([]byte, 0, hint+1))
	n, err := buf.ReadFrom(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, err
	}
	if n > maxInput {
		return nil, fmt.Errorf("input larger than %d bytes", maxInput)
	}
	return buf.Bytes(), nil
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
