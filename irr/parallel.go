package irr

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync/atomic"

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

// chunk is one piece of a file and, once parsed, its records.
type chunk struct {
	data      []byte
	firstLine int   // lines of the file before data
	readErr   error // set on the last chunk when reading failed
	ready     chan struct{}
	recs      []record
	errs      []chunkErr
}

// chunkErr is a malformed object, before record at.
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
	go splitChunks(ctx, src, size, jobs, order)
	for i := 0; i < workers; i++ {
		go func() {
			for c := range jobs {
				c.parse(path, opt.DefaultSource)
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
		if c.readErr != nil {
			ferr = fmt.Errorf("irr: load: rpsl: read %s: %w", path, c.readErr)
			cancel()
			continue
		}
		if opt.Progress != nil {
			opt.Progress(done.Load(), total)
		}
	}
	return ferr
}

// splitChunks reads src into chunks cut after an empty line ("\n\n"), sending each to
// jobs and, in file order, to order; both are closed at the end. A chunk without an
// empty line grows until it has one or the input ends.
func splitChunks(ctx context.Context, src io.Reader, size int, jobs, order chan<- *chunk) {
	defer close(order)
	defer close(jobs)
	var carry []byte
	line := 0
	for {
		buf := make([]byte, len(carry), max(size, 2*len(carry)))
		copy(buf, carry)
		n, err := io.ReadFull(src, buf[len(carry):cap(buf)])
		buf = buf[:len(carry)+n]
		eof := err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)
		var rerr error
		if err != nil && !eof {
			rerr, eof = err, true
		}
		cut := len(buf)
		if !eof {
			i := bytes.LastIndex(buf, []byte("\n\n"))
			if i < 0 {
				carry = buf // no object boundary yet: read more into a larger buffer
				continue
			}
			cut = i + 2
		}
		c := &chunk{data: buf[:cut:cut], firstLine: line, readErr: rerr, ready: make(chan struct{})}
		line += bytes.Count(c.data, []byte("\n"))
		carry = buf[cut:]
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
	}
}

// parse scans and validates c's objects into c.recs and c.errs.
func (c *chunk) parse(path, defaultSource string) {
	sc := rpsl.NewChunkScanner(c.data, path, c.firstLine)
	text := make([]byte, 0, len(c.data))
	// An object ends at an empty line, so a chunk holds at most one object more than
	// it has "\n\n" (fewer with CR line ends: append grows then). Sizing recs once
	// saves regrowing a slice of ~200-byte records, which was a third of the bytes a
	// load allocated.
	c.recs = make([]record, 0, bytes.Count(c.data, []byte("\n\n"))+1)
	for {
		o, err := sc.Next()
		if err == io.EOF {
			break
		}
		var se *rpsl.SyntaxError
		if errors.As(err, &se) {
			c.errs = append(c.errs, chunkErr{len(c.recs), ObjectError{File: se.File, Line: se.Line, Msg: se.Msg}})
			continue
		}
		if err != nil { // a bytes.Reader does not fail; keep the contract anyway
			c.errs = append(c.errs, chunkErr{len(c.recs), ObjectError{File: path, Msg: err.Error()}})
			break
		}
		c.recs = append(c.recs, record{})
		r := &c.recs[len(c.recs)-1]
		text, err = prepareInto(r, o, defaultSource, text)
		if err != nil {
			c.recs = c.recs[:len(c.recs)-1]
			var oe *ObjectError
			if errors.As(err, &oe) {
				c.errs = append(c.errs, chunkErr{len(c.recs), *oe})
			}
			continue
		}
		noteMultiOrigin(r, o)
	}
	c.data = nil // the records keep their own copies of the texts
}

// merge indexes c's records and reports its errors in file order, as scanFile does.
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
	ei := 0
	for i := 0; i <= len(c.recs); i++ {
		for ei < len(c.errs) && c.errs[ei].at == i {
			if err := malformed(c.errs[ei].e); err != nil {
				return err
			}
			ei++
		}
		if i == len(c.recs) {
			break
		}
		r := &c.recs[i]
		if err := multiOrigin(r, opt, rep); err != nil {
			return err
		}
		ix.insert(r)
		rep.Objects[r.class]++
	}
	return nil
}
