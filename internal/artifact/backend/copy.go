package backend

import (
	"bytes"
	"context"
	"fmt"
	"io"
)

// CopyVerified copies r to w while hashing, and checks the result against d
// and, if size >= 0, against size. It reads at most size+1 bytes when size is
// known, so an oversized stream is rejected without reading it all. Backends
// use it to implement Put; the error wraps ErrDigestMismatch, ErrSizeMismatch
// or ctx.Err().
func CopyVerified(ctx context.Context, w io.Writer, r io.Reader, d Digest, size int64) (int64, error) {
	h := NewHash()
	n, err := copyChecked(ctx, io.MultiWriter(w, h), r, size)
	if err != nil {
		return n, fmt.Errorf("put %s: %w", d, err)
	}
	if size >= 0 && n != size {
		return n, fmt.Errorf("put %s: %w: read %d bytes, declared %d", d, ErrSizeMismatch, n, size)
	}
	if got := FromHash(h.Sum(nil)); got != d {
		return n, fmt.Errorf("put %s: %w: content hashes to %s", d, ErrDigestMismatch, got)
	}
	return n, nil
}

// ContextReader returns a reader of r that fails with ctx's error once ctx
// ends, so a long copy stops between reads.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

// ctxReader stops a copy once its context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// copyBufs recycles copy buffers: a build puts tens of thousands of blobs.
var copyBufs = make(chan []byte, 16)

func copyChecked(ctx context.Context, w io.Writer, r io.Reader, size int64) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if br, ok := r.(*bytes.Reader); ok && (size < 0 || int64(br.Len()) <= size+1) {
		return br.WriteTo(w) // in memory already: one write, no buffer
	}
	src := r
	if size >= 0 {
		src = io.LimitReader(r, size+1)
	}
	var buf []byte
	select {
	case buf = <-copyBufs:
	default:
		buf = make([]byte, 256<<10)
	}
	n, err := io.CopyBuffer(w, ctxReader{ctx, src}, buf)
	select {
	case copyBufs <- buf:
	default:
	}
	return n, err
}
