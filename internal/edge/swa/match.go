package swa

import (
	"net/url"
	"strings"
)

// match returns the index of the first rule matching the request, or -1.
// A rule matches when its pattern matches the path (case-insensitively),
// or the path's default document ("/about" -> "/about/index.html") when
// the last segment has no '.' and the release holds that document (the
// file the request is then served: "/admin/*" guards "/admin" of an admin
// folder, but a deep link of an SPA with no such folder matches no
// "/admin/*" and goes to the fallback, as the cloud's "/admin/*" does
// not match "/admin"), and its methods (if any) include the request
// method. Requests under /.auth/ only match rules without a
// wildcard. A redirect rule whose target is exactly the requested URL is
// skipped (loop guard) and matching goes on.
func (c *Config) match(path string, r *Request, fs FileSystem) int {
	if len(c.routes) == 0 {
		return -1
	}
	mb := methodBit(r.Method)
	suffix := indexSuffix(path)
	auth := isAuthPath(path)
	for i := range c.routes {
		rt := &c.routes[i]
		if rt.methods != 0 && rt.methods&mb == 0 {
			continue
		}
		if auth && rt.pat.wild {
			continue
		}
		if !rt.pat.match(path, "") && (suffix == "" || !rt.pat.match(path, suffix) || !hasDefault(fs, path, suffix)) {
			continue
		}
		if rt.redirect != "" && sameURL(rt.redirect, path, r.RawQuery) {
			continue
		}
		return i
	}
	return -1
}

// hasDefault reports whether fs holds path's default document (path and
// its indexSuffix).
func hasDefault(fs FileSystem, path, suffix string) bool {
	return fs != nil && fs.Exists(path+suffix)
}

func sameURL(target, path, query string) bool {
	if query == "" {
		return target == path
	}
	return len(target) == len(path)+1+len(query) && strings.HasPrefix(target, path) &&
		target[len(path)] == '?' && strings.HasSuffix(target, query)
}

// admit applies networking.allowedIpRanges and
// forwardingGateway.requiredHeaders.

// Gated reports whether the config restricts who may reach the site
// (networking.allowedIpRanges or forwardingGateway.requiredHeaders).
func (c *Config) Gated() bool { return c.ipGate || len(c.reqHeader) > 0 }

func (c *Config) admit(r *Request) bool {
	if r.Trusted {
		return true
	}
	if c.ipGate {
		ip := r.ClientIP.Unmap()
		ok := false
		for _, p := range c.ipRanges {
			if p.Contains(ip) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, h := range c.reqHeader {
		ok := false
		for _, v := range r.Header[h.name] {
			ok = ok || v == h.value
		}
		if !ok {
			return false
		}
	}
	return true
}

// location builds a redirect target. Site paths stay relative unless the
// request came through an allowed forwarding host (X-Forwarded-Host listed
// in forwardingGateway.allowedForwardedHosts): then they are made absolute
// on that host.
func (c *Config) location(target string, r *Request) string {
	if len(c.fwdHosts) == 0 || !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") {
		return target
	}
	host := r.Header.Get("X-Forwarded-Host")
	if host == "" || !hasRole(c.fwdHosts, host) {
		return target
	}
	scheme := "https"
	if r.Header.Get("X-Forwarded-Proto") == "http" {
		scheme = "http"
	}
	return scheme + "://" + host + target
}

// replaceReferrer substitutes ".referrer" in an override's redirect with
// the URL-encoded current path and query.
func replaceReferrer(target string, r *Request) string {
	if !strings.Contains(target, ".referrer") {
		return target
	}
	cur := (&url.URL{Path: r.Path, RawQuery: r.RawQuery}).RequestURI()
	return strings.Replace(target, ".referrer", encodeURIComponent(cur), 1)
}

// encodeURIComponent escapes like JavaScript's function of that name.
func encodeURIComponent(s string) string {
	const keep = "-_.!~*'()"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
	}
	return b.String()
}
