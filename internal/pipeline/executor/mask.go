package executor

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// MinSecretLen is the shortest value masked. Shorter values ("1", "yes")
// would blank out ordinary words; Phoenix refuses to treat them as secrets
// and the fetch-secrets action fails on them.
const MinSecretLen = 4

// Mask replaces every masked value in logs.
const Mask = "***"

// Masker holds the values hidden from logs: each secret as written and in
// the forms it commonly takes on the way out (base64 in its standard and
// URL alphabets, also inside a longer base64 text such as a Basic
// Authorization header, and URL-encoded). It is safe for concurrent use; a
// value added while a step runs applies to the output not yet written.
type Masker struct {
	mu      sync.RWMutex
	pats    [][]byte // longest first
	seen    map[string]bool
	maxLen  int
	secrets []string // the values given to Secret, as given
}

// NewMasker returns an empty Masker.
func NewMasker() *Masker { return &Masker{seen: map[string]bool{}} }

// Add masks secret and its encoded forms. Values shorter than MinSecretLen
// are ignored; multi-line secrets are also masked line by line.
func (m *Masker) Add(secret string) {
	if len(secret) < MinSecretLen {
		return
	}
	forms := Variants(secret)
	for _, line := range strings.Split(secret, "\n") {
		if line = strings.TrimRight(line, "\r"); len(line) >= MinSecretLen && line != secret {
			forms = append(forms, Variants(line)...)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range forms {
		if len(f) < MinSecretLen || m.seen[f] {
			continue
		}
		m.seen[f] = true
		m.pats = append(m.pats, []byte(f))
		m.maxLen = max(m.maxLen, len(f))
	}
	sort.SliceStable(m.pats, func(i, j int) bool { return len(m.pats[i]) > len(m.pats[j]) })
}

// Secret masks secret (Add) and keeps it among Secrets: a value from a
// secret store, not merely one hidden from the logs (an env:NAME value).
func (m *Masker) Secret(secret string) {
	m.Add(secret)
	if len(secret) < MinSecretLen {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.secrets = append(m.secrets, secret)
}

// Secrets returns the values given to Secret so far.
func (m *Masker) Secrets() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return append([]string(nil), m.secrets...)
}

// Variants returns secret and its encoded forms.
func Variants(secret string) []string {
	b := []byte(secret)
	out := []string{secret,
		base64.StdEncoding.EncodeToString(b), base64.URLEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
		url.QueryEscape(secret), url.PathEscape(secret),
	}
	// Inside a longer base64 text the secret starts at byte offset 0, 1 or
	// 2 of a 3-byte group; the characters that depend on it alone are the
	// same whatever surrounds it.
	for k := 0; k < 3; k++ {
		buf := append(make([]byte, k), b...)
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			s := enc.EncodeToString(buf)
			skip := (k*8 + 5) / 6
			full := len(buf) * 8 / 6
			if full-skip >= 6 {
				out = append(out, s[skip:full])
			}
		}
	}
	return out
}

// Empty reports whether nothing is masked.
func (m *Masker) Empty() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.pats) == 0
}

// String masks s.
func (m *Masker) String(s string) string { return string(m.mask([]byte(s))) }

func (m *Masker) mask(b []byte) []byte {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, p := range m.pats {
		if bytes.Contains(b, p) {
			b = bytes.ReplaceAll(b, p, []byte(Mask))
		}
	}
	return b
}

// safeCut returns the longest prefix of b that can be masked and written
// now: it keeps back the last maxLen-1 bytes (a value may continue there),
// unless a complete value crosses the cut, which is then included whole.
func (m *Masker) safeCut(b []byte) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	cut := len(b) - (m.maxLen - 1)
	if cut <= 0 {
		return 0
	}
	end := cut
	for _, p := range m.pats {
		from := max(0, cut-len(p)+1)
		for i := from; i < cut; {
			j := bytes.Index(b[i:], p)
			if j < 0 || i+j >= cut {
				break
			}
			end = max(end, i+j+len(p))
			i += j + 1
		}
	}
	return end
}

// MaxLine is how much of a line without a newline is buffered before it is
// masked and written anyway.
const MaxLine = 64 << 10

// Fuller is a sink that can say it accepts no more bytes (a capped log);
// the mask writer then drops output without masking it.
type Fuller interface{ Full() bool }

// MaskWriter masks secrets in a byte stream before passing it on. It
// buffers up to a newline so that a value split across writes is still
// found; Flush writes what is left. It is not safe for concurrent use.
type MaskWriter struct {
	m   *Masker
	w   io.Writer
	buf []byte
}

// NewMaskWriter returns a writer masking m's values on their way to w.
func NewMaskWriter(w io.Writer, m *Masker) *MaskWriter { return &MaskWriter{m: m, w: w} }

// Write masks and forwards complete lines; it always consumes all of p.
func (mw *MaskWriter) Write(p []byte) (int, error) {
	if f, ok := mw.w.(Fuller); ok && f.Full() {
		_, err := mw.w.Write(p) // counted as dropped by the sink
		return len(p), err
	}
	if mw.m.Empty() && len(mw.buf) == 0 {
		_, err := mw.w.Write(p)
		return len(p), err
	}
	mw.buf = append(mw.buf, p...)
	if i := bytes.LastIndexByte(mw.buf, '\n'); i >= 0 {
		if err := mw.emit(i + 1); err != nil {
			return len(p), err
		}
	}
	if len(mw.buf) > MaxLine {
		if err := mw.emit(mw.m.safeCut(mw.buf)); err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}

func (mw *MaskWriter) emit(n int) error {
	if n <= 0 {
		return nil
	}
	out := mw.m.mask(append([]byte(nil), mw.buf[:n]...))
	mw.buf = append(mw.buf[:0], mw.buf[n:]...)
	_, err := mw.w.Write(out)
	return err
}

// Flush masks and writes any buffered partial line.
func (mw *MaskWriter) Flush() error { return mw.emit(len(mw.buf)) }
