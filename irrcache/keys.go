package irrcache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
	"github.com/bgpfilter/bgpfilter/irr"
)

// "!a4"/"!a6" answers as keys (irr.KeyQuerier). A large as-set's answer is hundreds of
// thousands of prefixes; as JSON text it cost more to read back than to ask the server
// again (0.3 s of CPU for 400,000 prefixes, against 0.08 s for the whois reply), so
// these entries have a binary payload that decodes in one pass without parsing text:
//
//	byte 0        bit 0: found, bit 1: IPv6
//	uvarint       number of prefixes n
//	n records     IPv4: address (4 bytes, big-endian) and length (1 byte);
//	              IPv6: address (16 bytes) and length (1 byte)
//
// in ascending order without duplicates, host bits clear. The file around it is the
// JSON entries' (magic line, JSON header with key, time, length and SHA-256, payload,
// newline) with its own magic and a ".keys" name; a payload that does not decode to
// exactly such a list is a damaged entry (ignored with a warning, as any other).

const keysMagic = "bgpfilter-irrcache keys v1\n"

type keysAnswer struct {
	keys  pfxkey.List
	found bool
}

// keysCodec stores answers of family v6; an entry of the other family does not decode.
func keysCodec(v6 bool) codec[keysAnswer] {
	return codec[keysAnswer]{ext: ".keys", magic: keysMagic, encode: encodeKeys, decode: func(b []byte, a *keysAnswer) error {
		if err := decodeKeys(b, a); err != nil {
			return err
		}
		if a.keys.V6 != v6 {
			return errors.New("answer of the other address family")
		}
		return nil
	}}
}

func encodeKeys(a keysAnswer) ([]byte, error) {
	l := a.keys
	rec := 5
	if l.V6 {
		rec = 17
	}
	b := make([]byte, 1, 1+binary.MaxVarintLen64+rec*l.Len())
	if a.found {
		b[0] |= 1
	}
	if l.V6 {
		b[0] |= 2
		b = binary.AppendUvarint(b, uint64(len(l.K6)))
		for _, k := range l.K6 {
			b = binary.BigEndian.AppendUint64(b, k.Hi)
			b = binary.BigEndian.AppendUint64(b, k.Lo)
			b = append(b, k.Bits)
		}
		return b, nil
	}
	b = binary.AppendUvarint(b, uint64(len(l.P4)))
	for _, v := range l.P4 {
		b = binary.BigEndian.AppendUint32(b, uint32(v>>8))
		b = append(b, byte(v))
	}
	return b, nil
}

func decodeKeys(b []byte, a *keysAnswer) error {
	if len(b) < 1 || b[0]&^3 != 0 {
		return errors.New("bad flags")
	}
	a.found, a.keys = b[0]&1 != 0, pfxkey.List{V6: b[0]&2 != 0}
	n, w := binary.Uvarint(b[1:])
	if w <= 0 || w != len(binary.AppendUvarint(nil, n)) {
		return errors.New("bad count")
	}
	b = b[1+w:]
	rec := uint64(5)
	if a.keys.V6 {
		rec = 17
	}
	if n > uint64(len(b)) || n*rec != uint64(len(b)) {
		return fmt.Errorf("%d bytes for %d prefixes", len(b), n)
	}
	if a.keys.V6 {
		ks := make([]pfxkey.Key, n)
		for i := range ks {
			r := b[i*17 : i*17+17]
			k := pfxkey.Key{Hi: binary.BigEndian.Uint64(r), Lo: binary.BigEndian.Uint64(r[8:]), Bits: r[16], V6: true}
			if k.Bits > 128 || k.Masked() != k || i > 0 && pfxkey.Compare(ks[i-1], k) >= 0 {
				return fmt.Errorf("prefix %d is out of order, too long or has host bits", i)
			}
			ks[i] = k
		}
		a.keys.K6 = ks
		return nil
	}
	ps := make([]uint64, n)
	for i := range ps {
		r := b[i*5 : i*5+5]
		addr, bits := binary.BigEndian.Uint32(r), r[4]
		if bits > 32 || bits < 32 && addr<<bits != 0 || i > 0 && ps[i-1] >= uint64(addr)<<8|uint64(bits) {
			return fmt.Errorf("prefix %d is out of order, too long or has host bits", i)
		}
		ps[i] = uint64(addr)<<8 | uint64(bits)
	}
	a.keys.P4 = ps
	return nil
}

var _ irr.KeyQuerier = (*Cache)(nil)

// SetPrefixKeys answers "!a4"/"!a6" as keys (cached in the binary format above; the
// wrapped Querier is asked through irr.SetPrefixKeys). The caller owns the slices.
func (c *Cache) SetPrefixKeys(ctx context.Context, sources []string, name string, v6 bool) (pfxkey.List, bool, error) {
	a, err := cachedAs(c, keysCodec(v6), c.keyFor("setprefixkeys", sources, strings.ToUpper(name), family(v6)), irr.DescribeSetPrefixes(sources, name, v6), func() (keysAnswer, error) {
		l, found, err := irr.SetPrefixKeys(ctx, c.q, sources, name, v6)
		return keysAnswer{keys: l, found: found}, err
	})
	if err != nil {
		return pfxkey.List{V6: v6}, false, err
	}
	return a.keys, a.found, nil
}
