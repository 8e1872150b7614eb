package edge

import (
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Firewall inspects requests for an environment's policy (package
// edge/waf builds one from OWASP CRS rules and GeoIP lists). The edge
// calls Inspect after the IP allow-list and the rate limit, once per
// request, from many goroutines at once; it must be safe for concurrent
// use and must not keep r (the lean loop reuses it). A Firewall that is
// not Costly runs on the lean event loop and must not read a body (the
// loop has not read one); a Costly one runs on net/http's goroutines,
// where it may read the body if it puts back what it read. A block
// answers 403 "forbidden by firewall" without the rule; every match is
// counted in the environment's telemetry (phoenix_edge_waf_matches_total)
// and logged at a bounded rate.
type Firewall interface {
	// Inspect looks at one request from client. rule is "" when nothing matched;
	// otherwise a short stable id safe to log and to use as a metric label
	// (e.g. "crs-942100", "geo-KP", "scanner"), and block says whether to answer 403.
	Inspect(r *http.Request, client netip.Addr) (rule string, block bool)
}

// Costly is implemented by a Firewall whose Inspect takes too long to run
// on the lean event loop, which serves every connection from one thread
// (the OWASP CRS spends about a millisecond per request), or that reads
// request bodies. Costly returning true sends every request of the
// environment to net/http's goroutines, one per connection over all
// cores, where a slow inspection holds up only its own request.
type Costly interface{ Costly() bool }

// Policy is what a project asks of the edge for one environment (the
// `edge:` section of its phoenix.yaml). The zero value asks for nothing.
type Policy struct {
	// Headers change the site's responses, in order, after the site's
	// own headers and staticwebapp.config.json's (a CDN rules engine
	// rewrites what the origin sent, so these win) and after
	// Options.Headers.
	Headers []PolicyRule
	// RateLimit limits each client address (IPv6 per /64); nil: none.
	RateLimit *RateLimit
	// Firewall inspects every request that passed the allow-list and the
	// rate limit; nil: none.
	Firewall Firewall
}

// PolicyRule sets and removes response headers on matching requests.
type PolicyRule struct {
	Name   string            // shown in errors
	Scheme string            // "http", "https" (the request came over TLS) or "" for both
	Path   string            // glob over the request path; "" matches every path (see MatchPath)
	Set    map[string]string // header -> value; an empty value removes the header
	Remove []string          // headers removed (before Set)
}

// RateLimit is a token bucket per client address: Requests tokens are
// added every Per, and a client holds at most Requests+Burst, so a fresh
// client may send that many at once. Refused requests get 429 with
// Retry-After. Clients in Exempt are never limited.
type RateLimit struct {
	Requests int
	Per      time.Duration
	Burst    int
	Exempt   []netip.Prefix
}

// envPolicy is a Policy compiled for the request path.
type envPolicy struct {
	rules    []policyRule
	limit    RateLimit // as given, to keep the buckets when an unchanged limit is set again
	limiter  *ipLimiter
	exempt   []netip.Prefix
	firewall Firewall
	offLoop  bool // the firewall is Costly: the lean loop declines the environment's requests
}

type policyRule struct {
	scheme int8 // 0 any, 1 http, 2 https
	glob   glob
	remove []string
	keys   []string
	vals   [][]string // nil entry: delete
}

// maxPolicyRules bounds the header rules of one environment: which rules
// match a request is a bit set, part of the key of the cached header block.
const maxPolicyRules = 64

// edgeOwned are headers a rule may not touch: the edge frames and
// encodes the response itself, and cookies are the application's.
var edgeOwned = []string{"Content-Length", "Transfer-Encoding", "Connection", "Content-Encoding", "Content-Range", "Set-Cookie"}

// HeaderRuleMayChange reports whether a header rule may set or remove the
// header name (any case): not one of the edge's own (Content-Length,
// Transfer-Encoding, Connection, Content-Encoding, Content-Range) nor
// Set-Cookie. phoenix.yaml's validation asks it, so a refused name is
// reported with its line before the policy reaches the edge.
func HeaderRuleMayChange(name string) bool {
	return !slices.Contains(edgeOwned, http.CanonicalHeaderKey(name))
}

// compilePolicy checks p and prepares it; old (may be nil) lends its
// rate limiter when the limit is unchanged, so republishing does not
// refill every client's bucket.
func compilePolicy(p *Policy, old *envPolicy) (*envPolicy, error) {
	if len(p.Headers) > maxPolicyRules {
		return nil, fmt.Errorf("edge: %d header rules; at most %d", len(p.Headers), maxPolicyRules)
	}
	c := &envPolicy{firewall: p.Firewall}
	if cf, ok := p.Firewall.(Costly); ok && cf.Costly() {
		c.offLoop = true
	}
	for _, r := range p.Headers {
		pr, err := compilePolicyRule(r)
		if err != nil {
			return nil, err
		}
		c.rules = append(c.rules, pr)
	}
	if rl := p.RateLimit; rl != nil {
		if rl.Requests < 1 || rl.Per <= 0 || rl.Burst < 0 {
			return nil, fmt.Errorf("edge: rate limit %d per %s with burst %d: requests and per must be positive, burst not negative", rl.Requests, rl.Per, rl.Burst)
		}
		c.limit = *rl
		c.limit.Exempt = nil
		for _, e := range rl.Exempt {
			c.exempt = append(c.exempt, e.Masked())
		}
		if old != nil && old.limiter != nil && old.limit.Requests == rl.Requests && old.limit.Per == rl.Per && old.limit.Burst == rl.Burst {
			c.limiter = old.limiter
		} else {
			c.limiter = newIPLimiter(float64(rl.Requests)/rl.Per.Seconds(), rl.Requests+rl.Burst)
		}
	}
	return c, nil
}

func compilePolicyRule(r PolicyRule) (policyRule, error) {
	var pr policyRule
	switch r.Scheme {
	case "":
	case "http":
		pr.scheme = 1
	case "https":
		pr.scheme = 2
	default:
		return pr, fmt.Errorf("edge: header rule %q: scheme %q is neither http nor https", r.Name, r.Scheme)
	}
	if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
		return pr, fmt.Errorf("edge: header rule %q: path glob %q does not start with /", r.Name, r.Path)
	}
	pr.glob = compileGlob(r.Path)
	check := func(k string) (string, error) {
		ck := http.CanonicalHeaderKey(k)
		if k == "" || strings.ContainsAny(k, " :\r\n\t") || !HeaderRuleMayChange(ck) {
			return "", fmt.Errorf("edge: header rule %q: cannot change header %q (names are tokens; %s are the edge's own)",
				r.Name, k, strings.Join(edgeOwned, ", "))
		}
		return ck, nil
	}
	for _, k := range r.Remove {
		ck, err := check(k)
		if err != nil {
			return pr, err
		}
		pr.remove = append(pr.remove, ck)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Set)) {
		ck, err := check(k)
		if err != nil {
			return pr, err
		}
		v := r.Set[k]
		if strings.ContainsAny(v, "\r\n") {
			return pr, fmt.Errorf("edge: header rule %q: the value of %s is not one line", r.Name, ck)
		}
		pr.keys = append(pr.keys, ck)
		if v == "" {
			pr.vals = append(pr.vals, nil)
		} else {
			pr.vals = append(pr.vals, []string{v})
		}
	}
	return pr, nil
}

// Check reports whether p can be applied (what SetPolicy would refuse).
func (p *Policy) Check() error {
	_, err := compilePolicy(p, nil)
	return err
}

// ruleMatch is which of a policy's header rules apply to one request,
// and whether the Handler's HTTPS-only header rules do.
type ruleMatch struct {
	pol   *envPolicy // nil: no policy rule applies
	mask  uint64
	https bool // the request came over HTTPS and the Handler has HTTPS-only rules
}

// match works out which rules apply to a request for path p that came
// over HTTPS (to the edge, or to a trusted proxy in front of it) or not.
func (c *envPolicy) match(r *http.Request, p string, https bool) ruleMatch {
	scheme := int8(1)
	if https {
		scheme = 2
	}
	var m uint64
	for i := range c.rules {
		pr := &c.rules[i]
		if (pr.scheme == 0 || pr.scheme == scheme) && pr.glob.match(p) {
			m |= 1 << i
		}
	}
	if m == 0 {
		return ruleMatch{}
	}
	return ruleMatch{pol: c, mask: m}
}

// key is m as part of a cached header block's key; nil is the zero value.
func (m *ruleMatch) key() ruleMatch {
	if m == nil {
		return ruleMatch{}
	}
	return *m
}

// apply changes hd with the matching rules, in order; nil changes nothing.
func (m *ruleMatch) apply(hd http.Header) {
	if m == nil || m.pol == nil {
		return
	}
	for i := range m.pol.rules {
		if m.mask&(1<<i) == 0 {
			continue
		}
		pr := &m.pol.rules[i]
		for _, k := range pr.remove {
			delete(hd, k)
		}
		for j, k := range pr.keys {
			if pr.vals[j] == nil {
				delete(hd, k)
			} else {
				hd[k] = pr.vals[j]
			}
		}
	}
}

// exempted reports whether the rate limit leaves ip alone.
func (c *envPolicy) exempted(ip netip.Addr) bool {
	for _, p := range c.exempt {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// SetPolicy applies p to env, creating the environment when new (so a
// policy can be in place before its first release); nil clears it.
// Requests already running finish under the policy they started with;
// every later request sees p. An invalid p is refused and the current
// policy stays.
func (h *Hosts) SetPolicy(env string, p *Policy) error {
	empty := p == nil || (len(p.Headers) == 0 && p.RateLimit == nil && p.Firewall == nil)
	e := h.Env(env)
	if e == nil && empty {
		return nil
	}
	if empty {
		e.policy.Store(nil)
		return nil
	}
	var old *envPolicy
	if e != nil {
		old = e.policy.Load()
	}
	c, err := compilePolicy(p, old)
	if err != nil {
		return err
	}
	if e == nil {
		_ = h.update(func(t *hostTable) error { e = t.ensure(env); return nil })
	}
	e.policy.Store(c)
	return nil
}
