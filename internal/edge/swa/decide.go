package swa

import (
	"net/http"
	"strings"
)

// decider carries one request through the pipeline.
type decider struct {
	c   *Config
	r   *Request
	fs  FileSystem
	p   string // request path
	rt  *route // matched rule, or nil
	ri  int
	hdr *headerSet
}

// Decide applies the rules to r, in the cloud's order: networking gates,
// route matching, the route's statusCode, the 405 check for static
// content, allowedRoles, redirect, rewrite, /.auth and /api forwarding,
// file lookup (default documents, trailingSlash), navigationFallback, and
// responseOverrides for 400/401/403/404.
func (c *Config) Decide(r *Request, fs FileSystem) Decision {
	d := decider{c: c, r: r, fs: fs, p: r.Path, ri: -1, hdr: &c.noRoute}
	if !c.ready {
		d.hdr = &zeroConfigHeaders // a zero Config behaves like Default()
	}
	if d.p == "" || d.p[0] != '/' {
		d.p = "/" + d.p
	}
	if !c.admit(r) {
		return Decision{Status: http.StatusForbidden, Header: d.hdr.fail, Route: -1, Reason: ReasonNetwork}
	}
	if i := c.match(d.p, r, fs); i >= 0 {
		d.ri, d.rt, d.hdr = i, &c.routes[i], &c.routes[i].hdr
	}
	return d.run()
}

func (d *decider) run() Decision {
	rt, p := d.rt, d.p
	if rt != nil && rt.redirect == "" && isErrorStatus(rt.status) {
		return d.fail(rt.status, ReasonRouteStatus)
	}
	target, query := p, ""
	if rt != nil && rt.rewrite != "" {
		target, query = rt.rewrite, rt.rewriteQ
	}
	auth, api := isAuthPath(target), isAPIPath(target)
	if !auth && !api && !staticMethod(d.r.Method) {
		return Decision{Status: http.StatusMethodNotAllowed, Header: d.hdr.fail, Route: d.ri, Reason: ReasonMethod}
	}
	if rt != nil && rt.roles != nil && !isAuthPath(p) && !hasAnyRole(d.r.Roles, rt.roles) {
		if hasRole(d.r.Roles, "authenticated") {
			return d.fail(http.StatusForbidden, ReasonRoles)
		}
		return d.fail(http.StatusUnauthorized, ReasonRoles)
	}
	if rt != nil && rt.redirect != "" {
		return Decision{Status: redirectStatus(rt.status), Location: d.c.location(rt.redirect, d.r),
			Header: d.hdr.other, Route: d.ri, Reason: ReasonRedirect}
	}
	if auth {
		return Decision{Status: http.StatusOK, AuthPath: withQuery(target, query), Header: d.hdr.other, Route: d.ri, Reason: ReasonAuth}
	}
	if api {
		return Decision{Status: http.StatusOK, APIPath: withQuery(target, query), Header: d.hdr.api, Route: d.ri, Reason: ReasonAPI}
	}
	return d.serve(target, rt != nil && rt.rewrite != "")
}

// serve looks up target and falls back to navigationFallback or 404.
func (d *decider) serve(target string, rewritten bool) Decision {
	if !isConfigFile(target) {
		file, canon := d.c.resolve(target, rewritten, d.fs)
		if canon != "" {
			return Decision{Status: http.StatusMovedPermanently, Location: d.c.location(withQuery(canon, d.r.RawQuery), d.r),
				Header: d.hdr.other, Route: d.ri, Reason: ReasonTrailingSlash}
		}
		if file != "" {
			return d.ok(file, ReasonFile)
		}
	}
	fb := d.c.fallback
	if fb == nil || isConfigFile(target) || excluded(fb.exclude, target) {
		return d.fail(http.StatusNotFound, ReasonNotFound)
	}
	if isAPIPath(fb.rewrite) {
		return Decision{Status: http.StatusOK, APIPath: fb.rewrite, Header: d.hdr.api, Route: d.ri, Reason: ReasonAPI}
	}
	if !d.fs.Exists(fb.file) {
		return d.fail(http.StatusNotFound, ReasonNotFound)
	}
	return d.ok(fb.file, ReasonFallback)
}

// ok is a successful static response; a route's own statusCode (such as
// 200 or 418) replaces 200.
func (d *decider) ok(file, reason string) Decision {
	if d.r.Method == http.MethodOptions {
		return Decision{Status: http.StatusNoContent, Header: d.hdr.options, Route: d.ri, Reason: ReasonOptions}
	}
	status := http.StatusOK
	if d.rt != nil && d.rt.status != 0 && d.rt.redirect == "" {
		status = d.rt.status
	}
	return Decision{Status: status, File: file, Header: d.hdr.ok, ContentType: d.c.mimeFor(file), Route: d.ri, Reason: reason}
}

// fail answers an error status, applying responseOverrides.
func (d *decider) fail(status int, reason string) Decision {
	dec := Decision{Status: status, Header: d.hdr.fail, Route: d.ri, Reason: reason}
	o := d.c.overrides[overrideSlot(status)]
	if o == nil {
		return dec
	}
	if o.redirect != "" {
		dec.Status = redirectStatus(o.status)
		dec.Location = d.c.location(replaceReferrer(o.redirect, d.r), d.r)
		return dec
	}
	if o.status != 0 {
		dec.Status = o.status
	}
	switch {
	case o.rewrite == "":
	case isAuthPath(o.rewrite):
		dec.AuthPath = o.rewrite
	case isAPIPath(o.rewrite):
		dec.APIPath, dec.Header = o.rewrite, d.hdr.api
	default:
		if file, _ := d.c.resolve(o.rewrite, true, d.fs); file != "" {
			dec.File, dec.ContentType = file, d.c.mimeFor(file)
		}
	}
	if dec.Status >= 200 && dec.Status < 300 && dec.File != "" {
		dec.Header = d.hdr.ok
	}
	return dec
}

func isErrorStatus(s int) bool { return s == 400 || s == 401 || s == 403 || s == 404 }

func redirectStatus(s int) int {
	switch s {
	case 301, 307, 308:
		return s
	}
	return http.StatusFound
}

func staticMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func isAuthPath(p string) bool {
	return hasPrefixFold(p, "/.auth/") || len(p) == 6 && hasPrefixFold(p, "/.auth")
}

func isAPIPath(p string) bool { return hasPrefixFold(p, "/api/") }

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && (twoStr{s, ""}).foldEqualAt(0, prefix)
}

// isConfigFile reports a request for the config file, which is never served.
func isConfigFile(p string) bool {
	return strings.HasSuffix(p, "/"+FileName)
}

func withQuery(p, q string) string {
	if q == "" {
		return p
	}
	return p + "?" + q
}

func hasRole(roles []string, want string) bool {
	for _, r := range roles {
		if strings.EqualFold(r, want) {
			return true
		}
	}
	return false
}

func hasAnyRole(have, allowed []string) bool {
	for _, a := range allowed {
		if hasRole(have, a) {
			return true
		}
	}
	return false
}

// excluded reports whether the missing path p matches one of the
// fallback's exclude patterns. Unlike a route, an exclude pattern is never
// tried against p's default document ("/assets" -> "/assets/index.html"):
// the fallback is only asked for when that document is missing too, and
// the cloud's "/assets/*" does not match "/assets" (spec section 2), so
// the deep link "/assets" of an SPA excluding "/assets/*" is the app.
func excluded(pats []pattern, p string) bool {
	for i := range pats {
		if pats[i].match(p, "") {
			return true
		}
	}
	return false
}
