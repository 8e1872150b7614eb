package backup

import (
	"bufio"
	"crypto/cipher"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// decReader decrypts an object while reading it. It fails with ErrCorrupt
// on a bad header, an altered, missing, reordered or extra chunk, or (when
// want is set) stored bytes that do not hash to the object's name.
type decReader struct {
	name    string // names the object in errors
	src     *bufio.Reader
	stored  hash.Hash
	want    backend.Digest
	aead    cipher.AEAD
	in      []byte // one sealed chunk
	plain   []byte // decryption buffer
	out     []byte // unread plaintext
	counter uint64
	done    bool
	err     error
}

// newDecReader reads the header from r and returns the reader of the
// plaintext. name labels the object in errors ("object sha256:...").
func newDecReader(r io.Reader, dataKey []byte, name string, want backend.Digest) (*decReader, error) {
	d := &decReader{name: name, want: want}
	if want != "" {
		d.stored = backend.NewHash()
		r = io.TeeReader(r, d.stored)
	}
	d.src = bufio.NewReader(r)
	hdr := make([]byte, headerSize)
	if _, err := io.ReadFull(d.src, hdr); err != nil {
		return nil, d.readErr(err, "shorter than its header")
	}
	if string(hdr[:len(magic)]) != magic {
		return nil, d.corrupt("not a phoenix backup object")
	}
	aead, err := objectAEAD(dataKey, hdr[len(magic):])
	if err != nil {
		return nil, err
	}
	d.aead = aead
	d.in = make([]byte, chunkSize+tagSize)
	d.plain = make([]byte, 0, chunkSize)
	return d, nil
}

// Read returns decrypted, authenticated plaintext.
func (d *decReader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		if d.done {
			return 0, io.EOF
		}
		d.err = d.next()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// next reads, authenticates and decrypts one chunk.
func (d *decReader) next() error {
	n, last, err := d.readChunk()
	if err != nil {
		return err
	}
	if n < tagSize || (last && n == tagSize && d.counter > 0) {
		return d.corrupt("malformed chunk")
	}
	out, err := d.aead.Open(d.plain[:0], chunkNonce(d.counter, last), d.in[:n], nil)
	if err != nil {
		return d.corrupt(fmt.Sprintf("chunk %d fails authentication", d.counter))
	}
	d.out = out
	d.counter++
	if last {
		d.done = true
		return d.checkName()
	}
	return nil
}

// readChunk reads one sealed chunk and reports whether it is the last: a
// short chunk, or a full one that nothing follows.
func (d *decReader) readChunk() (int, bool, error) {
	n, err := io.ReadFull(d.src, d.in)
	switch {
	case err == io.EOF:
		return 0, false, d.corrupt("truncated: the last chunk is missing")
	case err == io.ErrUnexpectedEOF:
		return n, true, nil
	case err != nil:
		return 0, false, d.readErr(err, "")
	}
	if _, err := d.src.Peek(1); err == io.EOF {
		return n, true, nil
	} else if err != nil {
		return 0, false, d.readErr(err, "")
	}
	return n, false, nil
}

// checkName compares the stored bytes with the object's name.
func (d *decReader) checkName() error {
	if d.want == "" {
		return nil
	}
	if got := backend.FromHash(d.stored.Sum(nil)); got != d.want {
		return d.corrupt("stored bytes hash to " + got.String())
	}
	return nil
}

func (d *decReader) corrupt(why string) error {
	return fmt.Errorf("%s: %s: %w", d.name, why, ErrCorrupt)
}

// readErr reports a read failure; running out of bytes is corruption.
func (d *decReader) readErr(err error, short string) error {
	if short != "" && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
		return d.corrupt(short)
	}
	return fmt.Errorf("read %s: %w", d.name, err)
}
