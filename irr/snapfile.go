package irr

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/bits"
	"sync"
	"sync/atomic"
)

// snapFile is the data area of a snapshot (memory-mapped, or a byte slice for
// ReadSnapshot) with one CRC-32C per block of snapBlock bytes. A block is verified the
// first time any part of it is read, so that a query touching a few hundred kilobytes
// of a 100 MB snapshot checks a few hundred kilobytes, not the whole file: a small list
// stays cheap and a flipped bit is still never used. The header and the table of block
// checksums are verified when the file is opened. The first failure sticks: every later
// read returns nil and Err reports it.
type snapFile struct {
	name     string // for messages
	data     []byte // the data area
	crcs     []uint32
	verified []atomic.Uint64 // bit per block
	errOnce  sync.Once
	err      atomic.Pointer[error]
	onFail   atomic.Pointer[func(error)]
}

// snapBlock is the verification granularity: small enough that a binary search over a
// table touches little more than it reads, large enough that the checksum table of a
// 100 MB snapshot is 25 KB.
const snapBlock = 16 << 10

// castagnoliTable is built on first use: with SSE4.2 the standard library computes two
// 4 KiB folding tables (~0.2 ms), which every start of the binary paid at package
// initialisation although only snapshot reads and writes need them.
var castagnoliTable = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// crc32c is the CRC-32C of b, the checksum of every part of a snapshot.
func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoliTable()) }

func newSnapFile(name string, data []byte, crcs []uint32) *snapFile {
	return &snapFile{name: name, data: data, crcs: crcs, verified: make([]atomic.Uint64, (len(crcs)+63)/64)}
}

// blockCRCs returns the checksum of every snapBlock-sized block of data.
func blockCRCs(data []byte) []uint32 {
	out := make([]uint32, 0, (len(data)+snapBlock-1)/snapBlock)
	for len(data) > 0 {
		n := min(len(data), snapBlock)
		out = append(out, crc32c(data[:n]))
		data = data[n:]
	}
	return out
}

func (f *snapFile) fail(err error) {
	f.errOnce.Do(func() {
		f.err.Store(&err)
		if fn := f.onFail.Load(); fn != nil {
			(*fn)(err)
		}
	})
}

// Err returns the first integrity error met while reading, or nil.
func (f *snapFile) Err() error {
	if p := f.err.Load(); p != nil {
		return *p
	}
	return nil
}

// bytes returns data[off:off+n] after verifying the blocks it spans, or nil when the
// range is outside the data area or a block is corrupt (the error is recorded).
func (f *snapFile) bytes(off, n int) []byte {
	if off < 0 || n < 0 || off > len(f.data)-n {
		f.fail(fmt.Errorf("%w: %s: reference outside the data (%d+%d of %d bytes)", ErrSnapshot, f.name, off, n, len(f.data)))
		return nil
	}
	if n == 0 {
		return f.data[off:off]
	}
	for b := off / snapBlock; b <= (off+n-1)/snapBlock; b++ {
		w, bit := b/64, uint64(1)<<(b%64)
		if f.verified[w].Load()&bit != 0 {
			continue
		}
		end := min(len(f.data), (b+1)*snapBlock)
		if crc32c(f.data[b*snapBlock:end]) != f.crcs[b] {
			f.fail(fmt.Errorf("%w: %s: checksum mismatch in block %d (bytes %d-%d of the data)", ErrSnapshot, f.name, b, b*snapBlock, end))
			return nil
		}
		f.verified[w].Or(bit)
	}
	if f.Err() != nil {
		return nil
	}
	return f.data[off : off+n : off+n]
}

// verifyAll checks every block (for a long-running server, which will touch most of
// them anyway, and for `irr-snapshot --verify`).
func (f *snapFile) verifyAll() error {
	if len(f.data) > 0 {
		f.bytes(0, len(f.data))
	}
	return f.Err()
}

// touched returns the number of blocks verified so far (tests and benchmarks).
func (f *snapFile) touched() int {
	n := 0
	for i := range f.verified {
		n += bits.OnesCount64(f.verified[i].Load())
	}
	return n
}

// section is a byte range of the data area.
type section struct{ off, n int }

// u32 reads a little-endian uint32 at byte i of section s (0 when unreadable).
func (f *snapFile) u32(s section, i int) uint32 {
	if i < 0 || i > s.n-4 {
		f.fail(fmt.Errorf("%w: %s: reference outside its section", ErrSnapshot, f.name))
		return 0
	}
	b := f.bytes(s.off+i, 4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

// sub returns bytes [i, i+n) of section s, or nil.
func (f *snapFile) sub(s section, i, n int) []byte {
	if i < 0 || n < 0 || i > s.n-n {
		f.fail(fmt.Errorf("%w: %s: reference outside its section", ErrSnapshot, f.name))
		return nil
	}
	return f.bytes(s.off+i, n)
}
