package api

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func (a *API) authRoutes() []Route {
	return []Route{
		{Method: "POST", Path: "/api/v1/login", Tag: "auth", Public: true,
			Summary: "Sign in with a password; sets the session cookie and returns the CSRF token (rate-limited)",
			Request: LoginRequest{}, Response: auth.Session{}, Limited: true, Handler: a.login},
		{Method: "POST", Path: "/api/v1/logout", Tag: "auth", Summary: "End the session of the cookie (a no-op for tokens)",
			Status: http.StatusNoContent, Handler: a.logout},
		{Method: "GET", Path: "/api/v1/me", Tag: "auth", Summary: "Who the credential belongs to and what it may do",
			Response: auth.Principal{}, Handler: a.me},
		{Method: "GET", Path: "/api/v1/roles", Tag: "users", Summary: "Built-in and configured roles",
			Response: Page[auth.Role]{}, Handler: a.roles},
		{Method: "GET", Path: "/api/v1/users", Tag: "users", Perm: auth.UsersAdmin, Query: pageParams,
			Summary: "List users", Response: Page[auth.User]{}, Handler: a.listUsers},
		{Method: "POST", Path: "/api/v1/users", Tag: "users", Perm: auth.UsersAdmin, Action: "user.add",
			Summary: "Add a user", Request: UserRequest{}, Response: auth.User{}, Status: http.StatusCreated, Handler: a.addUser},
		{Method: "GET", Path: "/api/v1/users/{name}", Tag: "users", Summary: "One user (yourself, or anyone with users.manage)",
			Response: auth.User{}, Handler: a.getUser},
		{Method: "PUT", Path: "/api/v1/users/{name}/grants", Tag: "users", Perm: auth.UsersAdmin, Action: "user.grant",
			Summary: "Replace a user's role grants", Request: GrantsRequest{}, Response: auth.User{}, Handler: a.setGrants},
		{Method: "PUT", Path: "/api/v1/users/{name}/email", Tag: "users", Perm: auth.UsersAdmin, Action: "user.email",
			Summary: "Set a user's email, which links the single sign-on identity with that verified email",
			Request: EmailRequest{}, Response: auth.User{}, Handler: a.setEmail},
		{Method: "PUT", Path: "/api/v1/users/{name}/disabled", Tag: "users", Perm: auth.UsersAdmin, Action: "user.disable",
			Summary: "Disable a user (sessions end, sign-ins and tokens are refused) or enable them again; the last admin stays",
			Request: DisabledRequest{}, Response: auth.User{}, Handler: a.setDisabled},
		{Method: "PUT", Path: "/api/v1/users/{name}/password", Tag: "users", Action: "user.passwd",
			Summary: "Set a password (your own, giving the current one if set, under the sign-in limits; anyone's with users.manage)",
			Request: PasswordRequest{}, Status: http.StatusNoContent, Limited: true, Handler: a.setPassword},
		{Method: "GET", Path: "/api/v1/tokens", Tag: "tokens", Perm: auth.Tokens,
			Query:   append([]Param{boolParam("all", "true: every user's tokens (needs users.manage)")}, pageParams...),
			Summary: "List your tokens (never their secrets)", Response: Page[auth.Token]{}, Handler: a.listTokens},
		{Method: "POST", Path: "/api/v1/tokens", Tag: "tokens", Perm: auth.Tokens, Action: "token.create",
			Summary: "Create an API or deploy token; the secret is in this answer only",
			Request: TokenRequest{}, Response: TokenResponse{}, Status: http.StatusCreated, Handler: a.createToken},
		{Method: "DELETE", Path: "/api/v1/tokens/{id}", Tag: "tokens", Perm: auth.Tokens, Action: "token.revoke",
			Summary: "Revoke a token (yours, or anyone's with users.manage)", Status: http.StatusNoContent, Handler: a.revokeToken},
	}
}

// LoginRequest signs in with a password.
type LoginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	// A JSON body cannot be sent cross-site without a CORS preflight,
	// which this API never grants: no login CSRF.
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		WriteError(w, r, usererr.New(usererr.Invalid, "login wants Content-Type: application/json"))
		return
	}
	var req LoginRequest
	if err := decode(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	ses, err := a.opts.Auth.Login(r.Context(), nil, auth.Credentials{Username: req.User, Password: req.Password}, clientAddr(r))
	if err != nil {
		writeLoginError(w, r, err)
		return
	}
	http.SetCookie(w, a.sessionCookie(ses.Secret, ses.ExpiresAt))
	WriteJSON(w, http.StatusOK, ses)
}

// writeLoginError answers a refused login: 429 with Retry-After when
// rate-limited, else the error.
func writeLoginError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, auth.ErrRateLimited) {
		w.Header().Set("Retry-After", "60")
		writeErrorStatus(w, r, http.StatusTooManyRequests, "rate_limited", err.Error(), "wait a minute before trying again")
		return
	}
	WriteError(w, r, err)
}

func (a *API) sessionCookie(value string, exp time.Time) *http.Cookie {
	c := &http.Cookie{Name: SessionCookie, Value: value, Path: "/", Expires: exp, HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode}
	if a.opts.InsecureCookies {
		c.Name, c.Secure = strings.TrimPrefix(SessionCookie, "__Host-"), false
	}
	if value == "" {
		c.MaxAge = -1
	}
	return c
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	pr := PrincipalFrom(r.Context())
	if pr.Via == "session" {
		c, _ := r.Cookie(a.sessionCookie("", time.Time{}).Name)
		if err := a.opts.Auth.Logout(r.Context(), pr, c.Value); err != nil {
			WriteError(w, r, err)
			return
		}
		http.SetCookie(w, a.sessionCookie("", time.Time{}))
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) me(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, PrincipalFrom(r.Context()))
}

func (a *API) roles(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, Page[auth.Role]{Items: a.opts.Auth.Roles()})
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	pg, err := readPage(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	us, err := a.opts.Auth.Users(r.Context())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, paginate(us, pg, func(u auth.User) string { return u.Name },
		func(u auth.User) bool { return u.Name > pg.cursor }))
}

// UserRequest adds a user.
type UserRequest struct {
	Name     string       `json:"name"`
	Password string       `json:"password,omitempty"`
	Grants   []auth.Grant `json:"grants,omitempty"`
	// Email links a single sign-on identity with this verified email.
	Email string `json:"email,omitempty"`
}

// EmailRequest sets (or, empty, clears) a user's email.
type EmailRequest struct {
	Email string `json:"email"`
}

// DisabledRequest disables or enables a user.
type DisabledRequest struct {
	Disabled bool `json:"disabled"`
}

func (a *API) setDisabled(w http.ResponseWriter, r *http.Request) {
	changeUser(a, w, r, func(ctx context.Context, name string, req DisabledRequest) error {
		return a.opts.Auth.SetDisabled(ctx, name, req.Disabled)
	})
}

func (a *API) setEmail(w http.ResponseWriter, r *http.Request) {
	changeUser(a, w, r, func(ctx context.Context, name string, req EmailRequest) error {
		return a.opts.Auth.SetEmail(ctx, name, req.Email)
	})
}

// changeUser decodes a request of type T, applies it to the user the
// path names and answers with the user as it is then.
func changeUser[T any](a *API, w http.ResponseWriter, r *http.Request, apply func(context.Context, string, T) error) {
	var req T
	if err := decode(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	name := r.PathValue("name")
	if err := apply(r.Context(), name, req); err != nil {
		WriteError(w, r, err)
		return
	}
	u, err := a.opts.Auth.User(r.Context(), name)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, u)
}

func (a *API) addUser(w http.ResponseWriter, r *http.Request) {
	var req UserRequest
	if err := decode(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	if req.Email != "" {
		if err := auth.CheckEmail(req.Email); err != nil { // before the user exists
			WriteError(w, r, err)
			return
		}
	}
	u, err := a.opts.Auth.CreateUser(r.Context(), req.Name, req.Password, req.Grants)
	if err == nil && req.Email != "" {
		if err = a.opts.Auth.SetEmail(r.Context(), req.Name, req.Email); err == nil {
			u, err = a.opts.Auth.User(r.Context(), req.Name)
		}
	}
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, u)
}

// self checks that the named user is the caller, or that the caller may
// manage users.
func (a *API) self(w http.ResponseWriter, r *http.Request) bool {
	if PrincipalFrom(r.Context()).User == r.PathValue("name") {
		return true
	}
	return a.require(w, r, auth.UsersAdmin, auth.Resource{})
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	if !a.self(w, r) {
		return
	}
	u, err := a.opts.Auth.User(r.Context(), r.PathValue("name"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, u)
}

// GrantsRequest replaces a user's grants.
type GrantsRequest struct {
	Grants []auth.Grant `json:"grants"`
}

func (a *API) setGrants(w http.ResponseWriter, r *http.Request) {
	var req GrantsRequest
	if err := decode(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	u, err := a.opts.Auth.SetGrants(r.Context(), r.PathValue("name"), req.Grants)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, u)
}

// PasswordRequest sets a password; Current is needed to change your own
// password once one is set.
type PasswordRequest struct {
	Password string `json:"password"`
	Current  string `json:"current,omitempty"`
}

func (a *API) setPassword(w http.ResponseWriter, r *http.Request) {
	if !a.self(w, r) {
		return
	}
	var req PasswordRequest
	if err := decode(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	name, pr := r.PathValue("name"), PrincipalFrom(r.Context())
	if pr.Limited() {
		a.deny(w, r, routeOf(r), usererr.New(usererr.Forbidden,
			"a scoped or deploy token cannot set passwords").WithHint("sign in, or use a token with all your rights"))
		return
	}
	u, err := a.opts.Auth.User(r.Context(), name)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if name == pr.User && u.HasPassword && !pr.Can(auth.UsersAdmin, auth.Resource{}) {
		ok, err := a.opts.Auth.CheckCurrentPassword(r.Context(), name, req.Current, clientAddr(r))
		if err != nil {
			writeLoginError(w, r, err)
			return
		}
		if !ok {
			a.deny(w, r, routeOf(r), usererr.New(usererr.Forbidden, "the current password is wrong"))
			return
		}
	}
	if err := a.opts.Auth.SetPassword(r.Context(), name, req.Password); err != nil {
		WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) {
	pg, err := readPage(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	user := PrincipalFrom(r.Context()).User
	if r.URL.Query().Get("all") == "true" {
		if !a.require(w, r, auth.UsersAdmin, auth.Resource{}) {
			return
		}
		user = ""
	}
	ts, err := a.opts.Auth.Tokens(r.Context(), user)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	idx := -1
	for i, t := range ts {
		if t.ID == pg.cursor {
			idx = i
		}
	}
	if pg.cursor != "" && idx < 0 {
		WriteError(w, r, badCursor(pg.cursor))
		return
	}
	i := 0
	WriteJSON(w, http.StatusOK, paginate(ts, pg, func(t auth.Token) string { return t.ID },
		func(auth.Token) bool { i++; return i-1 > idx }))
}

// TokenRequest asks for a token. TTL is a duration such as 15m, 12h or
// 90d; the default and the maximum depend on the kind.
type TokenRequest struct {
	Name        string            `json:"name,omitempty"`
	User        string            `json:"user,omitempty"` // another user's token needs users.manage
	Kind        string            `json:"kind,omitempty"`
	Scopes      []auth.Permission `json:"scopes,omitempty"`
	Project     string            `json:"project,omitempty"`
	Environment string            `json:"environment,omitempty"`
	TTL         string            `json:"ttl,omitempty"`
}

// TokenResponse is a new token. Secret is shown this once.
type TokenResponse struct {
	Token  auth.Token `json:"token"`
	Secret string     `json:"secret"`
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) {
	var req TokenRequest
	if err := decode(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	ttl, err := ParseTTL(req.TTL)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	t, secret, err := a.opts.Auth.CreateToken(r.Context(), PrincipalFrom(r.Context()), auth.TokenRequest{Name: req.Name, User: req.User,
		Kind: req.Kind, Scopes: req.Scopes, Project: req.Project, Environment: req.Environment, TTL: ttl})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, TokenResponse{Token: *t, Secret: secret})
}

// ParseTTL reads a lifetime like 90d, 12h or 15m; "" is zero (the default).
func ParseTTL(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n > 0 && n <= 3660 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, usererr.New(usererr.Invalid, "ttl %q: want a duration such as 15m, 12h or 90d", s)
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if tid := auth.TokenID(id); tid != "" {
		id = tid // a whole token pasted where its id belongs: revoke it, never echo it
	}
	if err := a.opts.Auth.RevokeToken(r.Context(), PrincipalFrom(r.Context()), id); err != nil {
		WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
