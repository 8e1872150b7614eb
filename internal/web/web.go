// Package web is Phoenix's dashboard: server-rendered HTML pages over the
// REST API. Every page and action is made of in-process calls to the API's
// http.Handler carrying the browser's session cookie, so what a user sees
// and may do, the audit trail and the errors are exactly the API's; the
// dashboard itself authorizes nothing. Pages work without JavaScript; the
// embedded stylesheet and script come from the same origin only.
package web

import (
	"log/slog"
	"net/http"
	"strings"
)

// Options configures the dashboard.
type Options struct {
	// API is the REST API's handler (api.API.Handler): the dashboard's
	// one source of data and the one place actions are decided.
	API    http.Handler
	Logger *slog.Logger
	// OIDCLabel, when set, offers "Sign in with <OIDCLabel>" (single
	// sign-on through the API's /api/v1/login/oidc).
	OIDCLabel string
}

// Dashboard serves the dashboard's pages, actions and assets.
type Dashboard struct {
	opts  Options
	pages *pages
	mux   *http.ServeMux
}

// New returns the dashboard over opts.API.
func New(opts Options) (*Dashboard, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	d := &Dashboard{opts: opts, pages: p, mux: http.NewServeMux()}
	d.routes()
	return d, nil
}

func (d *Dashboard) routes() {
	d.mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", staticHandler()))
	d.mux.HandleFunc("GET /{$}", d.page(d.overview))
	d.mux.HandleFunc("GET /ui/login", d.loginForm)
	d.mux.HandleFunc("POST /ui/login", d.login)
	d.mux.HandleFunc("GET /ui/login/oidc", d.oidcStart)
	d.mux.HandleFunc("GET /ui/login/oidc/callback", d.oidcCallback)
	d.mux.HandleFunc("POST /ui/logout", d.action(d.logout))
	d.mux.HandleFunc("GET /ui/envs/{project}/{env}", d.page(d.environment))
	d.mux.HandleFunc("POST /ui/envs/{project}/{env}/rollback", d.action(d.rollback))
	d.mux.HandleFunc("GET /ui/runs", d.page(d.runs))
	d.mux.HandleFunc("GET /ui/runs/{id}", d.page(d.run))
	d.mux.HandleFunc("POST /ui/runs/{id}/{decision}", d.action(d.decideRun))
	d.mux.HandleFunc("GET /ui/alerts", d.page(d.alerts))
	d.mux.HandleFunc("POST /ui/silences", d.action(d.silence))
	d.mux.HandleFunc("POST /ui/silences/{id}/expire", d.action(d.expireSilence))
	d.mux.HandleFunc("POST /ui/alerts/{id}/ack", d.action(d.ackAlert))
	d.mux.HandleFunc("POST /ui/alerts/{id}/unack", d.action(d.unackAlert))
	d.mux.HandleFunc("GET /ui/audit", d.page(d.auditLog))
	d.mux.HandleFunc("GET /ui/reports", d.page(d.reports))
	d.mux.HandleFunc("POST /ui/backups", d.action(d.backupNow))
	d.mux.HandleFunc("GET /ui/certificates", d.page(d.certificates))
	d.mux.HandleFunc("GET /ui/users", d.page(d.users))
	d.mux.HandleFunc("POST /ui/users", d.action(d.addUser))
	d.mux.HandleFunc("POST /ui/users/{name}/grants", d.action(d.setGrants))
	d.mux.HandleFunc("POST /ui/users/{name}/password", d.action(d.setPassword))
	d.mux.HandleFunc("POST /ui/users/{name}/disabled", d.action(d.setDisabled))
	d.mux.HandleFunc("GET /ui/tokens", d.page(d.tokens))
	d.mux.HandleFunc("POST /ui/tokens", d.createToken)
	d.mux.HandleFunc("POST /ui/tokens/{id}/revoke", d.action(d.revokeToken))
	d.mux.HandleFunc("GET /ui/vault", d.page(d.vault))
	d.mux.HandleFunc("/", d.notFound)
}

// apiPrefixes are served by the API itself, untouched.
var apiPrefixes = []string{"/api/", "/hooks/", "/status/"}

// Handler serves the API under /api/, /hooks/ and /status/ and the
// dashboard everywhere else, behind its security headers and Go's
// cross-origin protection of state-changing requests.
func (d *Dashboard) Handler() http.Handler {
	dash := securityHeaders(http.NewCrossOriginProtection().Handler(d.mux))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range apiPrefixes {
			if strings.HasPrefix(r.URL.Path, p) {
				d.opts.API.ServeHTTP(w, r)
				return
			}
		}
		dash.ServeHTTP(w, r)
	})
}

// securityHeaders sets what every dashboard answer carries: a content
// security policy without inline code, no framing, no sniffing, no
// referrer, and no caching of pages (assets set their own).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
