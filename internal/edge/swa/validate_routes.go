package swa

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

var routeKeys = []string{"allowedRoles", "headers", "methods", "redirect", "rewrite", "route", "statusCode"}

// methodBit maps an HTTP method to its bit; 0 for methods routes cannot name.
func methodBit(m string) uint16 {
	switch m {
	case "GET":
		return 1
	case "HEAD":
		return 2
	case "POST":
		return 4
	case "PUT":
		return 8
	case "DELETE":
		return 16
	case "PATCH":
		return 32
	case "CONNECT":
		return 64
	case "OPTIONS":
		return 128
	case "TRACE":
		return 256
	}
	return 0
}

func (v *validator) routes(n *jnode, field string) ([]route, [][]headerPair) {
	if !v.is(n, 'a', field) {
		return nil, nil
	}
	var out []route
	var hdrs [][]headerPair
	var offs []int
	for i, el := range n.elems {
		f := fmt.Sprintf("%s[%d]", field, i)
		r, h, ok := v.route(el, f)
		if !ok {
			continue
		}
		v.checkReachable(out, offs, r, el, f)
		out = append(out, r)
		hdrs = append(hdrs, h)
		offs = append(offs, el.off)
	}
	return out, hdrs
}

func (v *validator) route(n *jnode, f string) (route, []headerPair, bool) {
	var r route
	var hdr []headerPair
	var hasRoute, bad bool
	var routeNode, statusNode, rewriteNode *jnode
	statusOK := false
	v.object(n, f, routeKeys, true, func(key string, val *jnode, sf string) {
		switch key {
		case "route":
			routeNode = val
			s, ok := v.str(val, sf)
			if !ok {
				bad = true
				return
			}
			hasRoute = true
			p, err := compilePattern(s)
			if err != nil {
				v.errf(val, sf, "%v", err)
				bad = true
				return
			}
			if s != "" && s[0] != '/' {
				v.warnf(val, sf, "route %q does not start with '/'; it is matched from the site root", s)
			}
			r.pat = p
		case "methods":
			v.methods(&r, val, sf)
		case "allowedRoles":
			r.roles = v.allowedRoles(val, sf)
		case "headers":
			hdr = v.responseHeaders(val, sf)
		case "redirect":
			if s, ok := v.str(val, sf); ok {
				if s == "" {
					v.errf(val, sf, "must not be empty")
				}
				r.redirect = s
				v.checkTarget(val, sf, s)
			}
		case "rewrite":
			if s, ok := v.str(val, sf); ok {
				if s == "" {
					v.errf(val, sf, "must not be empty")
				}
				r.rewrite, r.rewriteQ = splitRewrite(s)
				v.checkTarget(val, sf, s)
				rewriteNode = val
			}
		case "statusCode":
			statusNode = val
			r.status, statusOK = v.integer(val, sf)
		}
	})
	if n.kind != 'o' {
		return r, nil, false
	}
	if !hasRoute && routeNode == nil {
		v.errf(n, f, "missing required key \"route\": every route needs a \"route\" path")
	}
	if r.redirect != "" && r.rewrite != "" {
		v.errf(n, f, "\"rewrite\" and \"redirect\" cannot be combined in one route")
	}
	if statusOK {
		v.checkStatus(statusNode, f+".statusCode", r.status, r.redirect != "")
	}
	if rewriteNode != nil && !isErrorStatus(r.status) { // a 400/401/403/404 route never serves its rewrite
		v.noteRewrite(rewriteNode, f+".rewrite", r.rewrite, useRoute)
	}
	if r.redirect != "" && hasRoute && !bad {
		v.checkLoop(r, n, f)
	}
	// A route with a valid pattern takes part in the reachability check even
	// when other fields are wrong, so that every problem is reported.
	return r, hdr, hasRoute && !bad
}

// splitRewrite separates "/api/x?a=1" into path and query and adds a
// missing leading '/'.
func splitRewrite(s string) (string, string) {
	q := ""
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s, q = s[:i], s[i+1:]
	}
	if !strings.HasPrefix(s, "/") {
		s = "/" + s
	}
	return s, q
}

// checkStatus validates a statusCode of a route or response override.
func (v *validator) checkStatus(n *jnode, f string, status int, redirect bool) {
	switch {
	case redirect && (status == 301 || status == 302):
	case redirect && (status == 307 || status == 308):
		v.warnf(n, f, "the cloud documents only 301 and 302 for redirects (the emulator sends 302 for %d); Phoenix sends %d", status, status)
	case redirect:
		v.errf(n, f, "a redirect needs statusCode 301 or 302 (or 307/308), not %d", status)
	case status < 100 || status > 599:
		v.errf(n, f, "%d is not an HTTP status code", status)
	case status >= 300 && status < 400:
		v.errf(n, f, "statusCode %d needs a \"redirect\" target", status)
	}
}

func (v *validator) methods(r *route, n *jnode, f string) {
	if !v.is(n, 'a', f) {
		return
	}
	if len(n.elems) == 0 {
		v.warnf(n, f, "an empty methods list matches no request; remove the key to match every method")
		r.methods = 1 << 15 // matches nothing
	}
	v.strs(n, f, func(s string, el *jnode, ef string) {
		b := methodBit(s)
		if b == 0 {
			msg := fmt.Sprintf("unknown method %q (allowed: GET, HEAD, POST, PUT, DELETE, PATCH, CONNECT, OPTIONS, TRACE)", s)
			if methodBit(strings.ToUpper(s)) != 0 {
				msg += "; methods are upper case"
			}
			v.errf(el, ef, "%s", msg)
			return
		}
		r.methods |= b
	})
}

func (v *validator) allowedRoles(n *jnode, f string) []string {
	var roles []string
	anon := false
	v.strs(n, f, func(s string, el *jnode, ef string) {
		if s == "" || !isWord(s) {
			v.errf(el, ef, "role %q: role names may contain only letters, digits and '_'", s)
			return
		}
		v.roles[strings.ToLower(s)] = true
		anon = anon || strings.EqualFold(s, "anonymous")
		roles = append(roles, s)
	})
	if anon || len(roles) == 0 {
		return nil // "anonymous" (or nothing) means no check
	}
	return roles
}

// checkReachable reports a route hidden by an earlier wildcard route: the
// cloud rejects that at deploy time.
func (v *validator) checkReachable(prev []route, offs []int, r route, n *jnode, f string) {
	for i := range prev {
		p := &prev[i]
		if p.methods != 0 && (r.methods == 0 || r.methods&^p.methods != 0) {
			continue // r is still reachable for methods p does not take
		}
		if p.pat.covers(&r.pat) {
			line, _ := v.lines.pos(offs[i])
			v.errf(n, f+".route", "a route is covered up by a wildcard route and would not be evaluated: route %q, wildcard %q (line %d); delete the route or move it above the wildcard", r.pat.raw, p.pat.raw, line)
			return
		}
		if !p.pat.wild && !r.pat.wild && strings.EqualFold(p.pat.lit, r.pat.lit) {
			v.warnf(n, f+".route", "route %q repeats an earlier route (routes match case-insensitively) and is never used", r.pat.raw)
			return
		}
	}
}

// checkLoop warns about a redirect whose own route matches its target.
func (v *validator) checkLoop(r route, n *jnode, f string) {
	t := r.redirect
	if !strings.HasPrefix(t, "/") || strings.HasPrefix(t, "//") {
		return
	}
	if i := strings.IndexAny(t, "?#"); i >= 0 {
		t = t[:i]
	}
	if r.pat.match(t, "") && (r.pat.wild || r.pat.lit != t) {
		v.warnf(n, f+".redirect", "the route %q also matches its redirect target %q (routes match case-insensitively), so browsers will loop", r.pat.raw, r.redirect)
	}
}

// headers validates a header map; an empty value removes the header.
// edgeFramed are the response headers the edge writes itself for every
// response: its length and framing, and the hop-by-hop headers of RFC 9110
// §7.6.1, which describe one connection, not the content. Set from a
// config they contradicted the edge's own (Transfer-Encoding: chunked next
// to its Content-Length is a response no client can read; Connection:
// close on a connection kept open), so they are left out with a warning.
var edgeFramed = []string{"Connection", "Content-Length", "Content-Range", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// responseHeaders reads globalHeaders or a route's headers: headers
// without the ones the edge writes itself.
func (v *validator) responseHeaders(n *jnode, f string) []headerPair {
	return v.headers(n, f, true)
}

func (v *validator) headers(n *jnode, f string, response bool) []headerPair {
	var out []headerPair
	seen := map[string]bool{}
	v.object(n, f, nil, true, func(key string, val *jnode, sf string) {
		s, ok := v.str(val, sf)
		if !ok {
			return
		}
		if !validHeaderName(key) {
			v.errf(val, sf, "%q is not a valid header name", key)
			return
		}
		if strings.ContainsAny(s, "\r\n\x00") {
			v.errf(val, sf, "a header value must not contain line breaks or NUL")
			return
		}
		name := http.CanonicalHeaderKey(key)
		if response && slices.Contains(edgeFramed, name) {
			v.warnf(val, sf, "%s is written by the edge for each response (its length and framing, or a hop-by-hop header) and is ignored here; delete it", name)
			return
		}
		if seen[name] {
			v.warnf(val, sf, "header %q is set twice (names are case-insensitive); the last value wins", key)
		}
		seen[name] = true
		out = append(out, headerPair{name, s})
	})
	return out
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}
