package secret

import (
	"bufio"
	"bytes"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// Byte order marks: a file starting with a UTF-16 one is decoded to UTF-8
// before it is scanned (Windows tools write .env, .config and .ps1 files
// so); a UTF-8 one is dropped, so a rule anchored at a line's start reads
// the first line as any other.
var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// decoded returns a reader of f's text in UTF-8 without its byte order
// mark: UTF-16 (little or big endian, told by the mark) is decoded, UTF-8
// and anything else read as it is. A UTF-16 file without a mark is read as
// it is, and its NULs make it binary.
func decoded(f io.Reader) io.Reader {
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		br.Discard(3)
	case bytes.HasPrefix(head, bomUTF16LE):
		br.Discard(2)
		return &utf16Reader{r: br}
	case bytes.HasPrefix(head, bomUTF16BE):
		br.Discard(2)
		return &utf16Reader{r: br, big: true}
	}
	return br
}

// utf16Reader decodes UTF-16 to UTF-8. An unpaired surrogate becomes
// U+FFFD, as does a last odd byte.
type utf16Reader struct {
	r    *bufio.Reader
	big  bool
	out  []byte // decoded, not yet returned
	in   [4 << 10]byte
	high rune // a high surrogate waiting for its pair, or 0
	odd  []byte
	err  error
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		n, err := u.r.Read(u.in[:])
		buf := append(u.odd, u.in[:n]...)
		u.odd = nil
		for len(buf) >= 2 {
			c := rune(buf[0]) | rune(buf[1])<<8
			if u.big {
				c = rune(buf[0])<<8 | rune(buf[1])
			}
			buf = buf[2:]
			u.add(c)
		}
		if len(buf) == 1 {
			u.odd = []byte{buf[0]}
		}
		if err != nil {
			if u.high != 0 || u.odd != nil {
				u.out = utf8.AppendRune(u.out, utf8.RuneError)
				u.high, u.odd = 0, nil
			}
			u.err = err
		}
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

// add decodes one UTF-16 code unit.
func (u *utf16Reader) add(c rune) {
	if u.high != 0 {
		r := utf16.DecodeRune(u.high, c)
		u.high = 0
		if r != utf8.RuneError {
			u.out = utf8.AppendRune(u.out, r)
			return
		}
		u.out = utf8.AppendRune(u.out, utf8.RuneError)
	}
	switch {
	case c >= 0xD800 && c < 0xDC00:
		u.high = c
	case c >= 0xDC00 && c < 0xE000:
		u.out = utf8.AppendRune(u.out, utf8.RuneError)
	default:
		u.out = utf8.AppendRune(u.out, c)
	}
}
