package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// public endpoints answer without a token.
var public = map[string]bool{"/api/v1/health": true, "/api/v1/version": true}

// authenticate requires the bearer token on every non-public endpoint. The
// comparison is constant-time over hashes, so neither the token's content
// nor its length leaks through timing.
func (a *API) authenticate(next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(a.opts.Token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public[r.URL.Path] || a.opts.Token == "" {
			next.ServeHTTP(w, r)
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		got := sha256.Sum256([]byte(tok))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="phoenix"`)
			WriteError(w, r, usererr.New(usererr.Unauthorized, "missing or invalid token").
				WithHint("pass --token or set PHOENIX_TOKEN; a server writes its admin token to <data>/admin.token"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
