package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// SessionCookie holds a dashboard session. The __Host- prefix makes
// browsers insist on Secure, Path=/ and no Domain.
const SessionCookie = "__Host-phoenix_session"

// CSRFHeader must carry the session's CSRF token on every request that
// changes state and authenticates with the session cookie.
const CSRFHeader = "X-CSRF-Token"

type principalKey struct{}

// PrincipalFrom returns the authenticated caller, or nil.
func PrincipalFrom(ctx context.Context) *auth.Principal {
	p, _ := ctx.Value(principalKey{}).(*auth.Principal)
	return p
}

func clientAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// guard wraps a route's handler with authentication, authorization, the
// check of the query string and the audit of denials and failures.
// Credentials come only from the Authorization header or the session
// cookie, never from the URL. The query is checked after authorization,
// so that a caller without credentials learns nothing of a route, and a
// refused one is recorded like any other failed change.
func (a *API) guard(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		meta := audit.Meta{Source: clientAddr(r), RequestID: RequestIDFrom(r.Context())}
		r = r.WithContext(audit.WithMeta(r.Context(), meta))
		if rt.Public {
			serve(rt, w, r)
			return
		}
		pr, err := a.authenticate(r)
		if err != nil {
			a.deny(w, r, rt, err)
			return
		}
		meta.Actor, meta.Auth = pr.User, pr.Via
		ctx := audit.WithMeta(context.WithValue(r.Context(), principalKey{}, pr), meta)
		r = r.WithContext(ctx)
		if err := a.authorize(r, rt, pr); err != nil {
			a.deny(w, r, rt, err)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		serve(rt, sw, r)
		if rt.Action != "" && sw.status >= 400 {
			a.recordFailure(r, rt, sw.status, sw.message)
		}
	})
}

// serve runs rt's handler on r once r's query string is one rt accepts.
func serve(rt Route, w http.ResponseWriter, r *http.Request) {
	if err := checkQuery(rt, r.URL.RawQuery); err != nil {
		WriteError(w, r, err)
		return
	}
	rt.Handler(w, r)
}

func (a *API) authenticate(r *http.Request) (*auth.Principal, error) {
	if a.opts.Auth == nil {
		return nil, auth.ErrUnauthorized()
	}
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, auth.ErrUnauthorized()
		}
		return a.opts.Auth.Authenticate(r.Context(), strings.TrimSpace(tok))
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil, auth.ErrUnauthorized()
	}
	pr, err := a.opts.Auth.SessionPrincipal(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	if unsafeMethod(r.Method) && !auth.CheckCSRF(c.Value, r.Header.Get(CSRFHeader)) {
		return nil, usererr.New(usererr.Forbidden, "missing or invalid CSRF token").
			WithHint("send the csrf_token from the login answer in the %s header", CSRFHeader)
	}
	return pr, nil
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

func (a *API) authorize(r *http.Request, rt Route, pr *auth.Principal) error {
	if rt.Perm == "" {
		return nil
	}
	res, err := a.resourceOf(r, rt)
	if err != nil {
		return err
	}
	return auth.Require(pr, rt.Perm, res)
}

func (a *API) resourceOf(r *http.Request, rt Route) (auth.Resource, error) {
	if rt.Resource != nil {
		return rt.Resource(r)
	}
	if !rt.Perm.Scoped() {
		return auth.Resource{}, nil
	}
	return auth.Resource{Project: r.PathValue("project"), Environment: r.PathValue("env")}, nil
}

// require is the check a handler makes when the resource is in the body.
// It writes the denial and returns false when pr may not.
func (a *API) require(w http.ResponseWriter, r *http.Request, p auth.Permission, res auth.Resource) bool {
	if err := auth.Require(PrincipalFrom(r.Context()), p, res); err != nil {
		a.deny(w, r, routeOf(r), err)
		return false
	}
	return true
}

// routeOf is the route serving r, as far as a denial a handler writes
// names it: r.Pattern is already "METHOD PATH".
func routeOf(r *http.Request) Route {
	if m, p, ok := strings.Cut(r.Pattern, " "); ok {
		return Route{Method: m, Path: p}
	}
	return Route{Method: r.Method, Path: r.Pattern}
}

// hiddenError is a refusal answered as if the resource were not there, so
// that the answer does not confirm it exists to someone who may not see it
// (a run acting on an environment they may not read: 404; a release's
// folder of another project: the answer of a folder that does not exist).
// The audit log records denied; the caller gets shown, the very answer a
// missing one gets.
type hiddenError struct{ denied, shown error }

func (e *hiddenError) Error() string { return e.shown.Error() }
func (e *hiddenError) Unwrap() error { return e.shown }

// deny answers 401 or 403 (a hiddenError its shown answer) and records
// the denial. When the record cannot be written the answer is a 500:
// nothing is denied unaudited.
func (a *API) deny(w http.ResponseWriter, r *http.Request, rt Route, err error) {
	answer := err
	if h, ok := errors.AsType[*hiddenError](err); ok {
		err, answer = h.denied, h.shown
	}
	kind := usererr.KindOf(err)
	if kind != usererr.Unauthorized && kind != usererr.Forbidden {
		WriteError(w, r, answer) // the credential check itself failed (store down)
		return
	}
	if a.opts.Audit != nil {
		_, aerr := a.opts.Audit.Append(r.Context(), audit.Event{Action: "access.denied", Target: rt.Pattern(),
			Outcome: audit.Denied, Detail: err.Error()})
		if aerr != nil {
			WriteError(w, r, fmt.Errorf("api: audit a denial: %w", aerr))
			return
		}
	}
	if kind == usererr.Unauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="phoenix"`)
	}
	WriteError(w, r, answer)
}

// recordFailure notes a change that was attempted and failed, with the
// error it was answered (what the caller was told: "HTTP 404: no
// environment \"prod\" in project \"shop\": nothing silenced"), so the
// record says what went wrong. The change did not happen, so a failure to
// record it is only logged.
func (a *API) recordFailure(r *http.Request, rt Route, status int, message string) {
	if a.opts.Audit == nil {
		return
	}
	// A secret's name from the path is recorded as the vault's own
	// records name it (a value pasted as a name, by a fingerprint), in
	// the target and wherever the message repeats it.
	shown := vault.AuditedName
	if name, ok := secretOfPath(r.URL.Path); ok && name != "" && a.opts.Vault != nil {
		s := a.opts.Vault.RecordedName(r.Context(), name)
		shown = func(string) string { return s }
		if s != name && len(name) >= minPastedLen {
			message = strings.ReplaceAll(message, name, s)
		}
	}
	target := redactSecretPath(strings.TrimPrefix(r.URL.Path, "/api/v1/"), shown)
	detail := fmt.Sprintf("HTTP %d", status)
	if message != "" {
		detail += ": " + tokenLike.ReplaceAllStringFunc(message, func(t string) string { return t[:20] + "…" })
	}
	_, err := a.opts.Audit.Append(r.Context(), audit.Event{Action: rt.Action, Target: target, Outcome: audit.Failed,
		Detail: detail})
	if err != nil {
		loggerFrom(r.Context()).Error("audit: cannot record a failed change", "action", rt.Action, "err", err)
	}
}

// minPastedLen is the length from which a secret's name from the path
// that the vault would not record as given is also taken out of the
// message of a refused change (the vault's messages do not repeat such a
// name; a shorter one is no value worth hiding, and replacing it would
// garble the message).
const minPastedLen = 12

// tokenLike is a token's secret in a message, hidden as redactPath hides
// one in a path.
var tokenLike = regexp.MustCompile(`phx_[0-9A-Za-z]{17,}`)

// redactPath hides any path segment shaped like a token, in case one is
// pasted where an id belongs, and a secret's name not in the usual style
// (vault.AuditedName: it may be a value pasted where the name belongs);
// paths go to logs and the audit log.
func redactPath(p string) string { return redactSecretPath(p, vault.AuditedName) }

// redactSecretPath is redactPath naming a secret of the path as shown
// says.
func redactSecretPath(p string, shown func(string) string) string {
	if name, ok := secretOfPath(p); ok && name != "" {
		i := strings.Index(p, "secrets/") + len("secrets/")
		p = p[:i] + shown(name) + p[i+len(name):]
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "phx_") && len(s) > 20 {
			segs[i] = s[:20] + "…"
		}
	}
	return strings.Join(segs, "/")
}

// secretSuffix ends a path under /api/v1/secrets/{name}.
var secretSuffix = regexp.MustCompile(`/(versions(/[^/]*)?|value|tags|rotation|rotate|recover)$`)

// secretOfPath returns the secret's name in p, a path under
// /api/v1/secrets/ (with or without /api/v1/), as the router reads it:
// whatever comes between secrets/ and a known suffix, slashes included.
func secretOfPath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(p, "/api/v1/"), "secrets/")
	if !ok {
		return "", false
	}
	return secretSuffix.ReplaceAllString(rest, ""), true
}
