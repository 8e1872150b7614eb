package backup

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"io"
)

// The object format; see the package documentation.
const (
	magic        = "PHXBK1\n"
	objSaltSize  = 32
	headerSize   = len(magic) + objSaltSize
	chunkSize    = 64 << 10
	tagSize      = 16
	gcmNonceSize = 12
)

// objectAEAD derives the key of the object with this salt and returns its
// cipher; the raw key is wiped at once.
func objectAEAD(dataKey, salt []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, dataKey, salt, objLabel, keySize)
	if err != nil {
		return nil, err
	}
	defer wipe(k)
	return newGCM(k)
}

// chunkNonce is the 11-byte big-endian chunk counter followed by the
// last-chunk flag.
func chunkNonce(counter uint64, last bool) []byte {
	var n [gcmNonceSize]byte
	binary.BigEndian.PutUint64(n[3:11], counter)
	if last {
		n[11] = 1
	}
	return n[:]
}

// storedSize is the size of the encrypted object of n plaintext bytes.
func storedSize(n int64) int64 {
	chunks := max(1, (n+chunkSize-1)/chunkSize)
	return int64(headerSize) + n + chunks*tagSize
}

// encWriter encrypts what is written to it into w. Close seals the last
// chunk; it does not close w.
type encWriter struct {
	w       io.Writer
	aead    cipher.AEAD
	buf     []byte // plaintext of the chunk being filled
	out     []byte // sealed chunk
	counter uint64
}

// newEncWriter writes a fresh header to w and returns the writer that
// encrypts the body.
func newEncWriter(w io.Writer, dataKey []byte) (*encWriter, error) {
	salt, err := randomBytes(objSaltSize)
	if err != nil {
		return nil, err
	}
	return newEncWriterSalt(w, dataKey, salt)
}

// newEncWriterSalt is newEncWriter with a given salt, which must be fresh.
func newEncWriterSalt(w io.Writer, dataKey, salt []byte) (*encWriter, error) {
	aead, err := objectAEAD(dataKey, salt)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, magic); err != nil {
		return nil, err
	}
	if _, err := w.Write(salt); err != nil {
		return nil, err
	}
	return &encWriter{w: w, aead: aead, buf: make([]byte, 0, chunkSize)}, nil
}

// Write buffers p, sealing each chunk once it is known not to be the last.
func (e *encWriter) Write(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		if len(e.buf) == chunkSize {
			if err := e.seal(false); err != nil {
				return total, err
			}
		}
		n := copy(e.buf[len(e.buf):chunkSize], p)
		e.buf = e.buf[:len(e.buf)+n]
		p = p[n:]
		total += n
	}
	return total, nil
}

// Close seals the buffered rest as the last chunk.
func (e *encWriter) Close() error { return e.seal(true) }

func (e *encWriter) seal(last bool) error {
	e.out = e.aead.Seal(e.out[:0], chunkNonce(e.counter, last), e.buf, nil)
	e.buf = e.buf[:0]
	e.counter++
	_, err := e.w.Write(e.out)
	return err
}
