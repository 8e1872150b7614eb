package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// memObjectLimit is the plaintext size below which an object is encrypted
// in memory; larger ones go through a temporary file in the repository.
const memObjectLimit = 8 << 20

// putter is what objects are stored through: a store or a batch.
type putter interface {
	Put(ctx context.Context, d backend.Digest, r io.Reader, size int64) error
	Link(ctx context.Context, d backend.Digest, path string) error
}

// sealed describes a plaintext and the object it was stored as.
type sealed struct {
	digest backend.Digest // of the plaintext
	size   int64          // plaintext bytes
	object backend.Digest // of the stored bytes
	stored int64          // stored bytes
}

// encrypt encrypts src into w, hashing both sides.
func (r *Repo) encrypt(ctx context.Context, w io.Writer, src io.Reader) (sealed, error) {
	plain, stored := backend.NewHash(), backend.NewHash()
	cw := &countingWriter{w: io.MultiWriter(w, stored)}
	ew, err := newEncWriter(cw, r.key)
	if err != nil {
		return sealed{}, err
	}
	n, err := io.Copy(ew, io.TeeReader(backend.ContextReader(ctx, src), plain))
	if err == nil {
		err = ew.Close()
	}
	if err != nil {
		return sealed{}, err
	}
	return sealed{digest: sumDigest(plain), size: n, object: sumDigest(stored), stored: cw.n}, nil
}

// errNotItsName is putObject's error for a plaintext whose digest is not
// the one the caller expected (a blob's name): nothing was stored.
var errNotItsName = errors.New("the content does not match its name")

// putObject encrypts src (of about sizeHint bytes) and stores it through p.
// With want set, a plaintext whose digest is not want is not stored
// (errNotItsName, with the sealed digest it had): the digest is the one
// encryption computes anyway, so checking costs no second read.
func (r *Repo) putObject(ctx context.Context, p putter, src io.Reader, sizeHint int64, want backend.Digest) (sealed, error) {
	if sizeHint >= memObjectLimit {
		return r.putLarge(ctx, p, src, want)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	buf.Grow(int(storedSize(max(sizeHint, 0))))
	s, err := r.encrypt(ctx, buf, src)
	if err != nil {
		return sealed{}, err
	}
	if want != "" && s.digest != want {
		return s, errNotItsName
	}
	return s, p.Put(ctx, s.object, bytes.NewReader(buf.Bytes()), s.stored)
}

// bufPool holds the buffers small objects are encrypted into: without it
// a backup of many files allocates (and the runtime clears and collects)
// its whole size again.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putLarge encrypts src into a temporary file and hard-links that into the
// store (or copies it where linking is not possible).
func (r *Repo) putLarge(ctx context.Context, p putter, src io.Reader, want backend.Digest) (sealed, error) {
	f, err := os.CreateTemp(r.dir, tmpPrefix+"object-*")
	if err != nil {
		return sealed{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	s, err := r.encrypt(ctx, f, src)
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		return sealed{}, err
	}
	if want != "" && s.digest != want {
		return s, errNotItsName
	}
	if err = p.Link(ctx, s.object, f.Name()); errors.Is(err, backend.ErrCannotLink) {
		err = putFile(ctx, p, s, f.Name())
	}
	return s, err
}

// putFile stores the finished object file at path through p.
func putFile(ctx context.Context, p putter, s sealed, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return p.Put(ctx, s.object, f, s.stored)
}

// openObject opens object d of store and returns its decrypted content,
// which fails with ErrCorrupt if the object was altered. With checkName
// the stored bytes must also hash to d (an object saved under another
// object's name); a caller that checks the plaintext's digest itself
// passes false and spares a second hash of every byte.
func (r *Repo) openObject(ctx context.Context, store backend.Backend, d backend.Digest, label string, checkName bool) (io.ReadCloser, error) {
	rc, err := store.Get(ctx, d)
	if err != nil {
		return nil, err
	}
	want := d
	if !checkName {
		want = ""
	}
	dr, err := newDecReader(backend.ContextReader(ctx, rc), r.key, fmt.Sprintf("%s %s", label, d), want)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return readCloser{dr, rc}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func sumDigest(h hash.Hash) backend.Digest { return backend.FromHash(h.Sum(nil)) }
