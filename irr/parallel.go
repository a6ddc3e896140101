package irr

import (
	"bufio"
	"bytes"

	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"

	"github.com/bgpfilter/bgpfilter/irr/rpsl"
)

// A parallel load cuts the (decompressed) file into chunks at empty lines, parses and
// validates the chunks on every core, and indexes their records in file order: the
// index, the report and the first error are those of a serial scan, whatever the
// scheduling (see TestParallelLoadMatchesSerial). An empty line always ends an object
// and a Scanner that starts after one is in the state a Scanner over the whole file is
// in there, so a chunk's objects are exactly the whole file's objects in that range.

// chunkSize is the target size of a chunk: large enough that the per-chunk costs (a
// goroutine hand-off, a scanner) vanish, small enough that a few chunks per core keep
// every core busy and bound the memory in flight.
const chunkSize = 1 << 20

// chunk is one piece of a file and, once parsed, its objects.
type chunk struct {
	data      []byte
	firstLine int   // lines of the file before data
	readErr   error // set on the last chunk when reading failed
	ready     chan struct{}
	ents      []entry  // the objects, in file order
	recs      []record // the objects the fast path declined (entry.rec)
	text      []byte   // the texts of recs, as prepareInto writes them
	// scratch of storedObject
	spans []attrSpan
	attrs []rpsl.Attr
	names map[string]string
	srcs  []string // the sources of the fast entries (entry.src)
	errs  []chunkErr
}

// entPool recycles the entry slices of merged chunks.
var entPool sync.Pool

// entry is one object of a chunk: a route read by the fast path (see fastroute.go),
// kept without pointers (a chunk holds ~10,000), or a record.
type entry struct {
	rk     routeKey
	off, n uint32 // the route's text: data[off : off+n]
	src    uint16 // the route's source: srcs[src]
	rec    int32  // >= 0: the object is recs[rec]
}

// chunkErr is a malformed object, before entry at.
type chunkErr struct {
	at int
	e  ObjectError
}

// loadParallel is loadFile's parallel path.
func (ix *Index) loadParallel(ctx context.Context, path string, opt LoadOptions, rep *LoadReport, done *atomic.Int64, total int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("irr: load: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(countingReader{f, done, opt.Tee}, 1<<20)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		// One goroutine inflates a stream, ahead of the parsing: klauspost/compress
		// inflates the RIPE as-set dump at 400 MB/s where compress/gzip does 290 (the
		// serial reference load keeps compress/gzip, so the differential tests on
		// the gzip dumps compare the two).
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("irr: load: rpsl: %s: gzip: %w", path, err)
		}
		defer gz.Close()
		src = gz
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *chunk, workers)
	order := make(chan *chunk, 2*workers+2)
	size := chunkSize
	if opt.chunk > 0 {
		size = opt.chunk
	}
	pool := make(bufPool, 4*workers+8) // data and texts of the chunks in flight
	go splitChunks(ctx, src, size, pool, jobs, order)
	for i := 0; i < workers; i++ {
		go func() {
			for c := range jobs {
				c.parse(path, opt.DefaultSource, pool)
				close(c.ready)
			}
		}()
	}
	var ferr error
	for c := range order {
		<-c.ready
		if ferr != nil {
			continue // drain: the producers stop at cancel
		}
		if err := ctx.Err(); err != nil {
			ferr = fmt.Errorf("irr: load %s: %w", path, err)
			cancel()
			continue
		}
		if err := ix.merge(c, opt, rep); err != nil {
			ferr = err
			cancel()
			continue
		}
		pool.put(c.data)
		if c.text != nil {
			pool.put(c.text) // the merge copied the texts into the arena
		}
		c.data, c.text, c.recs = nil, nil, nil
		entPool.Put(c.ents[:0])
		if c.readErr != nil {
			ferr = fmt.Errorf("irr: load: rpsl: read %s: %w", path, c.readErr)
			cancel()
			continue
		}
		if opt.Progress != nil {
			opt.Progress(done.Load(), total)
		}
	}
	ix.mu.Lock()
	ix.flushRoutes()
	ix.mu.Unlock()
	return ferr
}

// bufPool recycles chunk buffers from the merge back to splitChunks: a load then
// touches a few megabytes of fresh memory for its chunks instead of the size of the
// file (page faults on fresh memory were a fifth of a load's CPU).
type bufPool chan []byte

// get returns an empty buffer with room for n bytes.
func (p bufPool) get(n int) []byte {
	select {
	case b := <-p:
		if cap(b) >= n {
			return b[:0]
		}
	default:
	}
	return make([]byte, 0, n)
}

// put offers b for reuse; nothing may use it afterwards.
func (p bufPool) put(b []byte) {
	select {
	case p <- b:
	default:
	}
}

// splitChunks reads src into chunks cut after an empty line ("\n\n"), sending each to
// jobs and, in file order, to order; both are closed at the end. A chunk without an
// empty line grows until it has one or the input ends. Buffers come from pool.
func splitChunks(ctx context.Context, src io.Reader, size int, pool bufPool, jobs, order chan<- *chunk) {
	defer close(order)
	defer close(jobs)
	line := 0
	buf := pool.get(size)
	for {
		n, err := fill(src, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		eof := err == io.EOF
		var rerr error
		if err != nil && !eof {
			rerr, eof = err, true
		}
		cut := len(buf)
		if rerr != nil {
			// The serial scanner indexes the objects that an empty line ended before
			// the error and drops the one it was reading.
			cut = afterLastEmptyLine(buf)
		} else if !eof {
			i := bytes.LastIndex(buf, []byte("\n\n"))
			if i < 0 { // no object boundary yet: read more into a larger buffer
				buf = append(make([]byte, 0, 2*cap(buf)), buf...)
				continue
			}
			cut = i + 2
		}
		// The rest goes to the next buffer now: once sent, buf belongs to the chunk.
		var next []byte
		if !eof {
			next = append(pool.get(max(size, 2*(len(buf)-cut))), buf[cut:]...)
		}
		c := &chunk{data: buf[:cut], firstLine: line, readErr: rerr, ready: make(chan struct{})}
		line += bytes.Count(c.data, []byte("\n"))
		select {
		case order <- c:
		case <-ctx.Done():
			return
		}
		select {
		case jobs <- c:
		case <-ctx.Done():
			close(c.ready) // never parsed: the consumer is draining
			return
		}
		if eof {
			return
		}
		buf = next
	}
}

// afterLastEmptyLine returns the offset after the last empty line of b (a line of
// nothing but '\r', as the scanner reads lines), or 0. b starts at a line start.
func afterLastEmptyLine(b []byte) int {
	end := bytes.LastIndexByte(b, '\n')
	for end >= 0 {
		start := bytes.LastIndexByte(b[:end], '\n') + 1
		if len(bytes.TrimLeft(b[start:end], "\r")) == 0 {
			return end + 1
		}
		end = start - 1
	}
	return 0
}

// fill reads into b until it is full or src fails. Unlike io.ReadFull it returns
// src's error as it is: io.EOF is the end of the input, and anything else, including
// the io.ErrUnexpectedEOF of a gzip stream cut short, is a read error (io.ReadFull
// turns a short read into io.ErrUnexpectedEOF, which made the two look alike and let
// a truncated dump load without an error).
func fill(src io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := src.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// parse scans and validates c's objects into c.ents, c.recs and c.errs.
func (c *chunk) parse(path, defaultSource string, pool bufPool) {
	data := c.data
	c.ents, _ = entPool.Get().([]entry)
	sc := rpsl.NewChunkScanner(nil, path, 0)
	text := c.text // the texts of the records, as prepareInto writes them
	pos, line := 0, c.firstLine
	for pos < len(data) {
		if data[pos] == '\n' {
			pos, line = pos+1, line+1 // the scanner skips empty lines the same way
			continue
		}
		if end, lines, ok := c.fast(data, pos, defaultSource); ok {
			pos, line = pos+end, line+lines
			continue
		}
		if end, lines, ok := c.stored(data, pos, line, path, defaultSource); ok {
			pos, line = pos+end, line+lines
			continue
		}
		sc.Reset(data[pos:], line)
		o, err := sc.Next()
		rest, l := sc.Rest()
		pos, line = len(data)-len(rest), l
		if err == io.EOF {
			break
		}
		var se *rpsl.SyntaxError
		if errors.As(err, &se) {
			c.errs = append(c.errs, chunkErr{len(c.ents), ObjectError{File: se.File, Line: se.Line, Msg: se.Msg}})
			continue
		}
		if err != nil { // a chunk scanner does not fail; keep the contract anyway
			c.errs = append(c.errs, chunkErr{len(c.ents), ObjectError{File: path, Msg: err.Error()}})
			break
		}
		if text == nil {
			text = pool.get(len(data)) // the size of the pooled buffers
		}
		c.recs = append(c.recs, record{})
		r := &c.recs[len(c.recs)-1]
		text, err = prepareInto(r, o, defaultSource, text)
		if err != nil {
			c.recs = c.recs[:len(c.recs)-1]
			var oe *ObjectError
			if errors.As(err, &oe) {
				c.errs = append(c.errs, chunkErr{len(c.ents), *oe})
			}
			continue
		}
		noteMultiOrigin(r, o)
		c.ents = append(c.ents, entry{rec: int32(len(c.recs) - 1)})
	}
	c.text = text
}

// stored appends the object at data[pos:] to c.recs (or its error to c.errs) when it
// is in stored form (see storedObject), and returns the bytes and lines it consumed.
func (c *chunk) stored(data []byte, pos, line int, path, defaultSource string) (end, lines int, ok bool) {
	o, n, end, lines, ok := c.storedObject(data[pos:], path, line, c.attrs)
	if !ok {
		return 0, 0, false
	}
	c.attrs = o.Attrs
	c.recs = append(c.recs, record{})
	r := &c.recs[len(c.recs)-1]
	if err := prepareRecord(r, &o, defaultSource); err != nil {
		c.recs = c.recs[:len(c.recs)-1]
		var oe *ObjectError
		if errors.As(err, &oe) {
			c.errs = append(c.errs, chunkErr{len(c.ents), *oe})
		}
		return end, lines, true
	}
	r.text = data[pos : pos+n : pos+n] // the stored text itself; the merge copies it
	noteMultiOrigin(r, &o)
	c.ents = append(c.ents, entry{rec: int32(len(c.recs) - 1)})
	return end, lines, true
}

// fast appends the route object at data[pos:] to c.ents when the fast path takes it,
// and returns the bytes and lines it consumed.
func (c *chunk) fast(data []byte, pos int, defaultSource string) (end, lines int, ok bool) {
	d := data[pos:]
	if len(d) < 7 || string(d[:5]) != "route" || d[5] != ':' && d[5] != '6' || pos > 1<<31 {
		return 0, 0, false
	}
	fr, ok := scanFastRoute(d)
	if !ok {
		return 0, 0, false
	}
	rk, ok := fastRouteKey(&fr, d[5] == '6')
	if !ok {
		return 0, 0, false
	}
	src, ok := c.source(fr.source, fr.nsource, defaultSource)
	if !ok {
		return 0, 0, false
	}
	c.ents = append(c.ents, entry{rk: rk, off: uint32(pos), n: uint32(fr.text), src: src, rec: -1})
	return fr.end, fr.lines, true
}

// source returns the index in c.srcs of a fast route's source, as prepareInto names it:
// the value in upper case or, without a source attribute, defaultSource. ok is false
// when prepareInto would refuse it (or the name is not plain ASCII: prepareInto decides).
func (c *chunk) source(v []byte, n int, defaultSource string) (uint16, bool) {
	if n == 0 {
		if defaultSource == "" {
			return 0, false
		}
		v = []byte(defaultSource)
	}
	if len(v) == 0 || len(v) > 64 {
		return 0, false
	}
	var buf [64]byte
	up := buf[:len(v)]
	for i, b := range v {
		switch {
		case b >= 'a' && b <= 'z':
			b -= 'a' - 'A'
		case b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '-', b == '_':
		default:
			return 0, false
		}
		up[i] = b
	}
	for i, s := range c.srcs {
		if s == string(up) {
			return uint16(i), true
		}
	}
	if len(c.srcs) == 1<<16-1 {
		return 0, false
	}
	c.srcs = append(c.srcs, string(up))
	return uint16(len(c.srcs) - 1), true
}

// merge indexes c's objects and reports its errors in file order, as scanFile does.
func (ix *Index) merge(c *chunk, opt LoadOptions, rep *LoadReport) error {
	malformed := func(e ObjectError) error {
		if opt.Strict {
			return fmt.Errorf("irr: load (strict): %w", &e)
		}
		rep.Skipped++
		if len(rep.Malformed) < MaxReportedErrors {
			rep.Malformed = append(rep.Malformed, e)
		}
		return nil
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.mutable()
	ix.sorted.Store(nil) // holdRoute leaves it to the caller
	var routes [2]int    // fast routes indexed, per family, added to rep at the end
	defer func() {
		for f, class := range [2]string{"route", "route6"} {
			if routes[f] > 0 {
				rep.Objects[class] += routes[f]
			}
		}
	}()
	srcs := make([]*source, len(c.srcs))
	ei := 0
	for i := 0; i <= len(c.ents); i++ {
		for ei < len(c.errs) && c.errs[ei].at == i {
			if err := malformed(c.errs[ei].e); err != nil {
				return err
			}
			ei++
		}
		if i == len(c.ents) {
			break
		}
		e := &c.ents[i]
		if e.rec >= 0 {
			r := &c.recs[e.rec]
			if err := multiOrigin(r, opt, rep); err != nil {
				return err
			}
			ix.insert(r)
			rep.Objects[r.class]++
			continue
		}
		s := srcs[e.src]
		if s == nil {
			s = ix.source(c.srcs[e.src], true)
			srcs[e.src] = s
		}
		ix.holdRoute(s, e.rk, c.data[e.off:e.off+e.n])
		routes[kfam(e.rk.p)]++
	}
	return nil
}
