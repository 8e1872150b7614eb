package edge

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/edge/h1"
	"github.com/phoenixvc/phoenix/internal/edge/swa"
)

// Handler is the edge's http.Handler: it picks the environment by Host,
// resolves that environment's release once per request, applies the
// release's routing rules and serves the Decision.
//
// Reserved paths on every site host: /.auth/login/<provider>, /.auth/logout,
// /.auth/me. The reserved host Options.AdminHost answers /health and
// /metrics. Unknown hosts get 404 "unknown host".
type Handler struct {
	hosts    *Hosts
	opts     Options
	rules    []compiledRule
	tlsRules bool // some of rules are HTTPSOnly
	sessions sessionSigner
	limiter  *ipLimiter // nil: no rate limit
	wafLog   *matchLog  // firewall matches, at a bounded rate
	unknown  telemetry  // requests for hosts no environment claims
	started  time.Time
	servers  serverSet // the Servers serving it, for /metrics (conns.go)
}

// NewHandler returns a Handler serving hosts with opts.
func NewHandler(hosts *Hosts, opts Options) (*Handler, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	rules, err := compileRules(o.Headers)
	if err != nil {
		return nil, err
	}
	h := &Handler{hosts: hosts, opts: o, rules: rules, started: o.Now(), wafLog: newMatchLog()}
	for _, c := range rules {
		h.tlsRules = h.tlsRules || c.httpsOnly
	}
	h.sessions = sessionSigner{key: o.SessionKey, ttl: o.SessionTTL}
	if o.RateLimit > 0 {
		h.limiter = newIPLimiter(o.RateLimit, o.RateBurst)
	}
	return h, nil
}

// Hosts returns the table the handler serves.
func (h *Handler) Hosts() *Hosts { return h.hosts }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.serve(w, r, false) }

// ServeFast implements h1.Handler for the lean HTTP/1.1 loop: it answers
// like ServeHTTP, except that it declines (returns false, having written
// nothing and counted nothing) the requests that need the full net/http
// machinery: the admin host, and requests the rules send to /.auth/* or to
// the API backend. Server hands those to net/http, which calls ServeHTTP.
func (h *Handler) ServeFast(w http.ResponseWriter, r *http.Request) bool { return h.serve(w, r, true) }

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, fast bool) bool {
	start := received(w)
	host := normalizeHost(r.Host)
	if h.opts.AdminHost != "-" && host == h.opts.AdminHost {
		if fast {
			return false
		}
		w, sw := h.accessWriter(w, fast)
		h.serveAdmin(w, r)
		if sw != nil {
			h.logAccess(w, r, sw, "", sw.status, start, time.Since(start), peer{}, fast)
		}
		return true
	}
	w, sw := h.accessWriter(w, fast) // off the lean loop with an access log: counts the body bytes
	env := h.hosts.lookup(host)
	if env == nil {
		status := plain(w, http.StatusNotFound, "unknown host")
		d := time.Since(start)
		h.unknown.observe(status, 0, d)
		h.logAccess(w, r, sw, "", status, start, d, peer{}, fast)
		return true
	}
	rel := env.cur.Load() // the one release this request sees
	if rel != nil {
		rel.fds.use()
		defer rel.fds.done()
	}
	status, n, who, ok := h.serveEnv(w, r, env, rel, fast)
	if ok {
		d := time.Since(start)
		if who.probe {
			env.tel.probes.Add(1) // the visitors' figures (SLOs, verification's real traffic) leave it out
		} else {
			env.tel.observe(status, n, d)
		}
		if h.opts.AccessLog != nil { // the common case pays no call
			h.logAccess(w, r, sw, env.name, status, start, d, who, fast)
		}
	}
	return ok
}

// peer is who sent a request: the client as the allow-list sees it, and
// whether the TCP peer was a trusted proxy (whose X-Forwarded-Proto may
// be believed).
type peer struct {
	ip       netip.Addr
	viaProxy bool
	probe    bool // the server's own probe (probe.go): counted apart from visitors
}

// serveEnv answers one request for env from rel; it returns the status,
// the body bytes sent and the client (once known: the access log's). With fast set it declines (ok=false) before any
// side effect when the rules send the request to /.auth/* or the API, or
// when the environment's firewall is Costly.
func (h *Handler) serveEnv(w http.ResponseWriter, r *http.Request, env *Env, rel *release, fast bool) (status int, n int64, who peer, ok bool) {
	if rel == nil { // declared, nothing deployed yet: the allow-list still hides that
		ip, _ := h.client(w, r, fast)
		if status, refused := refuseOutsider(w, env, ip, h.probeOf(r)); refused {
			return status, 0, who, true
		}
		return plain(w, http.StatusServiceUnavailable, "no release is served for this environment yet"), 0, who, true
	}
	pol := env.policy.Load() // the project's edge policy (policy.go)
	if fast && pol != nil && pol.offLoop {
		return 0, 0, who, false // a costly firewall inspects on net/http's goroutines
	}
	ip, viaProxy := h.client(w, r, fast)
	probe := h.probeOf(r) // probe.go
	who = peer{ip: ip, viaProxy: viaProxy, probe: probe}
	// The path, the user and the Decision are pure functions of the
	// request and the release: work them out first, so the fast loop can
	// decline before the allow-list, the rate limiter or telemetry count it.
	p, perr := CleanPath(r.URL.Path)
	var d swa.Decision
	var user *Principal
	if perr == nil {
		user = h.principal(r, env)
		req := swaRequests.Get().(*swa.Request) // Decide makes it escape: reuse instead of allocating
		*req = swa.Request{
			Method: r.Method, Path: p, RawQuery: r.URL.RawQuery, Header: r.Header,
			Roles: rolesOf(user), ClientIP: ip, Trusted: probe,
		}
		d = rel.site.Config().Decide(req, rel)
		*req = swa.Request{}
		swaRequests.Put(req)
		if fast && (d.AuthPath != "" || d.APIPath != "") {
			return 0, 0, who, false
		}
	}
	if status, refused := refuseOutsider(w, env, ip, probe); refused {
		return status, 0, who, true
	}
	if h.limiter != nil && !probe {
		if ok, wait := h.limiter.allow(ip, h.opts.Now()); !ok {
			return h.tooMany(w, env, wait), 0, who, true
		}
	}
	// The project's edge policy (policy.go): its rate limit, its firewall,
	// and which of its header rules apply (nil: none).
	var rm *ruleMatch
	if pol != nil {
		if pol.limiter != nil && !probe && !pol.exempted(ip) {
			if ok, wait := pol.limiter.allow(ip, h.opts.Now()); !ok {
				return h.tooMany(w, env, wait), 0, who, true
			}
		}
		if pol.firewall != nil {
			if status, blocked := h.inspect(w, r, env, pol.firewall, ip); blocked {
				return status, 0, who, true
			}
		}
		if perr == nil && len(pol.rules) > 0 {
			if m := pol.match(r, p, cameOverHTTPS(r, viaProxy)); m.pol != nil {
				rm = &m
			}
		}
	}
	if h.tlsRules && perr == nil && cameOverHTTPS(r, viaProxy) {
		if rm == nil {
			rm = &ruleMatch{}
		}
		rm.https = true // Options.Headers' HTTPS-only rules apply
	}
	if r.ContentLength > h.opts.MaxBodyBytes {
		return plain(w, http.StatusRequestEntityTooLarge, "request body too large"), 0, who, true
	}
	if perr != nil {
		return plain(w, http.StatusBadRequest, "bad request path: "+perr.Error()), 0, who, true
	}
	switch {
	case d.AuthPath != "":
		authPath, _, _ := strings.Cut(d.AuthPath, "?")
		h.applyRules(w.Header(), p, rm) // the server's security headers (nosniff, HSTS…) as on every answer
		applyDecisionHeaders(w.Header(), d.Header)
		rm.apply(w.Header())
		return h.serveAuth(w, r, env, authPath), 0, who, true
	case d.APIPath != "":
		status, n = h.serveAPI(w, r, rel, user, p, &d, rm)
		return status, n, who, true
	}
	status, n = h.serveDecision(w, r, rel, p, &d, rm)
	return status, n, who, true
}

// refuseOutsider answers 403 to a client outside env's allow-list (the
// server's own probes pass) and counts it.
func refuseOutsider(w http.ResponseWriter, env *Env, ip netip.Addr, probe bool) (int, bool) {
	if probe || env.allowed(ip) {
		return 0, false
	}
	env.tel.denied.Add(1)
	return plain(w, http.StatusForbidden, "forbidden"), true
}

// tooMany answers 429 with Retry-After for a rate-limited request.
func (h *Handler) tooMany(w http.ResponseWriter, env *Env, wait time.Duration) int {
	env.tel.limited.Add(1)
	w.Header()["Retry-After"] = []string{strconv.Itoa(int(wait.Seconds()))}
	return plain(w, http.StatusTooManyRequests, "too many requests")
}

// received is when the request was read: from the lean loop, which reads
// the clock once per batch of requests, else now.
func received(w http.ResponseWriter) time.Time {
	if t, ok := w.(h1.Timer); ok {
		return t.Received()
	}
	return time.Now()
}

var swaRequests = sync.Pool{New: func() any { return new(swa.Request) }}

// client is the request's client: the TCP peer, or behind
// Options.TrustedProxies the address they forwarded (RealIP), and whether
// the TCP peer was a trusted proxy, whose X-Forwarded-Proto may then be
// believed (forwardedHTTPS). Off the lean loop, where the request is the
// handler's own, a forwarded client also becomes r.RemoteAddr, so the
// sign-in limiter and the API backend see it. On the lean loop the TCP
// peer comes parsed from the connection (h1.HeadFacts).
func (h *Handler) client(w http.ResponseWriter, r *http.Request, fast bool) (netip.Addr, bool) {
	if fast {
		if hf, ok := w.(h1.HeadFacts); ok {
			return clientFrom(r, hf.Peer(), h.opts.TrustedProxies)
		}
		return clientOf(r, h.opts.TrustedProxies)
	}
	return useRealIP(r, h.opts.TrustedProxies)
}

// serveDecision turns the rules' Decision into a response; rm are the
// project's header rules that apply, last (nil: none; a pointer keeps
// the arguments in registers on the request path).
func (h *Handler) serveDecision(w http.ResponseWriter, r *http.Request, rel *release, p string, d *swa.Decision, rm *ruleMatch) (int, int64) {
	status := d.Status
	if status == 0 {
		status = http.StatusOK
	}
	if status >= 300 && status < 400 && d.Location != "" {
		h.applyRules(w.Header(), p, rm)
		applyDecisionHeaders(w.Header(), d.Header)
		rm.apply(w.Header())
		return redirect(w, d.Location, status), 0
	}
	if d.File != "" {
		f := rel.site.Lookup(d.File)
		if f == nil {
			h.opts.Logger.Warn("edge: rules chose a missing file", "release", rel.site.ID(), "file", d.File)
			return h.serveError(w, r, rel, p, http.StatusNotFound, d, rm)
		}
		if status >= 200 && status < 300 && !bodyMethod(r.Method) {
			return h.notAllowed(w, r, p, rm)
		}
		return h.serveFile(w, r, rel, f, status, d, rm)
	}
	if status == http.StatusNoContent || status == http.StatusNotModified {
		applyDecisionHeaders(w.Header(), d.Header) // OPTIONS: Allow
		replacePlatformDefault(w.Header(), noStore)
		rm.apply(w.Header())
		w.WriteHeader(status)
		return status, 0
	}
	return h.serveError(w, r, rel, p, status, d, rm)
}

func bodyMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// notAllowed answers a method other than GET/HEAD aimed at a static file:
// OPTIONS gets 204 with Allow, everything else 405.
func (h *Handler) notAllowed(w http.ResponseWriter, r *http.Request, p string, rm *ruleMatch) (int, int64) {
	h.applyRules(w.Header(), p, rm)
	rm.apply(w.Header())
	w.Header()["Allow"] = allowStatic
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent, 0
	}
	return plain(w, http.StatusMethodNotAllowed, "method not allowed"), 0
}

var allowStatic = []string{"GET, HEAD, OPTIONS"}

// serveError answers an error status for path p without a page chosen by
// the rules: Options.NotFoundPage for 404 when the release has it, else
// plain text; the header rules apply as to a file.
func (h *Handler) serveError(w http.ResponseWriter, r *http.Request, rel *release, p string, status int, d *swa.Decision, rm *ruleMatch) (int, int64) {
	if status == http.StatusNotFound && h.opts.NotFoundPage != "" {
		if f := rel.site.Lookup(h.opts.NotFoundPage); f != nil {
			return h.serveFile(w, r, rel, f, status, &swa.Decision{Header: d.Header}, rm)
		}
	}
	h.applyRules(w.Header(), p, rm)
	applyDecisionHeaders(w.Header(), d.Header)
	rm.apply(w.Header())
	return plain(w, status, http.StatusText(status)), 0
}

// applyRules sets the configured header rules matching p; the
// HTTPS-only ones when rm says the request came over HTTPS.
func (h *Handler) applyRules(hd http.Header, p string, rm *ruleMatch) {
	for i := range h.rules {
		c := &h.rules[i]
		if !strings.HasPrefix(p, c.prefix) || (c.httpsOnly && (rm == nil || !rm.https)) {
			continue
		}
		for j, k := range c.keys {
			if c.vals[j] == nil {
				delete(hd, k)
			} else {
				hd[k] = c.vals[j]
			}
		}
	}
}

// applyDecisionHeaders sets the rules' headers; an empty value removes one.
func applyDecisionHeaders(hd, set http.Header) {
	for k, v := range set {
		if len(v) == 0 || v[0] == "" {
			delete(hd, http.CanonicalHeaderKey(k))
			continue
		}
		hd[http.CanonicalHeaderKey(k)] = v
	}
}

// plain writes a short text/plain answer and returns status.
func plain(w http.ResponseWriter, status int, msg string) int {
	hd := w.Header()
	hd["Content-Type"] = textPlain
	hd["X-Content-Type-Options"] = nosniff
	hd["Cache-Control"] = noStore
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
	return status
}

// redirect answers status with a Location header.
func redirect(w http.ResponseWriter, location string, status int) int {
	w.Header()["Location"] = []string{location}
	w.WriteHeader(status)
	return status
}

var (
	textPlain = []string{"text/plain; charset=utf-8"}
	nosniff   = []string{"nosniff"}
	noStore   = []string{"no-store"}
)
