package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/edge"
)

// TestSecretsNeverLeak runs the token and password lifecycle with debug
// logging on, then searches every log line, audit record and response
// for the secrets. Only the answer that creates a token may hold it.
func TestSecretsNeverLeak(t *testing.T) {
	f := newFixture(t)
	var bodies bytes.Buffer
	record := func(status int, b []byte, _ http.Header) { bodies.Write(b) }
	status, created, _ := f.call("admin", "POST", "/api/v1/tokens", TokenRequest{Name: "leak-test"})
	var tr TokenResponse
	json.Unmarshal(created, &tr)
	if status != 201 || !strings.HasPrefix(tr.Secret, "phx_") {
		t.Fatalf("create = %d %s", status, created)
	}
	secret := tr.Secret
	f.tokens["fresh"] = secret
	password := "correct horse battery"
	record(f.call("fresh", "GET", "/api/v1/me", nil))
	record(f.call("fresh", "GET", "/api/v1/tokens?all=true", nil))
	record(f.call("fresh", "GET", "/api/v1/nope/"+secret, nil))
	record(f.call("fresh", "DELETE", "/api/v1/tokens/"+secret, nil)) // a secret pasted as an id
	record(f.call("none", "POST", "/api/v1/login", LoginRequest{User: "pwuser", Password: password}))
	record(f.call("none", "POST", "/api/v1/login", LoginRequest{User: "pwuser", Password: password + "x"}))
	record(f.call("none", "GET", "/api/v1/me?access_token="+secret, nil))
	record(f.call("fresh", "DELETE", "/api/v1/tokens/"+tr.Token.ID, nil))
	record(f.call("fresh", "GET", "/api/v1/me", nil)) // revoked now
	f.tokens["wrong"] = secret[:len(secret)-4] + "ffff"
	record(f.call("wrong", "GET", "/api/v1/me", nil))
	var exported bytes.Buffer
	if err := f.log.Export(bg, &exported, audit.Filter{}); err != nil {
		t.Fatal(err)
	}
	for where, text := range map[string]string{"server log": f.logs.String(), "audit log": exported.String(), "responses": bodies.String()} {
		for what, s := range map[string]string{"token": secret, "token secret part": secret[20:], "password": password} {
			if strings.Contains(text, s) {
				t.Errorf("the %s appears in the %s", what, where)
			}
		}
	}
	if !strings.Contains(f.logs.String(), "api request") || !strings.Contains(exported.String(), "token.revoke") {
		t.Fatal("the test saw no logs or no audit records; it proves nothing")
	}
	// Only the header authenticates: a token in the URL does not.
	if status, _, _ := f.call("none", "GET", "/api/v1/me?access_token="+f.tokens["admin"], nil); status != 401 {
		t.Fatalf("token in the query string accepted: %d", status)
	}
}

// TestSessionCookieAndCSRF: login sets a secure, HttpOnly, SameSite=Strict
// cookie; reads work with it, changes need the CSRF header.
func TestSessionCookieAndCSRF(t *testing.T) {
	f := newFixture(t)
	f.api.opts.InsecureCookies = false
	resp := post(t, http.DefaultClient, f.srv.URL+"/api/v1/login", `{"user":"pwuser","password":"correct horse battery"}`, nil)
	var ses struct {
		CSRF string `json:"csrf_token"`
	}
	json.NewDecoder(resp.Body).Decode(&ses)
	resp.Body.Close()
	c := resp.Cookies()
	if resp.StatusCode != 200 || len(c) != 1 || ses.CSRF == "" {
		t.Fatalf("login = %d, cookies %v", resp.StatusCode, c)
	}
	if c[0].Name != SessionCookie || !c[0].Secure || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode || c[0].Path != "/" {
		t.Fatalf("cookie flags: %+v", c[0])
	}
	withCookie := func(method, path, csrf string) int {
		req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: c[0].Value})
		if csrf != "" {
			req.Header.Set(CSRFHeader, csrf)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cases := []struct {
		name, method, path, csrf string
		want                     int
	}{
		{"read without csrf", "GET", "/api/v1/me", "", 200},
		{"change without csrf", "POST", "/api/v1/tokens", "", 403},
		{"change with a wrong csrf", "POST", "/api/v1/tokens", strings.Repeat("0", 64), 403},
		{"change with csrf", "POST", "/api/v1/tokens", ses.CSRF, 201},
		{"logout", "POST", "/api/v1/logout", ses.CSRF, 204},
		{"after logout", "GET", "/api/v1/me", "", 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := withCookie(c.method, c.path, c.csrf); got != c.want {
				t.Fatalf("= %d, want %d", got, c.want)
			}
		})
	}
	// A form post (no JSON) cannot log in: no login CSRF.
	jar, _ := cookiejar.New(nil)
	form := post(t, &http.Client{Jar: jar}, f.srv.URL+"/api/v1/login", "user=pwuser&password=correct+horse+battery",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if form.StatusCode != 400 || len(form.Cookies()) != 0 {
		t.Fatalf("form login = %d", form.StatusCode)
	}
}

func post(t *testing.T, c *http.Client, url, body string, headers map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestLoginRateLimitAnswers429(t *testing.T) {
	f := newFixture(t)
	f.api.opts.Auth = mustAuthWithRate(t, f)
	var last *http.Response
	for i := 0; i < 6; i++ {
		last = post(t, http.DefaultClient, f.srv.URL+"/api/v1/login", `{"user":"pwuser","password":"wrong guess number"}`, nil)
		io.Copy(io.Discard, last.Body)
		last.Body.Close()
	}
	if last.StatusCode != 429 || last.Header.Get("Retry-After") == "" {
		t.Fatalf("6th attempt = %d", last.StatusCode)
	}
}

// TestLoginLimitIsPerUserAndAddress: behind a trusted proxy (as the app
// serves the API, edge.UseRealIP), someone guessing pwuser's password
// from one client address gets 429 with Retry-After after 5 failures,
// while pwuser signs in from another address. Before, the 5 a minute
// per user name locked pwuser out from everywhere.
func TestLoginLimitIsPerUserAndAddress(t *testing.T) {
	f := newFixture(t)
	f.api.opts.Auth = mustAuthWithRate(t, f)
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		edge.UseRealIP(r, loopback)
		f.api.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	from := func(client, password string) *http.Response {
		resp := post(t, http.DefaultClient, srv.URL+"/api/v1/login", `{"user":"pwuser","password":"`+password+`"}`,
			map[string]string{"X-Forwarded-For": client})
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for i := range 5 {
		if resp := from("203.0.113.66", "wrong guess number"); resp.StatusCode != 401 {
			t.Fatalf("guess %d = %d, want 401", i+1, resp.StatusCode)
		}
	}
	for _, pw := range []string{"wrong guess number", "correct horse battery"} {
		if resp := from("203.0.113.66", pw); resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("from the guessing address = %d, Retry-After %q; want 429 with it", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if resp := from("198.51.100.7", "correct horse battery"); resp.StatusCode != 200 {
		t.Fatalf("pwuser from another address = %d, want 200", resp.StatusCode)
	}
	recs, _ := f.log.Query(bg, audit.Filter{Action: "auth.login", Actor: "pwuser", Newest: true, Limit: 8})
	sources := map[string]int{}
	for _, r := range recs {
		sources[r.Source+" "+r.Outcome]++
	}
	if sources["203.0.113.66 failed"] != 5 || sources["203.0.113.66 rate_limited"] != 2 || sources["198.51.100.7 ok"] != 1 {
		t.Fatalf("the audit records of the attempts by source: %v", sources)
	}
}

// mustAuthWithRate is the fixture's auth service with the default login
// rate limits.
func mustAuthWithRate(t *testing.T, f *fixture) *auth.Service {
	svc, err := auth.New(auth.Options{DB: f.db, Audit: f.log, Now: f.clock, Argon2: auth.Argon2{Time: 1, Memory: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestCurrentPasswordIsUnderTheLoginLimits: changing your own password
// checks the current one under the sign-in limits. A stolen session or
// token of pwuser could otherwise guess pwuser's password without limit
// (each wrong guess a 403) and then set a new one: now the 6th guess from
// one address gets 429 with Retry-After before the password is checked,
// the right one too, and so does a sign-in from there.
func TestCurrentPasswordIsUnderTheLoginLimits(t *testing.T) {
	f := newFixture(t)
	svc := mustAuthWithRate(t, f)
	f.api.opts.Auth = svc
	f.tokens["pw"] = f.mint("pwuser", auth.TokenRequest{})
	change := func(current string) *http.Response {
		resp := f.send("pw", "PUT", "/api/v1/users/pwuser/password",
			PasswordRequest{Password: "a brand new passphrase", Current: current})
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for i := range 5 {
		if resp := change(fmt.Sprintf("wrong guess %d", i)); resp.StatusCode != 403 {
			t.Fatalf("guess %d = %d, want 403", i+1, resp.StatusCode)
		}
	}
	if resp := change("correct horse battery"); resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("6th try = %d, Retry-After %q; want 429 with it", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if !svc.CheckPassword(bg, "pwuser", "correct horse battery") {
		t.Fatal("the password changed past the limit")
	}
	login := post(t, http.DefaultClient, f.srv.URL+"/api/v1/login", `{"user":"pwuser","password":"correct horse battery"}`, nil)
	login.Body.Close()
	if login.StatusCode != 429 {
		t.Fatalf("sign-in after 5 wrong current passwords = %d, want 429", login.StatusCode)
	}
	f.advance(time.Minute) // the buckets are full again
	if resp := change("correct horse battery"); resp.StatusCode != 204 {
		t.Fatalf("with the right current password a minute later = %d, want 204", resp.StatusCode)
	}
	if !svc.CheckPassword(bg, "pwuser", "a brand new passphrase") {
		t.Fatal("the new password was not set")
	}
}
