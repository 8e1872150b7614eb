package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/auth"
)

var tokensQuery = []param{{name: "all", max: 5, allowed: []string{"true"}}}

type tokensData struct {
	Tokens []auth.Token
	All    bool // every user's (users.manage)
	Kinds  []string
}

// tokens lists the user's own tokens, or with ?all=true everyone's (the
// API lets only users.manage); never their secrets.
func (d *Dashboard) tokens(r *http.Request, s session, v *view) (string, error) {
	v.Title, v.Nav = "Tokens", "tokens"
	q, err := parseQuery(r.URL.Query(), tokensQuery)
	if err != nil {
		return "", err
	}
	data := &tokensData{All: q.Get("all") == "true", Kinds: []string{auth.KindAPI, auth.KindDeploy}}
	if data.Tokens, err = callAll[auth.Token](d, r, s, "/api/v1/tokens", q); err != nil {
		return "", err
	}
	v.Data = data
	return "tokens", nil
}

// createToken makes a token and answers with the page that shows its
// secret, this once: no redirect (the flash cookie must never hold a
// secret) and, as every page, Cache-Control: no-store. Reloading the
// page asks to post the form again, which makes another token.
func (d *Dashboard) createToken(w http.ResponseWriter, r *http.Request) {
	s, ok := d.checkForm(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	req := api.TokenRequest{Name: strings.TrimSpace(f.Get("name")), User: strings.TrimSpace(f.Get("user")), Kind: f.Get("kind"),
		Project: strings.TrimSpace(f.Get("project")), Environment: strings.TrimSpace(f.Get("environment")), TTL: strings.TrimSpace(f.Get("ttl"))}
	for _, sc := range strings.FieldsFunc(f.Get("scopes"), func(r rune) bool { return r == ',' || r == ' ' }) {
		req.Scopes = append(req.Scopes, auth.Permission(sc))
	}
	var created api.TokenResponse
	if _, err := d.call(r, s, http.MethodPost, "/api/v1/tokens", req, &created); err != nil {
		d.actionFailed(w, r, s, err)
		return
	}
	v := &view{Title: "Token created", Nav: "tokens", CSRF: s.csrf, Data: created}
	if err := d.who(r, s, v); err != nil {
		v.User = nil
	}
	d.render(w, r, http.StatusCreated, "token", v)
}

// revokeToken revokes a token by id.
func (d *Dashboard) revokeToken(w http.ResponseWriter, r *http.Request, s session) (string, string, error) {
	id := r.PathValue("id")
	if _, err := d.call(r, s, http.MethodDelete, "/api/v1/tokens/"+url.PathEscape(id), nil, nil); err != nil {
		return "", "", err
	}
	back := "/ui/tokens"
	if r.PostForm.Get("all") == "true" {
		back += "?all=true"
	}
	return back, "Token " + id + " revoked.", nil
}
