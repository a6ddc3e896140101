package whois

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriters(t *testing.T) {
	tests := []struct {
		name  string
		write func(io.Writer) error
		want  string
	}{
		// The A/C/D/F bytes IRRd 4 sends (query_response.py) and the transcripts of
		// reference Appendix A show.
		{name: "A counts the trailing newline", write: func(w io.Writer) error { return WriteA(w, []byte("RIPE,RADB")) },
			want: "A10\nRIPE,RADB\nC\n"},
		{name: "A members", write: func(w io.Writer) error { return WriteA(w, []byte("AS1000 AS2000")) },
			want: "A14\nAS1000 AS2000\nC\n"},
		{name: "C", write: WriteC, want: "C\n"},
		{name: "D", write: WriteD, want: "D\n"},
		{name: "F probe answer", write: func(w io.Writer) error { return WriteF(w, MsgMissingSetName) },
			want: "F Missing required set name for A query\n"},
		{name: "F sanitised", write: func(w io.Writer) error { return WriteF(w, "bad\r\nA5\nxxxx\nC\x00") },
			want: "F bad  A5 xxxx C \n"},
		{name: "F cut", write: func(w io.Writer) error { return WriteF(w, strings.Repeat("x", 2*MaxErrorLen)) },
			want: "F " + strings.Repeat("x", MaxErrorLen) + "\n"},
		{name: "A stream", write: func(w io.Writer) error {
			return WriteAStream(w, 11, func(w io.Writer) error {
				_, err := io.WriteString(w, "hello world")
				return err
			})
		}, want: "A12\nhello world\nC\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tc.want {
				t.Errorf("wrote %q, want %q", got, tc.want)
			}
		})
	}
}

func TestWriteAStreamMismatch(t *testing.T) {
	var b bytes.Buffer
	err := WriteAStream(&b, 5, func(w io.Writer) error {
		_, err := io.WriteString(w, "toolong")
		return err
	})
	if !errors.Is(err, ErrFraming) {
		t.Fatalf("err = %v, want ErrFraming", err)
	}
}

func TestReadReply(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		maxLen  int
		want    []Reply
		wantErr error // error after the replies in want
	}{
		{name: "bgpq4 session answers", in: "C\nF Missing required set name for A query\nA10\nRIPE,RADB\nC\nD\nE\n", maxLen: 100,
			want: []Reply{{Kind: ReplyC}, {Kind: ReplyF, Msg: MsgMissingSetName}, {Kind: ReplyA, Data: []byte("RIPE,RADB")}, {Kind: ReplyD}, {Kind: ReplyE}}},
		{name: "data with newlines", in: "A12\nline1\nline2\nC\n", maxLen: 100, want: []Reply{{Kind: ReplyA, Data: []byte("line1\nline2")}}},
		{name: "empty data", in: "A1\n\nC\n", maxLen: 100, want: []Reply{{Kind: ReplyA, Data: []byte{}}}},
		{name: "F without message", in: "F\n", maxLen: 100, want: []Reply{{Kind: ReplyF}}},
		{name: "exactly maxLen", in: "A6\nabcde\nC\n", maxLen: 5, want: []Reply{{Kind: ReplyA, Data: []byte("abcde")}}},
		{name: "over maxLen", in: "A7\nabcdef\nC\n", maxLen: 5, wantErr: ErrReplyTooLong},
		{name: "huge length not allocated", in: "A999999999999\n", maxLen: 1 << 20, wantErr: ErrReplyTooLong},
		{name: "length overflow", in: "A99999999999999999999\n", maxLen: 1 << 20, wantErr: ErrFraming},
		{name: "clean EOF", in: "", maxLen: 10, wantErr: io.EOF},
		{name: "length without +1 (misframed)", in: "A9\nRIPE,RADB\nC\n", maxLen: 100, wantErr: ErrFraming},
		{name: "length one too long", in: "A11\nRIPE,RADB\nC\n", maxLen: 100, wantErr: ErrFraming},
		{name: "missing C", in: "A4\nabc\nD\n", maxLen: 100, wantErr: ErrFraming},
		{name: "truncated data", in: "A10\nRIPE", maxLen: 100, wantErr: io.ErrUnexpectedEOF},
		{name: "truncated before C", in: "A4\nabc\n", maxLen: 100, wantErr: io.ErrUnexpectedEOF},
		{name: "header without newline", in: "C", maxLen: 100, wantErr: io.ErrUnexpectedEOF},
		{name: "A without digits", in: "A\nx\nC\n", maxLen: 100, wantErr: ErrFraming},
		{name: "A zero", in: "A0\n\nC\n", maxLen: 100, wantErr: ErrFraming},
		{name: "A leading zero", in: "A04\nabc\nC\n", maxLen: 100, wantErr: ErrFraming},
		{name: "A sign", in: "A+4\nabc\nC\n", maxLen: 100, wantErr: ErrFraming},
		{name: "A negative", in: "A-4\nabc\nC\n", maxLen: 100, wantErr: ErrFraming},
		{name: "A space", in: "A 4\nabc\nC\n", maxLen: 100, wantErr: ErrFraming},
		{name: "CRLF header", in: "C\r\n", maxLen: 100, wantErr: ErrFraming},
		{name: "C with junk", in: "Cx\n", maxLen: 100, wantErr: ErrFraming},
		{name: "F glued", in: "Fmsg\n", maxLen: 100, wantErr: ErrFraming},
		{name: "unknown", in: "%% ERROR: no\n", maxLen: 100, wantErr: ErrFraming},
		{name: "empty header", in: "\n", maxLen: 100, wantErr: ErrFraming},
		{name: "header too long", in: "F " + strings.Repeat("x", MaxHeaderLen) + "\n", maxLen: 100, wantErr: ErrFraming},
		{name: "negative maxLen", in: "A2\na\nC\n", maxLen: -1, wantErr: ErrReplyTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReader(strings.NewReader(tc.in))
			var got []Reply
			for {
				rep, err := ReadReply(r, tc.maxLen)
				if err != nil {
					if tc.wantErr == nil {
						if err != io.EOF {
							t.Fatalf("ReadReply: %v", err)
						}
					} else if !errors.Is(err, tc.wantErr) {
						t.Fatalf("ReadReply error = %v, want %v", err, tc.wantErr)
					}
					break
				}
				got = append(got, rep)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("replies (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReplyRoundTrip(t *testing.T) {
	var b bytes.Buffer
	datas := [][]byte{[]byte("AS1 AS2"), []byte("x"), bytes.Repeat([]byte("192.0.2.0/24 "), 1000), []byte("A5\nC\n")}
	for _, d := range datas {
		if err := WriteA(&b, d); err != nil {
			t.Fatal(err)
		}
	}
	WriteC(&b)
	WriteD(&b)
	WriteF(&b, "One or more selected sources are unavailable.")
	r := bufio.NewReaderSize(&b, 16) // small buffer: exercise the length checks across reads
	for _, d := range datas {
		rep, err := ReadReply(r, 1<<20)
		if err != nil || rep.Kind != ReplyA || !bytes.Equal(rep.Data, d) {
			t.Fatalf("ReadReply = %+v, %v; want A %q", rep, err, d)
		}
	}
	for _, want := range []Reply{{Kind: ReplyC}, {Kind: ReplyD}, {Kind: ReplyF, Msg: MsgSourcesUnavailable}} {
		rep, err := ReadReply(r, 1<<20)
		if err != nil || !cmp.Equal(rep, want) {
			t.Fatalf("ReadReply = %+v, %v; want %+v", rep, err, want)
		}
	}
	if _, err := ReadReply(r, 1<<20); err != io.EOF {
		t.Fatalf("after last reply: %v, want io.EOF", err)
	}
}
