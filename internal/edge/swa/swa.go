// Package swa implements the routing semantics of Azure Static Web Apps'
// staticwebapp.config.json: routes, rewrites, redirects, roles, headers,
// navigation fallback, response overrides, MIME types, trailing slashes and
// networking rules, as the Azure cloud applies them (see docs/swa.md).
//
// The package is pure: it parses and validates a config, and given a request
// and a view of the release's files it returns a Decision. It does no I/O of
// its own (except Load/LoadDir, which read the config file); the edge turns a
// Decision into an HTTP response. Everything is compiled at Parse time, so
// Decide does no regexp work and allocates little or nothing.
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
	// Trusted marks the server's own probe: networking.allowedIpRanges
	// and forwardingGateway.requiredHeaders do not apply to it.
	Trusted bool
}

// FileSystem is the release as the rules see it.
type FileSystem interface {
	// Exists reports whether p (a normalized path starting with "/") names a
	// file in the release. Lookups are case-sensitive, as in the cloud.
	// Decide may call it several times per request; it must be safe for
	// concurrent use.
	Exists(p string) bool
}

// Decision is the outcome of applying the rules to one request.
//
// How the edge answers:
//   - AuthPath != "": the edge answers its own /.auth/* endpoint AuthPath
//     (login, logout, me, purge). Status is 200 and File is empty.
//   - APIPath != "": the request goes to the site's API backend at APIPath
//     (which may carry "?query" from a rewrite); with no API, answer 404.
//   - 3xx: redirect to Location, no body.
//   - File != "": send that release file with Status (HEAD: headers only).
//   - otherwise: no file; for Status >= 400 the edge sends its built-in
//     page for Status (the cloud shows the Azure error page); 204 has no body.
//
// Header is shared between requests and must be treated as read-only: copy
// it before changing it. A header with an empty value must be removed from
// the response (an SWA config removes a header by setting it to "").
type Decision struct {
	Status      int         // HTTP status to answer with
	File        string      // release path whose content is the body; "" for none
	Location    string      // redirect target, for 3xx
	Header      http.Header // headers to set; an empty value removes the header
	ContentType string      // from mimeTypes, when one matched

	AuthPath string // /.auth/* endpoint the edge answers itself; see above
	APIPath  string // path (and query) to forward to the API backend
	Route    int    // index into routes[] of the rule that applied, or -1
	Reason   string // short machine-readable cause, for logs (see reasons below)
}

// Reasons reported in Decision.Reason.
const (
	ReasonFile          = "file"           // an existing file (after rewrites)
	ReasonFallback      = "fallback"       // navigationFallback target
	ReasonRedirect      = "redirect"       // a route's redirect
	ReasonTrailingSlash = "trailing-slash" // canonical URL redirect (trailingSlash)
	ReasonNotFound      = "not-found"      // no file and no fallback
	ReasonRouteStatus   = "route-status"   // a route's statusCode 400/401/403/404
	ReasonRoles         = "roles"          // allowedRoles refused the user
	ReasonMethod        = "method"         // 405: static content takes GET/HEAD/OPTIONS
	ReasonNetwork       = "network"        // networking/forwardingGateway gate
	ReasonAuth          = "auth"           // forwarded to the /.auth endpoints
	ReasonAPI           = "api"            // forwarded to the API backend
	ReasonOptions       = "options"        // OPTIONS answered with Allow
)
