package edge

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
)

// accessLogBuffer is the writer's buffer; lines reach the file when it
// fills, every FlushEvery and at Close.
const accessLogBuffer = 64 << 10

func newBuffered(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, accessLogBuffer) }

// writeLine buffers one whole line: when it does not fit in what is left
// of the buffer, the buffer is written out first, so every write(2)
// carries whole lines (a reader tailing the file or a shared stdout never
// sees half a record; bufio alone would split the line across two).
func writeLine(w *bufio.Writer, line []byte) (int, error) {
	if len(line) > w.Available() && w.Buffered() > 0 {
		if err := w.Flush(); err != nil {
			return 0, err
		}
	}
	return w.Write(line)
}

// plainSink writes to any writer (stdout, tests): no rotation, no reopen.
type plainSink struct{ w *bufio.Writer }

func (s *plainSink) Write(line []byte) error { _, err := writeLine(s.w, line); return err }
func (s *plainSink) Flush() error            { return s.w.Flush() }
func (s *plainSink) Reopen() error           { return s.w.Flush() }
func (s *plainSink) Close() error            { return nil }

// rotatingFile is the access log's file: appended to, renamed to PATH.1
// (older ones shifting, the oldest beyond keep removed) before a line
// would take it past maxSize, and reopened on request.
type rotatingFile struct {
	path    string
	maxSize int64
	keep    int
	f       *os.File
	w       *bufio.Writer
	size    int64
}

// openRotating opens path for appending, creating it 0640.
func openRotating(path string, maxSize int64, keep int) (*rotatingFile, error) {
	r := &rotatingFile{path: path, maxSize: maxSize, keep: keep}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("edge: access log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("edge: access log: %w", err)
	}
	if !st.Mode().IsRegular() && st.Mode()&fs.ModeCharDevice == 0 && st.Mode()&fs.ModeNamedPipe == 0 {
		f.Close()
		return fmt.Errorf("edge: access log %s: not a regular file", r.path)
	}
	if st.Size() == 0 && st.Mode().IsRegular() {
		_ = f.Chmod(0o640) // whatever the umask: not world-readable, group may read
	}
	r.f, r.size = f, st.Size()
	if r.w == nil {
		r.w = newBuffered(f)
	} else {
		r.w.Reset(f)
	}
	return nil
}

func (r *rotatingFile) Write(line []byte) error {
	if r.f == nil {
		if err := r.open(); err != nil { // a failed reopen or rotation: try again
			return err
		}
	}
	if r.size > 0 && r.size+int64(len(line)) > r.maxSize {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	n, err := writeLine(r.w, line)
	r.size += int64(n)
	return err
}

func (r *rotatingFile) Flush() error {
	if r.f == nil {
		return nil
	}
	return r.w.Flush()
}

// rotate closes the file, shifts PATH.i to PATH.i+1 (removing PATH.keep)
// and PATH to PATH.1, and opens a new PATH.
func (r *rotatingFile) rotate() error {
	if err := r.closeFile(); err != nil {
		return err
	}
	name := func(i int) string { return r.path + "." + strconv.Itoa(i) }
	if err := os.Remove(name(r.keep)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("edge: access log rotation: %w", err)
	}
	for i := r.keep - 1; i >= 1; i-- {
		if err := os.Rename(name(i), name(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("edge: access log rotation: %w", err)
		}
	}
	if err := os.Rename(r.path, name(1)); err != nil {
		return fmt.Errorf("edge: access log rotation: %w", err)
	}
	return r.open()
}

// Reopen flushes and closes the file and opens PATH again.
func (r *rotatingFile) Reopen() error {
	if err := r.closeFile(); err != nil {
		return err
	}
	return r.open()
}

func (r *rotatingFile) Close() error { return r.closeFile() }

// closeFile flushes and closes the file; the next Write reopens it.
func (r *rotatingFile) closeFile() error {
	if r.f == nil {
		return nil
	}
	err := errors.Join(r.w.Flush(), r.f.Close())
	r.f = nil
	if err != nil {
		return fmt.Errorf("edge: access log: %w", err)
	}
	return nil
}
