package whois

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"testing"
)

// BenchmarkReplyPrefixes reads one "!a4" reply of 400,000 distinct, sorted IPv4
// prefixes (the 20k-ASN synthetic registry's AS-BIG answer size) from memory through a
// 64 KiB bufio.Reader, as the client does: "keys" is the mode SetPrefixKeys uses
// (packed keys, what the -A path consumes), "netip" the mode of SetPrefixes. ns/prefix
// is per prefix of the reply.
func BenchmarkReplyPrefixes(b *testing.B) {
	const n = 400000
	var data bytes.Buffer
	for i := 0; i < n; i++ {
		v := uint32(10)<<24 + uint32(i)<<8
		fmt.Fprintf(&data, "%d.%d.%d.0/24\n", byte(v>>24), byte(v>>16), byte(v>>8))
	}
	var raw bytes.Buffer
	WriteA(&raw, bytes.TrimSuffix(data.Bytes(), []byte("\n")))
	WriteC(&raw)
	for _, m := range []struct {
		name string
		mode dataMode
	}{{"keys", dataKeys4}, {"netip", dataPrefixes4}} {
		b.Run(m.name, func(b *testing.B) {
			b.SetBytes(int64(raw.Len()))
			b.ReportAllocs()
			rd := bytes.NewReader(raw.Bytes())
			br := bufio.NewReaderSize(rd, 64<<10)
			var scratch []netip.Prefix
			for i := 0; i < b.N; i++ {
				rd.Reset(raw.Bytes())
				br.Reset(rd)
				r, err := readReplyMode(br, 1<<30, m.mode, &scratch)
				if err != nil || r.Keys.Len()+len(r.Prefixes) != n {
					b.Fatalf("%v: %d keys, %d prefixes", err, r.Keys.Len(), len(r.Prefixes))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/prefix")
		})
	}
}
