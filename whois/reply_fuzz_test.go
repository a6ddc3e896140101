package whois

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReadReply feeds arbitrary server bytes to the strict reply reader. It must never
// panic, never return more data than the limit, and every reply it accepts must be
// exactly the bytes it consumed (re-encoding reproduces them), so a mis-framed stream
// can never be read as a different, well-framed one.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{
		"A10\nRIPE,RADB\nC\n", "C\n", "D\n", "E\n", "F Missing required set name for A query\n",
		"A9\nRIPE,RADB\nC\n", "A1\n\nC\n", "A0\n", "A-1\n", "A4\nabc\nD\n", "F\n",
		"A99999999999\n", "C\nD\nA3\nab\nC\n",
	} {
		f.Add([]byte(s), 64)
	}
	f.Fuzz(func(t *testing.T, in []byte, maxLen int) {
		if maxLen > 1<<20 {
			maxLen = 1 << 20
		}
		src := bytes.NewReader(in)
		r := bufio.NewReaderSize(src, 16)
		consumed := 0
		for {
			rep, err := ReadReply(r, maxLen)
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrFraming) && !errors.Is(err, ErrReplyTooLong) &&
					!errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("undocumented error %v", err)
				}
				return
			}
			if rep.Kind == ReplyA && len(rep.Data) > maxLen {
				t.Fatalf("data of %d bytes over the limit %d", len(rep.Data), maxLen)
			}
			var enc bytes.Buffer
			switch rep.Kind {
			case ReplyA:
				WriteA(&enc, rep.Data)
			case ReplyC:
				WriteC(&enc)
			case ReplyD:
				WriteD(&enc)
			case ReplyE:
				enc.WriteString("E\n")
			case ReplyF:
				enc.WriteString("F")
				if rep.Msg != "" || in[consumed+1] == ' ' {
					enc.WriteString(" " + rep.Msg)
				}
				enc.WriteString("\n")
			default:
				t.Fatalf("unknown reply kind %q", rep.Kind)
			}
			now := len(in) - src.Len() - r.Buffered()
			if !bytes.Equal(enc.Bytes(), in[consumed:now]) {
				t.Fatalf("reply %+v re-encodes to %q, but consumed %q", rep, enc.Bytes(), in[consumed:now])
			}
			consumed = now
		}
	})
}

// FuzzReplyRoundTrip writes arbitrary data and messages and reads them back.
func FuzzReplyRoundTrip(f *testing.F) {
	f.Add([]byte("AS1 AS2"), "bad\nmsg")
	f.Fuzz(func(t *testing.T, data []byte, msg string) {
		var b bytes.Buffer
		if len(data) > 0 {
			WriteA(&b, data)
		} else {
			WriteD(&b)
		}
		WriteF(&b, msg)
		r := bufio.NewReader(&b)
		rep, err := ReadReply(r, len(data))
		if err != nil {
			t.Fatalf("read back A: %v", err)
		}
		if len(data) > 0 && !bytes.Equal(rep.Data, data) || len(data) == 0 && rep.Kind != ReplyD {
			t.Fatalf("read back %+v, want %q", rep, data)
		}
		rep, err = ReadReply(r, 0)
		if err != nil || rep.Kind != ReplyF || rep.Msg != SanitizeLine(msg, MaxErrorLen) {
			t.Fatalf("read back F: %+v, %v; want %q", rep, err, SanitizeLine(msg, MaxErrorLen))
		}
		if _, err := ReadReply(r, 0); err != io.EOF {
			t.Fatalf("trailing bytes after two replies: %v", err)
		}
	})
}
