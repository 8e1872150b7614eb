package edge

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var protectedSite = map[string]string{
	"index.html":       "home",
	"admin/index.html": "secret admin page",
	"staticwebapp.config.json": `{"routes":[{"route":"/admin*","allowedRoles":["admin"]}],
	  "responseOverrides":{"401":{"statusCode":302,"redirect":"/.auth/login/dev"}}}`,
}

var testKey = []byte("0123456789abcdef0123456789abcdef")

func authEdge(t *testing.T, opts Options) *testEdge {
	t.Helper()
	opts.SessionKey = testKey
	if opts.Authenticator == nil {
		opts.Authenticator = &DevLogin{Users: []DevUser{
			{Name: "ada", Password: "pw", Roles: []string{"admin"}},
			{Name: "bob", Password: "pw2"},
		}}
	}
	return newTestEdge(t, mustSite(t, protectedSite), opts)
}

// login posts the dev form and returns the session cookie header.
func login(t *testing.T, e *testEdge, user, pass string) (int, string) {
	t.Helper()
	form := url.Values{"username": {user}, "password": {pass}, "post_login_redirect_uri": {"/admin/"}}
	req, _ := http.NewRequest("POST", e.URL+"/.auth/login/dev", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Fatalf("session cookie lacks HttpOnly/SameSite: %+v", c)
			}
			if resp.Header.Get("Location") != "/admin/" {
				t.Fatalf("login redirect to %q", resp.Header.Get("Location"))
			}
			return resp.StatusCode, c.Name + "=" + c.Value
		}
	}
	return resp.StatusCode, ""
}

func TestLoginAndRoles(t *testing.T) {
	e := authEdge(t, Options{})
	if r := e.get(t, "/admin/", nil); r.status != 302 || r.header.Get("Location") != "/.auth/login/dev" {
		t.Fatalf("anonymous: %d %q, want 302 to login", r.status, r.header.Get("Location"))
	}
	if form := e.get(t, "/.auth/login/dev", nil); form.status != 200 || !strings.Contains(form.body, "<form") {
		t.Fatalf("login page: %d %q", form.status, form.body)
	}
	if st, c := login(t, e, "ada", "wrong"); st != 401 || c != "" {
		t.Fatalf("wrong password: status %d cookie %q", st, c)
	}
	_, ada := login(t, e, "ada", "pw")
	if r := e.get(t, "/admin/", map[string]string{"Cookie": ada}); r.status != 200 || r.body != "secret admin page" {
		t.Fatalf("admin with role: %d %q", r.status, r.body)
	}
	_, bob := login(t, e, "bob", "pw2")
	if r := e.get(t, "/admin/", map[string]string{"Cookie": bob}); r.status != 403 {
		t.Fatalf("signed in without role: %d, want 403", r.status)
	}
	me := e.get(t, "/.auth/me", map[string]string{"Cookie": ada})
	var got struct{ ClientPrincipal *Principal }
	if err := json.Unmarshal([]byte(me.body), &got); err != nil || got.ClientPrincipal == nil ||
		got.ClientPrincipal.UserID != "ada" || strings.Join(got.ClientPrincipal.UserRoles, ",") != "anonymous,authenticated,admin" {
		t.Fatalf("/.auth/me = %s (%v)", me.body, err)
	}
	if anon := e.get(t, "/.auth/me", nil); strings.TrimSpace(anon.body) != `{"clientPrincipal":null}` {
		t.Fatalf("anonymous /.auth/me = %s", anon.body)
	}
	out := e.get(t, "/.auth/logout?post_logout_redirect_uri=https://evil.example/", map[string]string{"Cookie": ada})
	if out.status != 302 || out.header.Get("Location") != "/" || !strings.Contains(out.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout: %d %v", out.status, out.header)
	}
}

func TestForgedSessionsRejected(t *testing.T) {
	e := authEdge(t, Options{})
	now := time.Now()
	good := sessionSigner{key: testKey, ttl: time.Hour}
	other := sessionSigner{key: []byte("another key of 32 bytes......!!!"), ttl: time.Hour}
	admin := Principal{IdentityProvider: "dev", UserID: "eve", UserRoles: []string{"admin"}}
	valid, _ := good.mint(admin, "prod", now)
	body, sig, _ := strings.Cut(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(body)
	tampered := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"eve"`, `"mal"`, 1))) + "." + sig
	wrongKey, _ := other.mint(admin, "prod", now)
	otherEnv, _ := good.mint(admin, "staging", now)
	expired, _ := good.mint(admin, "prod", now.Add(-2*time.Hour))
	swaStyle := base64.StdEncoding.EncodeToString([]byte(`{"userId":"eve","userRoles":["admin","authenticated"]}`))
	tests := []struct{ name, cookie string }{
		{"tampered payload", tampered},
		{"signed with another key", wrongKey},
		{"issued for another environment", otherEnv},
		{"expired", expired},
		{"unsigned SWA emulator cookie", swaStyle},
		{"garbage", "...."},
		{"payload only", body},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(t, "/admin/", map[string]string{"Cookie": SessionCookie + "=" + tc.cookie + "; StaticWebAppsAuthCookie=" + swaStyle})
			if r.status != 302 {
				t.Fatalf("forged cookie got %d %q, want 302 to login", r.status, r.body)
			}
		})
	}
	t.Run("control: the valid cookie works", func(t *testing.T) {
		if r := e.get(t, "/admin/", map[string]string{"Cookie": SessionCookie + "=" + valid}); r.status != 200 {
			t.Fatalf("valid cookie got %d", r.status)
		}
	})
}

// directory is a Users whose answers a test changes.
type directory struct {
	mu    sync.Mutex
	roles map[string][]string // user -> roles now; absent: disabled or gone
	asked []string            // "user@env" of each call
}

func (d *directory) Roles(user, env string) ([]string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked = append(d.asked, user+"@"+env)
	r, ok := d.roles[user]
	return r, ok
}

func (d *directory) set(user string, roles ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if roles == nil {
		delete(d.roles, user)
		return
	}
	d.roles[user] = roles
}

// TestSessionsFollowUsers: with Options.Users, a session's roles are the
// user's roles now, not the ones frozen in the cookie at sign-in: a user
// gone is anonymous at the next request (login redirect, /.auth/me
// without a principal), a role taken back is gone, and one given back
// returns. The trusted header is not Users' to check.
func TestSessionsFollowUsers(t *testing.T) {
	dir := &directory{roles: map[string][]string{"ada": {"admin"}}}
	e := authEdge(t, Options{Users: dir, TrustedPrincipalHeader: "X-MS-Client-Principal"})
	_, ada := login(t, e, "ada", "pw")
	cookie := map[string]string{"Cookie": ada}
	if r := e.get(t, "/admin/", cookie); r.status != 200 {
		t.Fatalf("signed in with the role: %d", r.status)
	}
	dir.set("ada") // disabled
	if r := e.get(t, "/admin/", cookie); r.status != 302 || r.header.Get("Location") != "/.auth/login/dev" {
		t.Fatalf("a user gone: %d %q, want the anonymous 302 to login", r.status, r.header.Get("Location"))
	}
	if me := e.get(t, "/.auth/me", cookie); strings.TrimSpace(me.body) != `{"clientPrincipal":null}` {
		t.Fatalf("/.auth/me of a user gone: %s", me.body)
	}
	dir.set("ada", "reader") // enabled again, admin taken back
	if r := e.get(t, "/admin/", cookie); r.status != 403 {
		t.Fatalf("signed in without the role any more: %d, want 403", r.status)
	}
	if me := e.get(t, "/.auth/me", cookie); !strings.Contains(me.body, `"userRoles":["anonymous","authenticated","reader"]`) {
		t.Fatalf("/.auth/me after the roles changed: %s", me.body)
	}
	dir.set("ada", "admin")
	if r := e.get(t, "/admin/", cookie); r.status != 200 {
		t.Fatalf("the role given back: %d", r.status)
	}
	dir.mu.Lock()
	asked := slices.Clone(dir.asked)
	dir.mu.Unlock()
	if len(asked) == 0 || asked[0] != "ada@prod" {
		t.Fatalf("Users asked %q, want ada in prod", asked)
	}

	header := base64.StdEncoding.EncodeToString([]byte(`{"userId":"ada","userRoles":["admin"]}`))
	dir.set("ada")
	if r := e.get(t, "/admin/", map[string]string{"X-MS-Client-Principal": header}); r.status != 200 {
		t.Fatalf("the trusted header's principal checked against Users: %d", r.status)
	}
}

func TestTrustedPrincipalHeader(t *testing.T) {
	principal := base64.StdEncoding.EncodeToString([]byte(`{"identityProvider":"aad","userId":"u1","userDetails":"u1","userRoles":["admin"]}`))
	hdr := map[string]string{"X-MS-Client-Principal": principal}
	t.Run("off by default", func(t *testing.T) {
		e := authEdge(t, Options{})
		if r := e.get(t, "/admin/", hdr); r.status != 302 {
			t.Fatalf("header trusted without opt-in: %d", r.status)
		}
	})
	t.Run("on when configured", func(t *testing.T) {
		e := authEdge(t, Options{TrustedPrincipalHeader: "X-MS-Client-Principal"})
		if r := e.get(t, "/admin/", hdr); r.status != 200 {
			t.Fatalf("trusted header ignored: %d", r.status)
		}
		if r := e.get(t, "/admin/", map[string]string{"X-MS-Client-Principal": "%%%"}); r.status != 302 {
			t.Fatalf("malformed header: %d, want anonymous", r.status)
		}
	})
}

// TestLoginNotConfigured: without an Authenticator (phoenix serve, a
// server without --oidc-issuer) every login answers 404; at aad and oidc,
// the providers Phoenix serves, it says sign-in is not set up, not that
// the provider does not exist, which left an operator following a 401's
// redirect to /.auth/login/aad looking for a typo.
func TestLoginNotConfigured(t *testing.T) {
	e := newTestEdge(t, mustSite(t, protectedSite), Options{})
	for path, want := range map[string]string{
		"/.auth/login/github": "no such login provider",
		"/.auth/login/aad":    "sign-in is not available: this server has no single sign-on configured",
		"/.auth/login/oidc":   "sign-in is not available: this server has no single sign-on configured",
	} {
		if r := e.get(t, path, nil); r.status != 404 || !strings.Contains(r.body, want) {
			t.Errorf("%s without Authenticator: %d %q, want 404 %q", path, r.status, r.body, want)
		}
	}
}

func TestLocalRedirect(t *testing.T) {
	tests := map[string]string{"/a?b=1": "/a?b=1", "": "/", "//evil.example": "/", "https://evil.example": "/", `/\evil`: "/", "a": "/"}
	for in, want := range tests {
		if got := localRedirect(in); got != want {
			t.Errorf("localRedirect(%q) = %q, want %q", in, got, want)
		}
	}
}
