package swa

import (
	"errors"
	"strings"
)

// pattern is a compiled route or exclude pattern. The cloud allows a single
// '*' wildcard, either at the very end ("/calendar*", "/calendar/*", "/*")
// or just before an extension filter ("/images/*.png", "/x/*.{png,jpg}").
// Matching is ASCII case-insensitive (the cloud matches routes
// case-insensitively); bytes outside ASCII compare exactly.
type pattern struct {
	raw    string   // as written in the config
	lit    string   // exact path, or the literal text before '*'
	wild   bool     // has a '*'
	exts   []string // extension filter after "*", each with its leading '.'
	ext1   string   // exts[0] when there is exactly one (fast path)
	hasDot bool     // lit contains no '*' and its last segment has a '.'
}

// errWildcardMiddle is the deploy-time rejection of "/a/*/b".
var errWildcardMiddle = errors.New("a wildcard '*' is only allowed at the end of a route or before a file extension filter (\"/path/*\", \"/path*\", \"/path/*.{png,jpg}\")")

// compilePattern compiles s. Patterns that do not start with '/' get one
// prepended ("assets/*" is "/assets/*", "*.css" matches any path ending in
// ".css"); the caller decides whether that deserves a warning.
func compilePattern(s string) (pattern, error) {
	p := pattern{raw: s}
	if s == "" {
		return p, errors.New("the pattern is empty; use a path such as \"/about\" or \"/images/*\"")
	}
	if strings.Contains(s, "://") {
		return p, errors.New("a route must be a path, not a URL with a host name")
	}
	if strings.ContainsAny(s, "?#") {
		return p, errors.New("a route must be a path without a query string or fragment")
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return p, errors.New("a route must not contain whitespace")
	}
	if s[0] != '/' && s[0] != '*' {
		s = "/" + s
	}
	star := strings.IndexByte(s, '*')
	if star < 0 {
		if strings.ContainsAny(s, "{}") {
			return p, errors.New("braces are only allowed in an extension filter after a wildcard, e.g. \"/images/*.{png,jpg}\"")
		}
		p.lit = s
		last := s[strings.LastIndexByte(s, '/')+1:]
		p.hasDot = strings.IndexByte(last, '.') >= 0
		return p, nil
	}
	p.wild = true
	p.lit = s[:star]
	if strings.ContainsAny(p.lit, "{}") {
		return p, errWildcardMiddle
	}
	rest := s[star+1:]
	if rest == "" {
		return p, nil
	}
	exts, err := parseExtFilter(rest)
	if err != nil {
		return p, err
	}
	p.exts = exts
	if len(exts) == 1 {
		p.ext1 = exts[0]
	}
	return p, nil
}

// parseExtFilter parses ".png" or ".{png,jpg}" into [".png", ".jpg"].
func parseExtFilter(rest string) ([]string, error) {
	if len(rest) < 2 || rest[0] != '.' {
		return nil, errWildcardMiddle
	}
	body := rest[1:]
	if body[0] == '{' {
		if body[len(body)-1] != '}' || len(body) < 3 {
			return nil, errors.New("an extension list must look like \"*.{png,jpg}\"")
		}
		body = body[1 : len(body)-1]
	}
	var exts []string
	for _, e := range strings.Split(body, ",") {
		if !isExt(e) {
			if strings.ContainsAny(e, "/*{}") {
				return nil, errWildcardMiddle
			}
			return nil, errors.New("a file extension may contain only letters, digits, '_' and inner dots (e.g. \"*.{png,jpg}\", \"*.js.gz\")")
		}
		exts = append(exts, "."+e)
	}
	return exts, nil
}

// isExt reports whether e is an extension filter's extension: words
// joined by dots, as "png" or "js.gz" (Unity's Build/*.js.gz); a
// filter is a suffix match, so an inner dot needs nothing more.
func isExt(e string) bool {
	for _, w := range strings.Split(e, ".") {
		if w == "" || !isWord(w) {
			return false
		}
	}
	return true
}

func isWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// match reports whether path matches. suffix is appended to path virtually
// (without allocating); it is "" or the default-document suffix used for
// index.html equivalence.
func (p *pattern) match(path, suffix string) bool {
	s := twoStr{path, suffix}
	n := s.len()
	if !p.wild {
		return n == len(p.lit) && s.foldEqualAt(0, p.lit)
	}
	if n < len(p.lit) || !s.foldEqualAt(0, p.lit) {
		return false
	}
	if p.exts == nil {
		return true
	}
	if p.ext1 != "" {
		return n-len(p.lit) >= len(p.ext1) && s.foldEqualAt(n-len(p.ext1), p.ext1)
	}
	for _, e := range p.exts {
		if n-len(p.lit) >= len(e) && s.foldEqualAt(n-len(e), e) {
			return true
		}
	}
	return false
}

// twoStr is the concatenation a+b, read without building it.
type twoStr struct{ a, b string }

func (t twoStr) len() int { return len(t.a) + len(t.b) }

// foldEqualAt reports whether t[i:i+len(lit)] equals lit, ASCII case-folded.
func (t twoStr) foldEqualAt(i int, lit string) bool {
	if i+len(lit) > t.len() {
		return false
	}
	for j := 0; j < len(lit); j++ {
		k := i + j
		var c byte
		if k < len(t.a) {
			c = t.a[k]
		} else {
			c = t.b[k-len(t.a)]
		}
		if c != lit[j] && lower(c) != lower(lit[j]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// indexSuffix returns the suffix that turns path into its default document
// ("/about" -> "/index.html", "/about/" -> "index.html"), or "" when the
// last segment names a file (contains a '.').
func indexSuffix(path string) string {
	last := path[strings.LastIndexByte(path, '/')+1:]
	if strings.IndexByte(last, '.') >= 0 {
		return ""
	}
	if last == "" {
		return "index.html"
	}
	return "/index.html"
}

// covers reports whether wildcard pattern w matches every path that q
// matches (the deploy-time "covered up by a wildcard route" check).
func (w *pattern) covers(q *pattern) bool {
	if !w.wild {
		return false
	}
	if !q.wild {
		return w.match(q.lit, "")
	}
	if len(q.lit) < len(w.lit) || !(twoStr{q.lit, ""}).foldEqualAt(0, w.lit) {
		return false
	}
	if w.exts == nil {
		return true
	}
	if q.exts == nil {
		return false
	}
	for _, qe := range q.exts {
		found := false
		for _, we := range w.exts {
			if strings.EqualFold(qe, we) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
