package edge

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Reasons CleanPath rejects a path. Each becomes a 400 with this text.
var (
	ErrPathNotAbsolute = errors.New("path must start with /")
	ErrPathControl     = errors.New("path contains a control character or NUL")
	ErrPathEncoding    = errors.New("path is not valid UTF-8 (overlong or truncated encoding)")
	ErrPathEscaped     = errors.New("path contains an encoded percent sign (double encoding)")
	ErrPathBackslash   = errors.New("path contains a backslash")
	ErrPathDotSegment  = errors.New("path contains a . or .. segment")
	ErrPathTooLong     = errors.New("path is longer than 4096 bytes")
)

// MaxPathLen bounds the decoded request path.
const MaxPathLen = 4096

// CleanPath validates a request path that has been percent-decoded exactly
// once (net/http's URL.Path) and returns the release path the rules see.
//
// It never resolves "..": a dot segment, a backslash (Windows separator,
// "..%5c"), a leftover "%" (double encoding such as "%252e"), invalid UTF-8
// (overlong "%c0%ae"), NUL or any control character is rejected, so no
// request can name a byte outside the release. Repeated slashes collapse to
// one; a trailing slash is kept. The common case returns p itself without
// allocating.
func CleanPath(p string) (string, error) {
	if len(p) == 0 || p[0] != '/' {
		return "", ErrPathNotAbsolute
	}
	if len(p) > MaxPathLen {
		return "", ErrPathTooLong
	}
	dup := false
	ascii := true
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return "", ErrPathControl
		case c == '%':
			return "", ErrPathEscaped
		case c == '\\':
			return "", ErrPathBackslash
		case c >= utf8.RuneSelf:
			ascii = false
		case c == '/' && i > 0 && p[i-1] == '/':
			dup = true
		}
	}
	if !ascii && !utf8.ValidString(p) {
		return "", ErrPathEncoding
	}
	if !ascii && hasC1Control(p) {
		return "", ErrPathControl
	}
	if hasDotSegment(p) {
		return "", ErrPathDotSegment
	}
	if dup {
		p = collapseSlashes(p)
	}
	return p, nil
}

// hasDotSegment reports a "." or ".." segment anywhere in p.
func hasDotSegment(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] != '.' || p[i-1] != '/' { // p[0] is '/', so i-1 >= 0 when p[i]=='.'
			continue
		}
		rest := p[i+1:]
		if rest == "" || rest[0] == '/' {
			return true
		}
		if rest[0] == '.' && (len(rest) == 1 || rest[1] == '/') {
			return true
		}
	}
	return false
}

// hasC1Control reports U+0080..U+009F, U+2028/9 and other invisible
// separators that no legitimate file name needs.
func hasC1Control(p string) bool {
	for _, r := range p {
		if (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 || r == 0xfeff {
			return true
		}
	}
	return false
}

func collapseSlashes(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}
