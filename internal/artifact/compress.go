package artifact

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"

	"github.com/andybalholm/brotli"
	"github.com/andybalholm/brotli/matchfinder"
	"github.com/klauspost/compress/gzip"
)

// Compression settings and thresholds. Brotli levels are those of
// andybalholm/brotli's matchfinder encoder (0-9): on the bench site level 3
// ran at ~65 MB/s per core with output 1 % larger than level 5 (~34 MB/s).
const (
	DefaultBrotliLevel = 3
	DefaultGzipLevel   = 6
	minCompressSize    = 256     // smaller files are not worth a variant
	probeSize          = 4 << 10 // bytes compressed to decide whether to try
	maxCompressSize    = 64 << 20
)

// keep reports whether a compressed size is worth keeping: it must save at
// least 5 % (and so be smaller than the original).
func keep(compressed, original int) bool {
	return compressed <= original-original/20 && compressed < original
}

// worthTrying compresses the first 4 KiB with the fastest setting and gives up
// on content that does not shrink (random bytes, media under a text name).
func (c *compressor) worthTrying(data []byte) bool {
	if len(data) < minCompressSize {
		return false
	}
	head := data[:min(len(data), probeSize)]
	var n countWriter
	w := c.probes.get()
	w.Reset(&n)
	w.Write(head)
	w.Close()
	w.Reset(nil)
	c.probes.put(w)
	return keep(int(n), len(head))
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// compressor holds reusable encoders. Free lists (channels) rather than
// sync.Pool: encoders hold large tables, and sync.Pool drops them at every
// GC, which a build triggers often.
type compressor struct {
	brotliLevel, gzipLevel int // < 0: off
	br                     freeList[*matchfinder.Writer]
	gz, probes             freeList[*gzip.Writer]
}

func newCompressor(br, gz int) *compressor {
	c := &compressor{brotliLevel: br, gzipLevel: gz}
	// The matchfinder encoder gives the same ratio as the classic one at
	// level 5 at about twice the speed (measured on the bench site).
	c.br = newFreeList(func() *matchfinder.Writer { return brotli.NewWriterV2(nil, br) })
	c.gz = newFreeList(func() *gzip.Writer { w, _ := gzip.NewWriterLevel(nil, gz); return w })
	c.probes = newFreeList(func() *gzip.Writer { w, _ := gzip.NewWriterLevel(nil, flate.BestSpeed); return w })
	return c
}

// freeList keeps up to 16 reusable values.
type freeList[T any] struct {
	ch   chan T
	make func() T
}

func newFreeList[T any](mk func() T) freeList[T] {
	return freeList[T]{ch: make(chan T, 16), make: mk}
}

func (f freeList[T]) get() T {
	select {
	case v := <-f.ch:
		return v
	default:
		return f.make()
	}
}

func (f freeList[T]) put(v T) {
	select {
	case f.ch <- v:
	default:
	}
}

// encodings returns the encodings this compressor produces.
func (c *compressor) encodings() []string {
	var out []string
	if c.brotliLevel >= 0 {
		out = append(out, EncodingBrotli)
	}
	if c.gzipLevel >= 0 {
		out = append(out, EncodingGzip)
	}
	return out
}

// compress returns data encoded with enc, in a pooled buffer the caller
// returns with putBuf.
func (c *compressor) compress(enc string, data []byte) ([]byte, *[]byte, error) {
	p := getBuf(len(data)/2 + 64)
	buf := bytes.NewBuffer(*p)
	var err error
	switch enc {
	case EncodingBrotli:
		w := c.br.get()
		w.Reset(buf)
		err = finish(w, data)
		w.Reset(nil)
		c.br.put(w)
	case EncodingGzip:
		w := c.gz.get()
		w.Reset(buf)
		err = finish(w, data)
		w.Reset(nil)
		c.gz.put(w)
	default:
		err = fmt.Errorf("compress: unknown encoding %q", enc)
	}
	*p = buf.Bytes()
	if err != nil {
		putBuf(p)
		return nil, nil, err
	}
	return buf.Bytes(), p, nil
}

func finish(w io.WriteCloser, data []byte) error {
	if _, err := w.Write(data); err != nil {
		return err
	}
	return w.Close()
}

// decodes reports whether compressed, decoded with enc, is exactly want.
// It stops reading once the output exceeds want, so a bomb costs nothing.
func decodes(enc string, compressed, want []byte) bool {
	var r io.Reader
	switch enc {
	case EncodingGzip:
		zr, err := gzip.NewReader(bytes.NewReader(compressed))
		if err != nil {
			return false
		}
		zr.Multistream(true)
		r = zr
	case EncodingBrotli:
		r = brotli.NewReader(bytes.NewReader(compressed))
	default:
		return false
	}
	got, err := io.ReadAll(io.LimitReader(r, int64(len(want))+1))
	return err == nil && bytes.Equal(got, want)
}
