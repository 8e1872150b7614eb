package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// OIDCStateCookie holds a started single sign-on (sealed; 10 minutes).
// SameSite=Lax: the provider sends the browser back with a top-level GET
// from its own site, which a Strict cookie would not come along on.
const OIDCStateCookie = "__Host-phoenix_oidc"

func (a *API) oidcRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/login/oidc", Tag: "auth", Public: true,
			Query:   []Param{textParam("next", "where the dashboard goes after signing in (a path)")},
			Summary: "Start single sign-on: sets the sealed state cookie and redirects (303) to the identity provider",
			Status:  http.StatusSeeOther, Handler: a.oidcStart},
		{Method: "GET", Path: "/api/v1/login/oidc/callback", Tag: "auth", Public: true,
			// The provider may add parameters of its own (iss, session_state, scope).
			Query: []Param{textParam("code", "the provider's authorization code"), textParam("state", "the state sent to the provider"),
				textParam("error", "the provider's refusal, instead of a code")},
			AnyQuery: true,
			Summary: "Finish single sign-on: checks state, PKCE, the ID token and its nonce; sets the session cookie " +
				"like POST /login (rate-limited, audited)",
			Response: OIDCLoginResponse{}, Limited: true, Handler: a.oidcCallback},
	}
}

// OIDCLoginResponse is a finished single sign-on: the session (its
// secret only in the cookie) and where the sign-in was started to go.
type OIDCLoginResponse struct {
	auth.Session
	Next string `json:"next"`
}

func (a *API) oidcCookie(value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: OIDCStateCookie, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: true,
		SameSite: http.SameSiteLaxMode}
	if a.opts.InsecureCookies {
		c.Name, c.Secure = strings.TrimPrefix(OIDCStateCookie, "__Host-"), false
	}
	return c
}

func (a *API) oidcStart(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if len(next) > 2048 || !strings.HasPrefix(next, "/") {
		next = "/"
	}
	cookie, to, err := a.opts.OIDC.Start(next, time.Now())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	http.SetCookie(w, a.oidcCookie(cookie, int(auth.OIDCStateTTL/time.Second)))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (a *API) oidcCallback(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, a.oidcCookie("", -1)) // one use, whatever happens
	q := r.URL.Query()
	var refused error
	var creds auth.Credentials
	next := "/"
	c, _ := r.Cookie(a.oidcCookie("", 0).Name)
	switch {
	case q.Get("error") != "":
		refused = usererr.New(usererr.Unauthorized, "the identity provider refused the sign-in: %s",
			clip(q.Get("error"), 64))
	case c == nil:
		refused = usererr.New(usererr.Unauthorized, "no sign-in was started in this browser (the state cookie is missing)").
			WithHint("start again from the sign-in page; cookies must be allowed")
	default:
		st, err := a.opts.OIDC.Finish(c.Value, q.Get("state"), time.Now())
		if err != nil {
			refused = usererr.New(usererr.Unauthorized, "sign-in refused: %v", err).WithHint("start again from the sign-in page")
		} else {
			creds = auth.Credentials{Code: q.Get("code"), CodeVerifier: st.Verifier, Nonce: st.Nonce}
			next = st.Next
		}
	}
	ses, err := a.opts.Auth.Login(r.Context(), a.opts.OIDC, creds, clientAddr(r)) // audits refusals too
	if refused != nil && !errors.Is(err, auth.ErrRateLimited) {
		err = refused
	}
	if err != nil {
		writeLoginError(w, r, err)
		return
	}
	http.SetCookie(w, a.sessionCookie(ses.Secret, ses.ExpiresAt))
	WriteJSON(w, http.StatusOK, OIDCLoginResponse{Session: *ses, Next: next})
}

func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > n {
		return s[:n]
	}
	return s
}
