package web

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/phoenixvc/phoenix/internal/api"
)

// oidcStart sends the browser to the identity provider through the API,
// which sets the sealed state cookie.
func (d *Dashboard) oidcStart(w http.ResponseWriter, r *http.Request) {
	if d.opts.OIDCLabel == "" {
		d.notFound(w, r)
		return
	}
	next := safeNext(r.URL.Query().Get("next"))
	rec := d.forward(r, "/api/v1/login/oidc?next="+url.QueryEscape(next))
	if rec.status != http.StatusSeeOther {
		d.oidcFailed(w, r, rec, next)
		return
	}
	// Signing in again replaces this browser's session: end it now, while
	// the browser still sends it. The callback comes from the provider's
	// site, without the SameSite=Strict session cookie, and would leave it
	// valid on the server, held by no one, until it expired.
	d.endReplaced(r, "")
	d.clearSession(w)
	copyOIDCCookie(w, rec)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, rec.header.Get("Location"), http.StatusSeeOther)
}

// oidcCallback is where the provider sends the browser back: the API
// checks everything and opens the session, the dashboard keeps it.
func (d *Dashboard) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if d.opts.OIDCLabel == "" {
		d.notFound(w, r)
		return
	}
	rec := d.forward(r, "/api/v1/login/oidc/callback?"+r.URL.RawQuery)
	copyOIDCCookie(w, rec)
	if rec.status != http.StatusOK {
		d.oidcFailed(w, r, rec, "/")
		return
	}
	var out api.OIDCLoginResponse
	secret := sessionFromAPI(rec.header)
	if err := json.Unmarshal(rec.body.Bytes(), &out); err != nil || secret == "" || out.CSRF == "" {
		d.fail(w, r, errors.New("web: the API's single sign-on answer has no session"))
		return
	}
	d.setCookie(w, cookieSession, secret, out.ExpiresAt, 0)
	d.setCookie(w, cookieCSRF, out.CSRF, out.ExpiresAt, 0)
	d.signedIn(w, safeNext(out.Next))
}

// signedInPage moves on with a refresh rather than a redirect: the
// browser arrived from the provider's site, and a redirect in that
// cross-site chain would not send the SameSite=Strict session cookie.
var signedInPage = template.Must(template.New("signedin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={{.}}">
<title>Signed in · Phoenix</title></head>
<body><p>Signed in. <a href="{{.}}">Continue</a>.</p></body></html>
`))

func (d *Dashboard) signedIn(w http.ResponseWriter, next string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	signedInPage.Execute(w, next)
}

func (d *Dashboard) oidcFailed(w http.ResponseWriter, r *http.Request, rec *recorder, next string) {
	var ae *apiError
	if !errors.As(decodeAPIError(rec), &ae) {
		d.fail(w, r, errors.New("web: single sign-on failed"))
		return
	}
	if ra := rec.header.Get("Retry-After"); ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	msg := ae.Message
	if ae.Hint != "" {
		msg += " (" + ae.Hint + ")"
	}
	d.renderLogin(w, r, ae.Status, loginData{Next: next, Error: msg})
}

// forward sends the browser's request, cookies included, to the API at
// path in-process.
func (d *Dashboard) forward(r *http.Request, path string) *recorder {
	rec := &recorder{header: http.Header{}}
	u, err := url.Parse(path)
	if err != nil {
		rec.status = http.StatusBadRequest
		return rec
	}
	req := r.Clone(r.Context())
	req.URL, req.RequestURI, req.Body = u, "", http.NoBody
	d.opts.API.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec
}

// copyOIDCCookie passes the API's state cookie (set or deleted) on.
func copyOIDCCookie(w http.ResponseWriter, rec *recorder) {
	for _, line := range rec.header.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && strings.HasSuffix(c.Name, "phoenix_oidc") {
			w.Header().Add("Set-Cookie", line)
		}
	}
}
