package mrt

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// File is an opened input: the decompressed stream plus the count of bytes read from
// disk, for progress reporting.
type File struct {
	io.Reader
	f     *os.File
	zr    *gzip.Reader
	read  atomic.Int64
	total int64
}

// OpenFile opens path, decompressing it when it is gzip (detected by its magic bytes,
// not its name).
func OpenFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	h := &File{f: f, total: st.Size()}
	br := bufio.NewReaderSize(countReader{f, &h.read}, 1<<16)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		h.zr = zr
		h.Reader = bufio.NewReaderSize(zr, 1<<16)
	} else {
		h.Reader = br
	}
	return h, nil
}

// Progress returns the bytes read from disk and the file size.
func (h *File) Progress() (read, total int64) { return h.read.Load(), h.total }

// Close closes the file.
func (h *File) Close() error {
	if h.zr != nil {
		h.zr.Close()
	}
	return h.f.Close()
}

type countReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
