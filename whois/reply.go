package whois

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
)

// ReplyKind is the first byte of an IRRd reply.
type ReplyKind byte

// Reply kinds (IRRd 4).
const (
	ReplyA ReplyKind = 'A' // data follows: "A<len>\n<data>\nC\n"
	ReplyC ReplyKind = 'C' // success without data
	ReplyD ReplyKind = 'D' // key not found, or an empty answer
	ReplyE ReplyKind = 'E' // multiple keys match (IRRd 3)
	ReplyF ReplyKind = 'F' // error; Reply.Msg holds the message
)

// Reply is one IRRd reply.
type Reply struct {
	Kind ReplyKind
	// Data is the payload of an A reply, without the newline the length counts.
	Data []byte
	// Msg is the message of an F reply (without the "F " prefix).
	Msg string
	// Members and Prefixes hold the parsed data of an A reply the client streamed
	// (reply_stream.go) instead of keeping it in Data.
	Members  []string
	Prefixes []netip.Prefix
	// Keys holds the prefixes of an A reply streamed as keys (sorted, distinct,
	// masked; SetPrefixKeys reads "!a" replies so, see reply_keys.go).
	Keys pfxkey.List
}

// WriteA writes data as an A reply: "A<len(data)+1>\n<data>\nC\n". The length counts
// the newline after the data, as IRRd's does and as bgpq4 requires (an off-by-one
// misaligns every later pipelined answer). Callers send C (WriteC) or D (WriteD)
// instead of an A reply with empty data.
func WriteA(w io.Writer, data []byte) error {
	return WriteAStream(w, len(data), func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAStream writes an A reply of n data bytes that body writes, so that large
// answers need not be assembled in memory. It fails if body writes a different number
// of bytes; the stream is then mis-framed and the connection must be closed.
func WriteAStream(w io.Writer, n int, body func(io.Writer) error) error {
	if n < 0 {
		return fmt.Errorf("whois: negative reply length %d", n)
	}
	var hdr [24]byte
	b := append(hdr[:0], 'A')
	b = strconv.AppendInt(b, int64(n)+1, 10)
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("whois: write reply: %w", err)
	}
	cw := &countingWriter{w: w}
	if err := body(cw); err != nil {
		return fmt.Errorf("whois: write reply: %w", err)
	}
	if cw.n != int64(n) {
		return fmt.Errorf("whois: reply body wrote %d bytes, announced %d: %w", cw.n, n, ErrFraming)
	}
	if _, err := io.WriteString(w, "\nC\n"); err != nil {
		return fmt.Errorf("whois: write reply: %w", err)
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// WriteC writes "C\n" (success without data).
func WriteC(w io.Writer) error { return writeString(w, "C\n") }

// WriteD writes "D\n" (key not found or empty answer).
func WriteD(w io.Writer) error { return writeString(w, "D\n") }

// WriteF writes "F <msg>\n". The message is made safe for the one-line frame:
// control characters (CR, LF, NUL …) become spaces and it is cut at MaxErrorLen
// bytes, so that nothing a client sent can forge a reply.
func WriteF(w io.Writer, msg string) error {
	return writeString(w, "F "+SanitizeLine(msg, MaxErrorLen)+"\n")
}

// SanitizeLine returns s with every ASCII control character replaced by a space and
// cut to at most max bytes.
func SanitizeLine(s string, max int) string {
	if len(s) > max {
		s = s[:max]
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = ' '
		}
	}
	return string(b)
}

func writeString(w io.Writer, s string) error {
	if _, err := io.WriteString(w, s); err != nil {
		return fmt.Errorf("whois: write reply: %w", err)
	}
	return nil
}

// ReadReply reads one IRRd reply from r. maxLen bounds the data of an A reply (the
// announced length is checked before anything is allocated). It distrusts the server:
// a header that is not exactly "A<digits>", "C", "D", "E" or "F[ <msg>]", a length of
// zero, with a sign or leading zeros, data whose last counted byte is not "\n", or an
// A reply not followed by "C\n" fails with an error wrapping ErrFraming; a truncated
// stream fails with io.ErrUnexpectedEOF; io.EOF is returned only before the first byte.
func ReadReply(r *bufio.Reader, maxLen int) (Reply, error) {
	hdr, err := readHeader(r)
	if err != nil {
		return Reply{}, err
	}
	return replyOf(r, hdr, maxLen)
}

// replyOf reads the reply whose header line is hdr.
func replyOf(r *bufio.Reader, hdr []byte, maxLen int) (Reply, error) {
	switch {
	case len(hdr) == 1 && hdr[0] == 'C':
		return Reply{Kind: ReplyC}, nil
	case len(hdr) == 1 && hdr[0] == 'D':
		return Reply{Kind: ReplyD}, nil
	case len(hdr) == 1 && hdr[0] == 'E':
		return Reply{Kind: ReplyE}, nil
	case hdr[0] == 'F' && (len(hdr) == 1 || hdr[1] == ' '):
		msg := ""
		if len(hdr) > 2 {
			msg = string(hdr[2:])
		}
		return Reply{Kind: ReplyF, Msg: msg}, nil
	case hdr[0] == 'A':
		return readData(r, hdr[1:], maxLen)
	}
	return Reply{}, fmt.Errorf("whois: unexpected reply header %q: %w", clipBytes(hdr, 64), ErrFraming)
}

// readHeader reads one header line without its "\n", at most MaxHeaderLen bytes.
func readHeader(r *bufio.Reader) ([]byte, error) {
	line, nl, err := readBoundedLine(r, MaxHeaderLen-1)
	switch {
	case errors.Is(err, ErrLineTooLong):
		return nil, fmt.Errorf("whois: reply header longer than %d bytes: %w", MaxHeaderLen, ErrFraming)
	case errors.Is(err, io.EOF):
		return nil, io.EOF
	case err != nil:
		return nil, fmt.Errorf("whois: read reply: %w", err)
	case !nl:
		return nil, fmt.Errorf("whois: reply header %q cut short: %w", clipBytes(line, 64), io.ErrUnexpectedEOF)
	}
	if len(line) == 0 {
		return nil, fmt.Errorf("whois: empty reply header: %w", ErrFraming)
	}
	return line, nil
}

// replyLength checks the length of an "A<digits>" header against maxLen; it counts
// the newline that ends the data.
func replyLength(digits []byte, maxLen int) (int, error) {
	if len(digits) == 0 || len(digits) > 19 || digits[0] == '0' {
		return 0, fmt.Errorf("whois: bad reply length %q: %w", clipBytes(digits, 16), ErrFraming)
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("whois: bad reply length %q: %w", clipBytes(digits, 16), ErrFraming)
		}
	}
	n, err := strconv.ParseUint(string(digits), 10, 63)
	if err != nil {
		return 0, fmt.Errorf("whois: bad reply length %q: %w", digits, ErrFraming)
	}
	if maxLen < 0 || n-1 > uint64(maxLen) {
		return 0, fmt.Errorf("whois: reply of %d bytes exceeds the limit of %d: %w", n-1, maxLen, ErrReplyTooLong)
	}
	return int(n), nil
}

func readData(r *bufio.Reader, digits []byte, maxLen int) (Reply, error) {
	n, err := replyLength(digits, maxLen)
	if err != nil {
		return Reply{}, err
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Reply{}, fmt.Errorf("whois: read %d-byte reply: %w", n, err)
	}
	if data[n-1] != '\n' {
		return Reply{}, fmt.Errorf("whois: reply data does not end where its length says: %w", ErrFraming)
	}
	if err := readTerminator(r); err != nil {
		return Reply{}, err
	}
	return Reply{Kind: ReplyA, Data: data[:n-1]}, nil
}

// readTerminator reads the "C" line that ends an A reply.
func readTerminator(r *bufio.Reader) error {
	term, err := readHeader(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("whois: reply without terminator: %w", io.ErrUnexpectedEOF)
		}
		return err
	}
	if !bytes.Equal(term, []byte("C")) {
		return fmt.Errorf("whois: reply terminator %q, want \"C\": %w", clipBytes(term, 64), ErrFraming)
	}
	return nil
}

func clipBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
