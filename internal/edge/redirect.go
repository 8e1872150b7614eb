package edge

import (
	"net"
	"net/http"
	"strings"
	"time"
)

// HTTPSRedirect fronts a Handler on the plain-HTTP listener of an edge that
// also serves HTTPS on another listener: it answers ACME HTTP-01
// challenges, sends requests for hosts the HTTPS listener has a
// certificate for to https:// (308, method and body kept), and serves
// every other host (the *.localhost defaults, the admin host) as before.
// The lean HTTP/1.1 loop serves what the Handler serves; challenges and
// redirects go to net/http.
type HTTPSRedirect struct {
	Handler *Handler
	// Challenge answers an ACME HTTP-01 request and reports whether it
	// did; nil answers none.
	Challenge func(w http.ResponseWriter, r *http.Request) bool
	// Secure reports whether host (lower-case, no port) is served over
	// HTTPS. It runs on every request: keep it to memory lookups.
	Secure func(host string) bool
	// HTTPSPort is the port in the redirect's Location; "" or "443" is
	// left out.
	HTTPSPort string
}

// acmeChallengePath is where ACME HTTP-01 challenges are fetched.
const acmeChallengePath = "/.well-known/acme-challenge/"

// ServeHTTP implements http.Handler.
func (h *HTTPSRedirect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var start time.Time
	if h.Handler.opts.AccessLog != nil {
		start = time.Now()
	}
	rw, sw := h.Handler.accessWriter(w, false) // the access log's view of challenges and redirects
	if h.Challenge != nil && strings.HasPrefix(r.URL.Path, acmeChallengePath) && h.Challenge(rw, r) {
		h.logAccess(rw, r, sw, start)
		return
	}
	host := normalizeHost(r.Host)
	if host != "" && h.Secure != nil && h.Secure(host) && !h.forwardedHTTPS(r) {
		h.redirect(rw, r, host)
		h.logAccess(rw, r, sw, start)
		return
	}
	h.Handler.ServeHTTP(w, r)
}

// ServeFast implements h1.Handler: challenges and redirects are declined
// (net/http answers them), everything else is the Handler's fast path.
func (h *HTTPSRedirect) ServeFast(w http.ResponseWriter, r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, acmeChallengePath) {
		return false
	}
	if h.Secure != nil && h.Secure(normalizeHost(r.Host)) {
		return false
	}
	return h.Handler.ServeFast(w, r)
}

func (h *HTTPSRedirect) redirect(w http.ResponseWriter, r *http.Request, host string) {
	if h.HTTPSPort != "" && h.HTTPSPort != "443" {
		host = net.JoinHostPort(host, h.HTTPSPort)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	target := "https://" + host + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusPermanentRedirect)
}

// logAccess logs an answer the front gave itself (for no environment).
func (h *HTTPSRedirect) logAccess(w http.ResponseWriter, r *http.Request, sw *statusWriter, start time.Time) {
	if sw != nil {
		h.Handler.logAccess(w, r, sw, "", sw.status, start, time.Since(start), peer{}, false)
	}
}

// forwardedHTTPS reports whether r came over HTTPS to a trusted proxy in
// front (a load balancer ending TLS): it is not sent to HTTPS again,
// which would loop.
func (h *HTTPSRedirect) forwardedHTTPS(r *http.Request) bool {
	_, viaProxy := clientOf(r, h.Handler.opts.TrustedProxies)
	return forwardedHTTPS(r, viaProxy)
}
