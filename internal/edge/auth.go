package edge

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/phoenixvc/phoenix/internal/edge/swa"
)

// Authenticator signs users in at /.auth/login/<provider>. The users/auth
// module implements it (OIDC, invitations); DevLogin is a stand-in.
//
// The Handler calls Login for every request under /.auth/login/<provider>
// (GET and POST, provider already validated as [A-Za-z0-9_-]+, bodies
// limited to Options.MaxBodyBytes), concurrently from many goroutines.
// Login either returns a Principal, and the edge then issues the signed
// session cookie and redirects to post_login_redirect_uri, or returns
// (nil, nil) after writing its own response (a form, a redirect to an
// identity provider, a "wrong password" page). An error makes the edge
// answer 400 with a generic message; the error text is logged, never shown.
type Authenticator interface {
	Login(w http.ResponseWriter, r *http.Request, provider string) (*Principal, error)
}

// Users tells the edge what a signed-in user may do now, so a session
// cookie says who signed in, not what they may do: a user disabled or a
// grant revoked after the sign-in takes effect at the user's next
// request although the cookie lasts Options.SessionTTL.
//
// The Handler calls Roles on every request with a valid session cookie,
// concurrently from many goroutines, on the request path: it must answer
// from memory, never from a database.
type Users interface {
	// Roles returns the roles user (the session's Principal.UserID) holds
	// now in the environment env (as given to Hosts.SetSite). ok false
	// makes the request anonymous: the user is disabled or gone.
	Roles(user, env string) (roles []string, ok bool)
}

// DevUser is one account of DevLogin.
type DevUser struct {
	Name     string
	Password string // empty: any password is accepted (local development only)
	Roles    []string
}

// DevLogin is an Authenticator for development: a login form checked against
// a fixed user list. Any provider name shows the same form.
type DevLogin struct {
	Users []DevUser
}

var _ Authenticator = (*DevLogin)(nil)

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in ({{.Provider}})</h1>{{if .Failed}}<p role="alert">Wrong user name or password.</p>{{end}}
<form method="post"><input type="hidden" name="post_login_redirect_uri" value="{{.Redirect}}">
<label>User <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button></form></body></html>
`))

// Login implements Authenticator.
func (d *DevLogin) Login(w http.ResponseWriter, r *http.Request, provider string) (*Principal, error) {
	data := struct {
		Provider, Redirect string
		Failed             bool
	}{Provider: provider, Redirect: r.FormValue("post_login_redirect_uri")}
	if r.Method == http.MethodPost {
		if u := d.check(r.PostFormValue("username"), r.PostFormValue("password")); u != nil {
			return &Principal{IdentityProvider: provider, UserID: u.Name, UserDetails: u.Name, UserRoles: u.Roles}, nil
		}
		data.Failed = true
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
	} else {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "no-store")
	return nil, loginPage.Execute(w, data)
}

func (d *DevLogin) check(name, password string) *DevUser {
	var found *DevUser
	for i := range d.Users {
		u := &d.Users[i]
		nameOK := subtle.ConstantTimeCompare([]byte(u.Name), []byte(name)) == 1
		passOK := u.Password == "" || subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) == 1
		if nameOK && passOK && found == nil {
			found = u
		}
	}
	return found
}

type loginEnvKey struct{}

// LoginEnv is, inside Authenticator.Login, the name of the environment
// the sign-in is for (as given to Hosts.SetSite).
func LoginEnv(ctx context.Context) string {
	name, _ := ctx.Value(loginEnvKey{}).(string)
	return name
}

// serveAuth answers the /.auth/* system routes, never to be kept by a
// cache: the config's Cache-Control (globalHeaders, the route's headers,
// already applied) would have kept /.auth/logout's answer, so a later
// sign-out never reached the edge and the session cookie stayed.
func (h *Handler) serveAuth(w http.ResponseWriter, r *http.Request, env *Env, p string) int {
	w.Header()["Cache-Control"] = noStore
	switch {
	case p == "/.auth/me":
		return h.authMe(w, r, env)
	case p == "/.auth/logout":
		http.SetCookie(w, h.sessions.cookie(r, ""))
		return redirect(w, localRedirect(r.URL.Query().Get("post_logout_redirect_uri")), http.StatusFound)
	case strings.HasPrefix(p, "/.auth/login/"):
		return h.authLogin(w, r, env, strings.TrimPrefix(p, "/.auth/login/"))
	}
	return plain(w, http.StatusNotFound, "not found")
}

func (h *Handler) authMe(w http.ResponseWriter, r *http.Request, env *Env) int {
	var out struct {
		ClientPrincipal *Principal `json:"clientPrincipal"`
	}
	if p := h.principal(r, env); p != nil {
		cp := *p
		cp.UserRoles = rolesOf(p)
		out.ClientPrincipal = &cp
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(out)
	return http.StatusOK
}

func (h *Handler) authLogin(w http.ResponseWriter, r *http.Request, env *Env, provider string) int {
	if h.opts.Authenticator == nil && slices.Contains(swa.LoginProviders(), provider) {
		// A provider Phoenix serves, where sign-in is not set up (phoenix
		// serve, a server without --oidc-issuer): not an unknown provider.
		return plain(w, http.StatusNotFound, "sign-in is not available: this server has no single sign-on configured")
	}
	if h.opts.Authenticator == nil || !validProvider(provider) {
		return plain(w, http.StatusNotFound, "no such login provider")
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return plain(w, http.StatusMethodNotAllowed, "method not allowed")
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes)
	r = r.WithContext(context.WithValue(r.Context(), loginEnvKey{}, env.name))
	p, err := h.opts.Authenticator.Login(w, r, provider)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return plain(w, http.StatusRequestEntityTooLarge, "request body too large")
	case err != nil && p == nil:
		h.opts.Logger.Warn("edge: login failed", "env", env.name, "provider", provider, "err", err)
		return plain(w, http.StatusBadRequest, "login failed")
	case p == nil:
		return http.StatusOK // the authenticator answered
	}
	value, err := h.sessions.mint(*p, env.name, h.opts.Now())
	if err != nil {
		return plain(w, http.StatusInternalServerError, "could not create session")
	}
	http.SetCookie(w, h.sessions.cookie(r, value))
	return redirect(w, localRedirect(r.FormValue("post_login_redirect_uri")), http.StatusFound)
}

// principal returns the signed-in user of r, or nil: from the trusted
// header when that option is on and the header is present, else from a
// valid session cookie, with the roles Options.Users gives the user now.
func (h *Handler) principal(r *http.Request, env *Env) *Principal {
	if hn := h.opts.TrustedPrincipalHeader; hn != "" {
		if v := r.Header.Get(hn); v != "" {
			p, err := decodeClientPrincipal(v)
			if err != nil {
				return nil
			}
			return p
		}
	}
	if len(r.Header["Cookie"]) == 0 {
		return nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	p, err := h.sessions.verify(c.Value, env.name, h.opts.Now())
	if err != nil {
		return nil
	}
	return h.current(p, env)
}

// current gives a session's principal the roles its user holds now, or
// returns nil when Options.Users no longer lets the user in. Without
// Users the roles are the sign-in's.
func (h *Handler) current(p *Principal, env *Env) *Principal {
	if h.opts.Users == nil {
		return p
	}
	roles, ok := h.opts.Users.Roles(p.UserID, env.name)
	if !ok {
		return nil
	}
	p.UserRoles = roles
	return p
}

func validProvider(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// localRedirect keeps post-login/logout targets on this site (a path, not
// "//host" or a URL), so the auth routes are no open redirect.
func localRedirect(u string) string {
	if u == "" || u[0] != '/' || strings.HasPrefix(u, "//") || strings.HasPrefix(u, "/\\") || strings.ContainsAny(u, "\r\n") {
		return "/"
	}
	return u
}
