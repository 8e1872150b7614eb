package artifact

import "slices"

// Precompressor makes the br and gzip variants the artifact build makes for a
// file, with the same settings and the same rule, for a folder served without
// a build (phoenix serve DIR). It is safe for concurrent use.
type Precompressor struct{ c *compressor }

// NewPrecompressor returns a Precompressor at the build's default levels.
func NewPrecompressor() *Precompressor {
	return &Precompressor{c: newCompressor(DefaultBrotliLevel, DefaultGzipLevel)}
}

// Compressible reports whether the build would try variants for a file of
// Content-Type ct and size bytes (a text-like type, 256 B to 64 MiB).
func Compressible(ct string, size int64) bool {
	return compressible(ct) && size >= minCompressSize && size <= maxCompressSize
}

// Encodings returns the encodings the build makes variants in, in the
// order Compress makes them ("br", "gzip").
func (p *Precompressor) Encodings() []string { return p.c.encodings() }

// Compress calls use with each variant of data ("br", then "gzip") that saves
// at least 5 %, as the build keeps them, leaving out the encodings in have
// (a file's own siblings: the build keeps a valid sibling and makes only
// the encodings it lacks); content that does not shrink (checked on its
// first 4 KiB) gets none. The compressed bytes are valid only during the
// call. An error from use stops it and is returned.
func (p *Precompressor) Compress(data []byte, have []string, use func(encoding string, compressed []byte) error) error {
	if !p.c.worthTrying(data) {
		return nil
	}
	for _, enc := range p.c.encodings() {
		if slices.Contains(have, enc) {
			continue
		}
		c, buf, err := p.c.compress(enc, data)
		if err != nil {
			return err
		}
		if keep(len(c), len(data)) {
			err = use(enc, c)
		}
		putBuf(buf)
		if err != nil {
			return err
		}
	}
	return nil
}
