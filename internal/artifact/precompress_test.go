package artifact

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
)

// TestPrecompressor: text gets br and gzip variants that decode to it, as
// the build makes them; bytes that do not shrink get none; the size and
// type rule is the build's.
func TestPrecompressor(t *testing.T) {
	p := NewPrecompressor()
	text := []byte(strings.Repeat("export const answer = 42;\n", 500))
	got := map[string][]byte{}
	err := p.Compress(text, nil, func(enc string, c []byte) error { got[enc] = bytes.Clone(c); return nil })
	if err != nil {
		t.Fatal(err)
	}
	for _, enc := range []string{EncodingBrotli, EncodingGzip} {
		if !decodes(enc, got[enc], text) {
			t.Errorf("%s variant missing or does not decode to the text (%d bytes)", enc, len(got[enc]))
		}
	}
	var made []string
	if err := p.Compress(text, []string{EncodingGzip}, func(enc string, _ []byte) error { made = append(made, enc); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(made, ",") != EncodingBrotli {
		t.Errorf("with a gzip sibling Compress made %v, want only br", made)
	}
	noise := make([]byte, 8<<10)
	rand.Read(noise)
	if err := p.Compress(noise, nil, func(enc string, _ []byte) error { t.Errorf("random bytes got a %s variant", enc); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ct   string
		size int64
		want bool
	}{{"text/javascript; charset=utf-8", 1000, true}, {"text/css", 255, false}, {"image/png", 1000, false},
		{"image/svg+xml", 64 << 20, true}, {"application/json", 64<<20 + 1, false}} {
		if Compressible(c.ct, c.size) != c.want {
			t.Errorf("Compressible(%q, %d) = %v", c.ct, c.size, !c.want)
		}
	}
}
