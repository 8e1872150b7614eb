package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// The dashboard's cookies. All are HttpOnly, Secure and SameSite=Strict,
// and carry the __Host- prefix (Secure, Path=/, no Domain), which browsers
// grant to HTTPS and to loopback origins.
const (
	cookieSession = "__Host-phoenix_session" // the API's session secret, under the API's own cookie name
	cookieCSRF    = "__Host-phoenix_csrf"    // the session's CSRF token, compared with the form's
	cookieLogin   = "__Host-phoenix_login"   // a nonce the sign-in form must echo (no login CSRF)
	cookieFlash   = "__Host-phoenix_flash"   // the outcome of the last action, shown once
)

// session is what a signed-in browser holds.
type session struct {
	secret string // the session cookie's value, sent to the API
	csrf   string // the CSRF token, sent to the API with every change
}

// setCookie sets a dashboard cookie; maxAge < 0 deletes it, 0 makes it
// last until expires (or the browser closes when expires is zero).
func (d *Dashboard) setCookie(w http.ResponseWriter, name, value string, expires time.Time, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", Expires: expires, MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

func (d *Dashboard) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

func (d *Dashboard) sessionOf(r *http.Request) session {
	return session{secret: d.cookie(r, cookieSession), csrf: d.cookie(r, cookieCSRF)}
}

func (d *Dashboard) clearSession(w http.ResponseWriter) {
	d.setCookie(w, cookieSession, "", time.Time{}, -1)
	d.setCookie(w, cookieCSRF, "", time.Time{}, -1)
}

// sameToken compares a form's token with a cookie's in constant time; an
// empty one never matches.
func sameToken(form, cookie string) bool {
	return form != "" && cookie != "" && subtle.ConstantTimeCompare([]byte(form), []byte(cookie)) == 1
}

func randomToken() string {
	var b [24]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// isToken reports whether s has randomToken's shape.
func isToken(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 24
}

// maxFlash bounds a flash message (a cookie must stay small).
const maxFlash = 300

func (d *Dashboard) setFlash(w http.ResponseWriter, msg string) {
	if len(msg) > maxFlash {
		msg = msg[:maxFlash]
	}
	d.setCookie(w, cookieFlash, base64.RawURLEncoding.EncodeToString([]byte(msg)), time.Time{}, 60)
}

// takeFlash returns the pending flash message and deletes it.
func (d *Dashboard) takeFlash(w http.ResponseWriter, r *http.Request) string {
	v := d.cookie(r, cookieFlash)
	if v == "" {
		return ""
	}
	d.setCookie(w, cookieFlash, "", time.Time{}, -1)
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) > maxFlash {
		return ""
	}
	return strings.ToValidUTF8(string(b), "")
}

// sessionFromAPI finds the session secret in the API's Set-Cookie (its
// name loses the __Host- prefix when the API runs with insecure cookies).
func sessionFromAPI(h http.Header) string {
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && strings.HasSuffix(c.Name, "phoenix_session") && c.Value != "" {
			return c.Value
		}
	}
	return ""
}
