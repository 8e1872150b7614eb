package secret

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
)

// pieceOverlap is how far consecutive pieces of a large file overlap: more
// than any rule's match spans (a PEM key's window is 16 KiB), so a secret
// across a boundary is read whole by the piece it starts in.
const pieceOverlap = 64 << 10

// scanLarge scans a file larger than the in-memory limit in pieces of
// limit bytes that overlap by pieceOverlap. A match belongs to the piece it
// starts in, outside the overlap it shares with the next; lines and
// columns count from the start of the file. It returns the matches, the
// bytes read, and whether the file is binary (a NUL in its first 8000
// bytes, as for a small file).
func (s *scanner) scanLarge(f io.Reader, name string, limit int) ([]Match, int, bool, error) {
	if len(s.buf) != limit+pieceOverlap {
		s.buf = make([]byte, limit+pieceOverlap)
	}
	buf := s.buf
	var out []Match
	total, carry, lines, col0 := 0, 0, 0, 0
	for {
		n, err := io.ReadFull(f, buf[carry:])
		end := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !end {
			return nil, total, false, err
		}
		data := buf[:carry+n]
		if total == 0 && bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
			return nil, 0, true, nil
		}
		total += n
		keep := len(data)
		if !end {
			keep -= pieceOverlap
		}
		for _, m := range s.scanNamed(name, data) {
			if m.start >= keep {
				continue // the next piece reads it whole
			}
			if m.Line == 1 {
				m.Column += col0
			}
			m.Line += lines
			out = append(out, m)
		}
		if end {
			return out, total, false, nil
		}
		lines += bytes.Count(data[:keep], []byte{'\n'})
		if i := bytes.LastIndexByte(data[:keep], '\n'); i >= 0 {
			col0 = keep - i - 1
		} else {
			col0 += keep
		}
		carry = copy(buf, data[keep:])
	}
}

// scanPath scans the file rel of root (base name name), opened through
// root so that it cannot lead outside it: read whole when it has
// at most limit bytes, else in pieces (scanLarge), so no file is left
// unscanned for its size. A UTF-16 file with a byte order mark is decoded
// first (decoded), so it is text, not binary, and its lines are those of
// the decoded text. It returns the matches, the bytes read and
// whether the file is binary.
func (s *scanner) scanPath(root *os.Root, rel, name string, limit int) ([]Match, int, bool, error) {
	f, err := root.Open(filepath.FromSlash(rel))
	if err != nil {
		return nil, 0, false, err
	}
	defer f.Close()
	r := decoded(f)
	if fi, err := f.Stat(); err == nil && fi.Size() > int64(limit) {
		return s.scanLarge(r, name, limit)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, false, err
	}
	if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
		return nil, 0, true, nil
	}
	return s.scanNamed(name, data), len(data), false, nil
}
