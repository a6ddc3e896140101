package irr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/bgpfilter/bgpfilter/irr/rpsl"
)

// MaxReportedErrors caps LoadReport.Malformed; later errors are only counted.
const MaxReportedErrors = 100

// LoadOptions controls Load.
type LoadOptions struct {
	// Strict makes the first malformed object an error (its file:line in the message).
	Strict bool
	// DefaultSource is the source of objects without a source attribute; when empty
	// such objects are malformed.
	DefaultSource string
	// Progress, when set, is called now and then with the bytes read so far (on disk,
	// so compressed for .gz files) and the total size of all files.
	Progress func(bytesRead, total int64)
	// ReadSnapshot reads a snapshot into memory instead of mapping it (see mapFile):
	// for long-running processes, which a snapshot file truncated in place must not
	// crash. One-shot commands map it, so that a small query reads little.
	ReadSnapshot bool
	// Tee, when set, receives every byte read from the RPSL files, file after file (a
	// hash of the content for a cache key: see irrcache.LoadFiles).
	Tee io.Writer

	serial bool // scan in one goroutine (the reference the parallel load is tested against)
	chunk  int  // parallel chunk size; 0: chunkSize (tests cut small chunks)
}

// LoadReport summarises a Load.
type LoadReport struct {
	Files     int
	Bytes     int64          // bytes read from disk
	Objects   map[string]int // objects indexed, per class
	Malformed []ObjectError  // the first MaxReportedErrors malformed objects
	Skipped   int            // malformed objects skipped (all of them, not only the listed ones)
	// MultiOrigin counts the route objects with several origin attributes, indexed
	// under each origin (Strict refuses them).
	MultiOrigin int
	// FirstMultiOrigin locates the first of them, for the warning.
	FirstMultiOrigin *ObjectError `json:",omitempty"`
}

type countingReader struct {
	r   io.Reader
	n   *atomic.Int64
	tee io.Writer // nil or LoadOptions.Tee
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	if c.tee != nil && n > 0 {
		c.tee.Write(p[:n])
	}
	return n, err
}

// Load reads RPSL files (plain or gzip; a directory means its files in sorted order)
// into a new Index. Sources become the default list in the order they are first seen.
// Malformed objects are counted and skipped unless opt.Strict; an unreadable file or a
// corrupt gzip stream is always an error. A single path naming a snapshot (see
// WriteSnapshot) is read as such; a snapshot cannot be combined with other files.
func Load(ctx context.Context, paths []string, opt LoadOptions) (*Index, *LoadReport, error) {
	if len(paths) == 1 && IsSnapshot(paths[0]) {
		return loadSnapshot(ctx, paths[0], opt)
	}
	ix := NewIndex()
	rep, err := ix.LoadFiles(ctx, paths, opt)
	if err != nil {
		return nil, rep, err
	}
	return ix, rep, nil
}

// LoadFiles adds RPSL files to ix, as Load does. ix is complete when it returns; a
// query made during the load may miss routes the load holds back (see pending.go),
// while Add, Delete and Apply index them first.
func (ix *Index) LoadFiles(ctx context.Context, paths []string, opt LoadOptions) (*LoadReport, error) {
	rep := &LoadReport{Objects: make(map[string]int)}
	var files []string
	var total int64
	for _, p := range paths {
		fs, err := rpsl.Files(p)
		if err != nil {
			return rep, fmt.Errorf("irr: load %s: %w", p, err)
		}
		for _, f := range fs {
			if st, err := os.Stat(f); err == nil {
				total += st.Size()
			}
			if IsSnapshot(f) {
				return rep, fmt.Errorf("irr: load %s: a snapshot must be loaded alone: %w", f, ErrSnapshot)
			}
		}
		files = append(files, fs...)
	}
	var done atomic.Int64
	for _, f := range files {
		if err := ix.loadFile(ctx, f, opt, rep, &done, total); err != nil {
			rep.Bytes = done.Load()
			return rep, err
		}
		rep.Files++
	}
	rep.Bytes = done.Load()
	if opt.Progress != nil {
		opt.Progress(rep.Bytes, total)
	}
	return rep, nil
}

// loadSnapshot reads the snapshot at path into a new Index (its texts on first use).
func loadSnapshot(ctx context.Context, path string, opt LoadOptions) (*Index, *LoadReport, error) {
	rep := &LoadReport{Objects: make(map[string]int)}
	if err := ctx.Err(); err != nil {
		return nil, rep, fmt.Errorf("irr: load %s: %w", path, err)
	}
	ix, n, err := openSnapshot(path, opt.ReadSnapshot)
	if err != nil {
		return nil, rep, err
	}
	rep.Files, rep.Bytes, rep.Objects = 1, n, ix.Stats()
	if opt.Progress != nil {
		opt.Progress(n, n)
	}
	return ix, rep, nil
}

// loadFile loads one file: in parallel (see loadParallel), or with opt.serial by
// scanning and validating objects in one goroutine and indexing them in another.
func (ix *Index) loadFile(ctx context.Context, path string, opt LoadOptions, rep *LoadReport, done *atomic.Int64, total int64) error {
	if !opt.serial {
		return ix.loadParallel(ctx, path, opt, rep, done, total)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("irr: load: %w", err)
	}
	defer f.Close()
	sc := rpsl.NewScanner(countingReader{f, done, opt.Tee}, path)
	defer sc.Close()

	batches := make(chan []record, 8)
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for batch := range batches {
			ix.mu.Lock()
			for i := range batch {
				ix.insert(&batch[i])
				rep.Objects[batch[i].class]++
			}
			ix.mu.Unlock()
		}
	}()
	err = ix.scanFile(ctx, sc, path, opt, rep, done, total, batches)
	close(batches)
	<-consumed
	return err
}

func (ix *Index) scanFile(ctx context.Context, sc *rpsl.Scanner, path string, opt LoadOptions, rep *LoadReport,
	done *atomic.Int64, total int64, batches chan<- []record) error {
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
	// A batch is one slab of records whose texts share one buffer: two allocations
	// per 512 objects instead of two per object.
	const batchSize, textSize = 512, 64 << 10
	batch := make([]record, 0, batchSize)
	text := make([]byte, 0, textSize)
	defer func() {
		if len(batch) > 0 {
			batches <- batch
		}
	}()
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("irr: load %s: %w", path, err)
			}
			if opt.Progress != nil && n > 0 {
				opt.Progress(done.Load(), total)
			}
		}
		o, err := sc.Next()
		if err == io.EOF {
			return nil
		}
		var se *rpsl.SyntaxError
		if errors.As(err, &se) {
			if err := malformed(ObjectError{File: se.File, Line: se.Line, Msg: se.Msg}); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("irr: load: %w", err)
		}
		batch = batch[:len(batch)+1]
		text, err = prepareInto(&batch[len(batch)-1], o, opt.DefaultSource, text)
		if err != nil {
			batch = batch[:len(batch)-1]
			var oe *ObjectError
			if errors.As(err, &oe) {
				if err := malformed(*oe); err != nil {
					return err
				}
				continue
			}
			return err
		}
		r := &batch[len(batch)-1]
		noteMultiOrigin(r, o)
		if err := multiOrigin(r, opt, rep); err != nil {
			batch = batch[:len(batch)-1] // refused: not indexed
			return err
		}
		if len(batch) == batchSize || len(text) >= textSize {
			batches <- batch
			batch = make([]record, 0, batchSize)
			text = make([]byte, 0, textSize)
		}
	}
}

// noteMultiOrigin records where a route object with several origins is, for the
// report (see multiOrigin).
func noteMultiOrigin(r *record, o *rpsl.Object) {
	if len(r.extra) > 0 {
		r.multi = &ObjectError{File: o.File, Line: o.Line, Msg: fmt.Sprintf("%s %s: %d origin attributes", o.Class, truncKey(o.Key), 1+len(r.extra))}
	}
}

// multiOrigin counts a route object with several origins, or refuses it with Strict.
func multiOrigin(r *record, opt LoadOptions, rep *LoadReport) error {
	if r.multi == nil {
		return nil
	}
	if opt.Strict {
		return fmt.Errorf("irr: load (strict): %w", r.multi)
	}
	if rep.MultiOrigin == 0 {
		rep.FirstMultiOrigin = r.multi
	}
	rep.MultiOrigin++
	return nil
}
