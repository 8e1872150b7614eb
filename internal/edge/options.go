package edge

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Options configure a Handler. The zero value is usable: no auth providers,
// no rate limit, no extra headers, a random session key.
type Options struct {
	// SessionKey signs session cookies with HMAC-SHA256; at least 32 bytes.
	// Empty: a random key per Handler (sessions end with the process).
	SessionKey []byte
	// SessionTTL is how long a login lasts; default 8h.
	SessionTTL time.Duration
	// Authenticator handles /.auth/login/<provider>; nil answers 404 there.
	Authenticator Authenticator
	// Users, when set, is asked on every request with a session cookie
	// for the user's roles now (see Users): a disabled user is anonymous
	// and a revoked role gone from their next request. nil: the roles are
	// the ones the Authenticator gave at sign-in, for the cookie's life.
	// Principals from TrustedPrincipalHeader are never checked with it.
	Users Users
	// TrustedPrincipalHeader, when set (e.g. "X-MS-Client-Principal"),
	// takes the user from that request header (base64 JSON with userRoles,
	// as SWA sends to APIs). Only enable it behind a proxy that sets the
	// header itself and strips it from clients. Off by default.
	TrustedPrincipalHeader string
	// TrustedProxies are the load balancers and proxies in front of the
	// edge: from a peer in them the client is read from X-Forwarded-For
	// (RealIP), for allow-lists, rate limits, the firewall and sign-in
	// limits. Empty: the TCP peer is the client and the header is ignored.
	TrustedProxies []netip.Prefix
	// MetricsAllow are the clients besides loopback that may read the admin
	// host's /metrics (firewall rule names and counts, environments,
	// listener addresses: not for the public), and /health in full. It is
	// the TCP peer that counts, never X-Forwarded-For. /health answers
	// everyone else too, with {"status":"ok"} only: load balancers probe it.
	MetricsAllow []netip.Prefix
	// ProbeToken, when set, marks the server's own probes (health checks,
	// the monitor, post-deploy verification): a request whose ProbeHeader
	// equals it passes the gates on who may reach a site (ip_allow, rate
	// limits, networking.allowedIpRanges, forwardingGateway's required
	// headers), so restricting an environment never fails its own health
	// checks. A random secret of the process; never logged.
	ProbeToken string
	// RateLimit is the sustained requests per second allowed per client IP
	// (IPv6 per /64); 0 disables limiting. RateBurst defaults to 2x RateLimit.
	RateLimit float64
	RateBurst int
	// MaxBodyBytes bounds request bodies the edge reads (login forms) and
	// rejects larger declared bodies with 413; default 1 MiB.
	MaxBodyBytes int64
	// Headers are added to every site response before the file's own headers
	// and the routing rules' headers (which win). See SecurityHeaders.
	Headers []HeaderRule
	// NotFoundPage, when set (e.g. "/404.html"), is served with status 404
	// when the rules answer 404 without a page of their own and the release
	// has that file (what nginx's error_page and the SWA CLI do).
	NotFoundPage string
	// API, when set, answers the requests the rules send to /api/* (with
	// the rewritten path and the user in X-MS-Client-Principal); nil: 404.
	API http.Handler
	// AdminHost is the reserved host name that answers /health and /metrics
	// instead of a site; default "edge.phoenix.localhost". "-" disables it.
	AdminHost string
	// AccessLog, when set, receives one record per answered request
	// (accesslog.go); its owner closes it after the servers stopped.
	AccessLog *AccessLog
	// Logger receives operational errors (never secrets); default slog.Default.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// DefaultAdminHost is where /health and /metrics answer unless
// Options.AdminHost says otherwise.
const DefaultAdminHost = "edge.phoenix.localhost"

// HeaderRule sets headers on responses whose path starts with PathPrefix
// ("" or "/" for all). An empty value removes the header.
type HeaderRule struct {
	PathPrefix string
	Header     map[string]string
	// HTTPSOnly applies the rule only to requests that came over HTTPS (to
	// the edge, or to a trusted proxy saying so in X-Forwarded-Proto):
	// Strict-Transport-Security, which RFC 6797 forbids over plain HTTP.
	HTTPSOnly bool
}

// HSTS is the Strict-Transport-Security header the edge sends on every
// site (only meaningful over HTTPS); a zero MaxAge sends none.
type HSTS struct {
	MaxAge time.Duration
	// IncludeSubdomains adds includeSubDomains: browsers then refuse plain
	// HTTP on every subdomain of the site's domain too, which an apex
	// domain's other hosts may not be ready for. Off unless asked for.
	IncludeSubdomains bool
}

// SecurityHeaders returns header rules a production site usually wants:
// nosniff, a strict Referrer-Policy, and the hsts header over HTTPS only
// (the seed's rule: RequestScheme HTTPS).
func SecurityHeaders(hsts HSTS) []HeaderRule {
	rules := []HeaderRule{{PathPrefix: "/", Header: map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "strict-origin-when-cross-origin",
	}}}
	if hsts.MaxAge > 0 {
		v := fmt.Sprintf("max-age=%d", int64(hsts.MaxAge.Seconds()))
		if hsts.IncludeSubdomains {
			v += "; includeSubDomains"
		}
		rules = append(rules, HeaderRule{PathPrefix: "/", Header: map[string]string{"Strict-Transport-Security": v}, HTTPSOnly: true})
	}
	return rules
}

// compiledRule is a HeaderRule with canonical keys and shared value slices.
type compiledRule struct {
	prefix    string
	httpsOnly bool
	keys      []string
	vals      [][]string // nil entry: delete
}

func compileRules(rules []HeaderRule) ([]compiledRule, error) {
	out := make([]compiledRule, 0, len(rules))
	for i, r := range rules {
		c := compiledRule{prefix: r.PathPrefix, httpsOnly: r.HTTPSOnly}
		for k, v := range r.Header {
			if k == "" || strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(v, "\r\n") {
				return nil, fmt.Errorf("edge: header rule %d: invalid header %q (names are tokens, values one line)", i, k)
			}
			c.keys = append(c.keys, http.CanonicalHeaderKey(k))
			if v == "" {
				c.vals = append(c.vals, nil)
			} else {
				c.vals = append(c.vals, []string{v})
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func (o *Options) withDefaults() (Options, error) {
	c := *o
	if len(c.SessionKey) == 0 {
		c.SessionKey = make([]byte, 32)
		if _, err := rand.Read(c.SessionKey); err != nil {
			return c, fmt.Errorf("edge: session key: %w", err)
		}
	}
	if len(c.SessionKey) < 32 {
		return c, fmt.Errorf("edge: Options.SessionKey has %d bytes; use at least 32 random bytes", len(c.SessionKey))
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = 8 * time.Hour
	}
	if c.RateLimit < 0 {
		return c, fmt.Errorf("edge: Options.RateLimit %v is negative; use 0 to disable", c.RateLimit)
	}
	if c.RateBurst <= 0 {
		c.RateBurst = max(1, int(2*c.RateLimit))
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.AdminHost == "" {
		c.AdminHost = DefaultAdminHost
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.NotFoundPage != "" && !strings.HasPrefix(c.NotFoundPage, "/") {
		return c, fmt.Errorf("edge: Options.NotFoundPage %q must start with /", c.NotFoundPage)
	}
	return c, nil
}
