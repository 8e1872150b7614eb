package secret

import (
	"bytes"
	"testing"
)

// longLine is a minified bundle or source map: one line of n bytes with
// a keyword (key, token, auth) every 2 KiB and no secret.
func longLine(n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(`function(e){var t=e.authToken||e.apiKey;return fetch(u,{headers:{Authorization:t}})}`)
		b.Write(bytes.Repeat([]byte("a=b+c;"), 2048/6))
	}
	return b.Bytes()[:n]
}

func BenchmarkScanLongLine(b *testing.B) {
	s := &scanner{rs: DefaultRules()}
	data := longLine(4 << 20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		s.scan(data)
	}
}
