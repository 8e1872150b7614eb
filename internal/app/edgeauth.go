package app

import (
	"context"
	"errors"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/edge/swa"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// edgeStateCookie holds a site visitor's sign-in in progress (sealed
// like the dashboard's; SameSite=Lax so the provider's redirect brings it).
const edgeStateCookie = "phoenix_edge_oidc"

// edgeSSO signs site visitors in at /.auth/login/aad (SWA's name for
// Entra ID) and /.auth/login/oidc through the server's single sign-on
// provider: the provider sends them back to the same URL with a code,
// and the visitor's roles on the site are the Phoenix user's roles in
// the site's project and environment.
type edgeSSO struct{ a *App }

func (a *App) edgeAuthenticator() edge.Authenticator {
	if a.sso == nil {
		return nil
	}
	return edgeSSO{a}
}

// edgeUsers gives the edge the roles of the Phoenix users its visitors
// signed in as, from the auth service's in-memory view of the users
// (auth.UserState): a disabled user is anonymous and a revoked grant gone
// at their next request, with no database query per request.
type edgeUsers struct{ auth *auth.Service }

// edgeUsers loads the users' states and returns the edge's view of them.
func (a *App) edgeUsers(ctx context.Context) (edge.Users, error) {
	if err := a.Auth.LoadUserStates(ctx); err != nil {
		return nil, err
	}
	return edgeUsers{a.Auth}, nil
}

// Roles implements edge.Users: the user's roles in the site's project and
// environment now; not ok for a disabled or unknown user.
func (u edgeUsers) Roles(user, env string) ([]string, bool) {
	st, ok := u.auth.UserState(user)
	if !ok || st.Disabled {
		return nil, false
	}
	return rolesIn(st.Grants, env), true
}

func (e edgeSSO) Login(w http.ResponseWriter, r *http.Request, provider string) (*edge.Principal, error) {
	if !slices.Contains(swa.LoginProviders(), provider) { // aad and oidc: what phoenix validate expects
		http.Error(w, "no such login provider", http.StatusNotFound)
		return nil, nil
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	self := scheme + "://" + r.Host + "/.auth/login/" + provider
	q := r.URL.Query()
	if q.Get("code") == "" && q.Get("error") == "" {
		return nil, e.start(w, r, self)
	}
	http.SetCookie(w, e.cookie(r, "", -1)) // one use, whatever happens
	env := edge.LoginEnv(r.Context())
	st, creds, refused := e.finish(r)
	pr, err := e.a.Auth.SignIn(r.Context(), e.a.sso, creds, remoteIP(r), "edge "+env)
	if refused != nil && !errors.Is(err, auth.ErrRateLimited) {
		err = refused
	}
	if err != nil {
		e.refuse(w, err)
		return nil, nil
	}
	// The edge sends the visitor on to post_login_redirect_uri: the one
	// the sign-in started with, kept in the state.
	r.Form = url.Values{"post_login_redirect_uri": {st.Next}}
	return &edge.Principal{IdentityProvider: provider, UserID: pr.User, UserDetails: pr.User,
		UserRoles: rolesIn(pr.Grants, env)}, nil
}

func (e edgeSSO) start(w http.ResponseWriter, r *http.Request, self string) error {
	cookie, to, err := e.a.sso.StartAt(self, r.FormValue("post_login_redirect_uri"), time.Now())
	if err != nil {
		return err
	}
	http.SetCookie(w, e.cookie(r, cookie, int(auth.OIDCStateTTL/time.Second)))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusFound)
	return nil
}

// finish checks the provider's answer against the state cookie.
func (e edgeSSO) finish(r *http.Request) (auth.OIDCState, auth.Credentials, error) {
	q := r.URL.Query()
	if v := q.Get("error"); v != "" {
		return auth.OIDCState{}, auth.Credentials{}, usererr.New(usererr.Unauthorized, "the identity provider refused the sign-in: %.64s", v)
	}
	c, err := r.Cookie(edgeStateCookie)
	if err != nil {
		return auth.OIDCState{}, auth.Credentials{}, usererr.New(usererr.Unauthorized, "no sign-in was started in this browser (the state cookie is missing)")
	}
	st, err := e.a.sso.Finish(c.Value, q.Get("state"), time.Now())
	if err != nil {
		return st, auth.Credentials{}, usererr.New(usererr.Unauthorized, "sign-in refused: %v", err)
	}
	return st, auth.Credentials{Code: q.Get("code"), CodeVerifier: st.Verifier, Nonce: st.Nonce, RedirectURL: st.Redirect}, nil
}

var edgeRefusal = template.Must(template.New("refused").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in refused</title></head>
<body><h1>Sign-in refused</h1><p role="alert">{{.}}</p><p><a href="/">Back to the site</a></p></body></html>
`))

func (e edgeSSO) refuse(w http.ResponseWriter, err error) {
	status := http.StatusUnauthorized
	switch {
	case errors.Is(err, auth.ErrRateLimited):
		status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", "60")
	case usererr.KindOf(err) == usererr.Unavailable: // the sign-in limits could not be checked: not the visitor's fault
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	edgeRefusal.Execute(w, err.Error())
}

func (e edgeSSO) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: edgeStateCookie, Value: value, Path: "/.auth/", MaxAge: maxAge, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode}
}

// rolesIn is the names of the roles grants give in the edge environment
// env ("<env>.<project>", see edgeName), each once.
func rolesIn(grants []auth.Grant, env string) []string {
	envName, project, _ := strings.Cut(env, ".")
	var out []string
	for _, g := range grants {
		if (g.Project == "" || g.Project == project) && (g.Environment == "" || g.Environment == envName) &&
			!slices.Contains(out, g.Role) {
			out = append(out, g.Role)
		}
	}
	return out
}

func remoteIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
