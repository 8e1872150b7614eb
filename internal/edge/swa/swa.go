// Package swa implements the routing semantics of Azure Static Web Apps'
// staticwebapp.config.json: routes, rewrites, redirects, roles, headers,
// navigation fallback, response overrides, MIME types and networking rules.
//
// The package is pure: it parses and validates a config, and given a request
// and a view of the release's files it returns a Decision. It does no I/O of
// its own; the edge turns a Decision into an HTTP response.
package swa

import (
	"net/http"
	"net/netip"
)

// Request is what the rules see of an HTTP request.
type Request struct {
	Method   string
	Path     string // decoded and normalized by the edge; starts with "/"
	RawQuery string
	Header   http.Header
	Roles    []string // always includes "anonymous"; "authenticated" once signed in
	ClientIP netip.Addr
}

// FileSystem is the release as the rules see it.
type FileSystem interface {
	// Exists reports whether p (a normalized path starting with "/") names a
	// file in the release.
	Exists(p string) bool
}

// Decision is the outcome of applying the rules to one request.
type Decision struct {
	Status      int         // HTTP status to answer with
	File        string      // release path whose content is the body; "" for none
	Location    string      // redirect target, for 3xx
	Header      http.Header // headers to set; an empty value removes the header
	ContentType string      // from mimeTypes, when one matched
}

// Config is a parsed, validated staticwebapp.config.json.
type Config struct{}

// Decide applies the rules to r. This placeholder serves existing files and
// answers 404 otherwise; the full semantics replace it.
func (c *Config) Decide(r *Request, fs FileSystem) Decision {
	p := r.Path
	if len(p) > 0 && p[len(p)-1] == '/' {
		p += "index.html"
	}
	if fs.Exists(p) {
		return Decision{Status: http.StatusOK, File: p}
	}
	return Decision{Status: http.StatusNotFound}
}
