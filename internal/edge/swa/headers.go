package swa

import (
	"net/http"
	"strings"
)

// defaultHeaders are the platform defaults on successful static responses.
// The cloud sends "Cache-Control: must-revalidate, max-age=30" by default;
// its per-deployment ETag is the edge's business.
var defaultHeaders = []headerPair{{"Cache-Control", "must-revalidate, max-age=30"}}

var allowHeader = []headerPair{{"Allow", "GET, HEAD, OPTIONS"}}

// finish precomputes the header sets of every rule: defaults, then
// globalHeaders, then the route's headers, each layer replacing a header of
// the same (case-insensitive) name.
func (c *Config) finish(global []headerPair, routeHeaders [][]headerPair) {
	c.ready = true
	c.noRoute = makeSet(global, nil)
	for i := range c.routes {
		c.routes[i].hdr = makeSet(global, routeHeaders[i])
	}
	if c.fallback != nil {
		c.fallback.file = fallbackFile(c.fallback.rewrite)
	}
}

// zeroConfigHeaders are the headers of a zero Config (no globalHeaders).
var zeroConfigHeaders = makeSet(nil, nil)

func makeSet(global, route []headerPair) headerSet {
	return headerSet{
		ok:      merge(defaultHeaders, global, route),
		other:   merge(global, route),
		fail:    merge(global, route, noStore),
		options: merge(defaultHeaders, global, route, allowHeader),
		api:     merge(route),
	}
}

// noStore is the Cache-Control of errors and their redirects.
var noStore = []headerPair{{"Cache-Control", "no-store"}}

func merge(layers ...[]headerPair) http.Header {
	h := http.Header{}
	for _, l := range layers {
		for _, p := range l {
			h[p.name] = []string{p.value}
		}
	}
	if len(h) == 0 {
		return nil
	}
	return h
}

// ext returns the extension (with '.') of the last segment of p, or "".
func ext(p string) string {
	for i := len(p) - 1; i >= 0 && p[i] != '/'; i-- {
		if p[i] == '.' {
			return p[i:]
		}
	}
	return ""
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// mimeFor returns the mimeTypes entry for file's extension, or "".
func (c *Config) mimeFor(file string) string {
	if len(c.mime) == 0 {
		return ""
	}
	e := ext(file)
	if e == "" {
		return ""
	}
	return c.mime[lowerASCII(e)]
}
