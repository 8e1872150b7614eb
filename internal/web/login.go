package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/auth"
)

// maxForm bounds a form post.
const maxForm = 64 << 10

type loginData struct {
	User, Next, Nonce, Error string
	OIDC                     string // the single sign-on provider's label, when there is one
}

func (d *Dashboard) loginForm(w http.ResponseWriter, r *http.Request) {
	d.renderLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

// renderLogin shows the sign-in form with a fresh nonce the post must
// echo, so no other site can sign a browser in to an account of its own.
func (d *Dashboard) renderLogin(w http.ResponseWriter, r *http.Request, status int, ld loginData) {
	ld.Nonce = d.cookie(r, cookieLogin) // kept, so two open sign-in tabs both work
	if !isToken(ld.Nonce) {
		ld.Nonce = randomToken()
		d.setCookie(w, cookieLogin, ld.Nonce, time.Time{}, 0)
	}
	ld.OIDC = d.opts.OIDCLabel
	v := &view{Title: "Sign in", Flash: d.takeFlash(w, r), Data: ld}
	d.render(w, r, status, "login", v)
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		d.renderLogin(w, r, http.StatusBadRequest, loginData{Error: "The form could not be read; try again."})
		return
	}
	ld := loginData{User: r.PostForm.Get("user"), Next: safeNext(r.PostForm.Get("next"))}
	if !sameToken(r.PostForm.Get("nonce"), d.cookie(r, cookieLogin)) {
		ld.Error = "The sign-in form expired or did not come from this dashboard; try again."
		d.renderLogin(w, r, http.StatusForbidden, ld)
		return
	}
	var ses auth.Session
	rec, err := d.call(r, session{}, http.MethodPost, "/api/v1/login",
		api.LoginRequest{User: ld.User, Password: r.PostForm.Get("password")}, &ses)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		ld.Error = "Wrong user name or password." // the same for unknown users
		d.renderLogin(w, r, ae.Status, ld)
		return
	case errors.As(err, &ae):
		if ra := rec.header.Get("Retry-After"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		ld.Error = ae.Message
		d.renderLogin(w, r, ae.Status, ld)
		return
	case err != nil:
		d.fail(w, r, err)
		return
	}
	secret := sessionFromAPI(rec.header)
	if secret == "" || ses.CSRF == "" {
		d.fail(w, r, errors.New("web: the API's login answer has no session"))
		return
	}
	d.endReplaced(r, secret)
	d.setCookie(w, cookieSession, secret, ses.ExpiresAt, 0)
	d.setCookie(w, cookieCSRF, ses.CSRF, ses.ExpiresAt, 0)
	d.setCookie(w, cookieLogin, "", time.Time{}, -1)
	http.Redirect(w, r, ld.Next, http.StatusSeeOther)
}

// logout ends the session at the API (which audits it) and forgets it.
// endReplaced ends on the server the session this browser held before
// signing in again (as another user, say), whose cookie the new one
// replaces: otherwise it would stay valid until it expires, held by no
// one. Best effort: one already ended or expired is fine.
func (d *Dashboard) endReplaced(r *http.Request, secret string) {
	old := d.sessionOf(r)
	if old.secret == "" || old.secret == secret {
		return
	}
	_, _ = d.call(r, old, http.MethodPost, "/api/v1/logout", nil, nil)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request, s session) (string, string, error) {
	_, err := d.call(r, s, http.MethodPost, "/api/v1/logout", nil, nil)
	var ae *apiError
	if err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusUnauthorized) {
		return "", "", err
	}
	d.clearSession(w)
	return "/ui/login", "Signed out.", nil
}

// safeNext returns next when it is a path of this dashboard (never
// another host, scheme or the API), else "/".
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\x00\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") ||
		strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	for _, p := range apiPrefixes {
		if strings.HasPrefix(u.Path, p) {
			return "/"
		}
	}
	if u.Path == "/ui/login" {
		return "/"
	}
	if out := u.RequestURI(); len(out) <= 2048 { // escaping can make it longer
		return out
	}
	return "/"
}
