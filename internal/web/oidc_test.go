package web_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// ssoFixture is a Phoenix server whose single sign-on goes to a mock
// OpenID provider on loopback.
type ssoFixture struct {
	*fixture
	op *mockoidc.MockOIDC
}

func newSSOFixture(t *testing.T, set func(*auth.OIDCConfig)) *ssoFixture {
	t.Helper()
	op := testkit.OIDCProvider(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0") // the API's port must be known for the redirect URL
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()
	cfg := op.Config()
	oc := &auth.OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		RedirectURL: "http://" + listen + "/ui/login/oidc/callback", Label: "Mock"}
	if set != nil {
		set(oc)
	}
	f := newFixtureOpts(t, func(o *app.Options) { o.Listen, o.OIDC = listen, oc })
	return &ssoFixture{fixture: f, op: op}
}

// looseJar keeps cookies per host and, unlike net/http/cookiejar, sends
// Secure ones over the loopback's plain HTTP too (as the tests' browser does).
type looseJar struct {
	mu sync.Mutex
	m  map[string]map[string]string
}

func (j *looseJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.m[u.Host] == nil {
		j.m[u.Host] = map[string]string{}
	}
	for _, c := range cs {
		if c.MaxAge < 0 || c.Value == "" {
			delete(j.m[u.Host], c.Name)
		} else {
			j.m[u.Host][c.Name] = c.Value
		}
	}
}

func (j *looseJar) Cookies(u *url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for n, v := range j.m[u.Host] {
		out = append(out, &http.Cookie{Name: n, Value: v})
	}
	return out
}

// ssoBrowser follows redirects across the server and the provider.
type ssoBrowser struct {
	t    *testing.T
	base string
	jar  *looseJar
	c    *http.Client
	last string // the last URL a redirect went to, for replays
}

func (f *ssoFixture) browser() *ssoBrowser {
	b := &ssoBrowser{t: f.t, base: f.a.APIURL(), jar: &looseJar{m: map[string]map[string]string{}}}
	b.c = &http.Client{Jar: b.jar, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		b.last = r.URL.String()
		return nil
	}}
	return b
}

func (b *ssoBrowser) get(u string) (*http.Response, string) {
	b.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = b.base + u
	}
	resp, err := b.c.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// signIn goes from the sign-in link through the provider back to the
// dashboard, and returns the signed-in page's answer.
func (b *ssoBrowser) signIn(next string) (*http.Response, string) {
	b.t.Helper()
	return b.get("/ui/login/oidc?next=" + url.QueryEscape(next))
}

// callbackURL starts a sign-in and stops where the provider sends the
// browser back, returning that URL unvisited.
func (b *ssoBrowser) callbackURL() *url.URL {
	b.t.Helper()
	b.c.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if strings.Contains(r.URL.Path, "/ui/login/oidc/callback") {
			b.last = r.URL.String()
			return http.ErrUseLastResponse
		}
		return nil
	}
	b.signIn("/")
	u, err := url.Parse(b.last)
	if err != nil || u.Query().Get("code") == "" {
		b.t.Fatalf("the provider sent the browser back to %q", b.last)
	}
	return u
}

func (f *ssoFixture) link(user, subject string) {
	f.t.Helper()
	if err := f.a.Auth.LinkIdentity(context.Background(), user, auth.OIDCProviderName, subject); err != nil {
		f.t.Fatal(err)
	}
}

// janeSignsInNext adds jane, a viewer linked to the provider's subject
// sub-jane, whom the provider signs in next.
func (f *ssoFixture) janeSignsInNext() {
	f.t.Helper()
	f.addUser("jane", "viewer", "")
	f.link("jane", "sub-jane")
	f.op.QueueUser(&mockoidc.MockUser{Subject: "sub-jane", PreferredUsername: "jane.doe", Email: "jane@example.com"})
}

func (f *ssoFixture) setEmail(user, email string) {
	f.t.Helper()
	if err := f.admin.Do(context.Background(), "PUT", "/api/v1/users/"+user+"/email", api.EmailRequest{Email: email}, nil); err != nil {
		f.t.Fatal(err)
	}
}

func TestSingleSignOnSignsALinkedUserIn(t *testing.T) {
	f := newSSOFixture(t, nil)
	f.janeSignsInNext()

	b := f.browser()
	_, login := b.get("/ui/login")
	if !strings.Contains(login, `href="/ui/login/oidc?next=%2f"`) || !strings.Contains(login, "Sign in with Mock") {
		t.Fatalf("the sign-in page has no single sign-on link:\n%s", login)
	}
	resp, body := b.signIn("/ui/tokens")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `content="0;url=/ui/tokens"`) {
		t.Fatalf("callback: %d %s", resp.StatusCode, body)
	}
	if b.jar.m[strings.TrimPrefix(f.a.APIURL(), "http://")]["__Host-phoenix_oidc"] != "" {
		t.Fatal("the state cookie outlived the sign-in")
	}
	resp, body = b.get("/ui/tokens")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "jane") {
		t.Fatalf("the dashboard after single sign-on: %d %s", resp.StatusCode, body)
	}
	recs := auditRecords(t, f.fixture, "auth.login")
	last := recs[len(recs)-1]
	if last.Actor != "jane" || last.Target != "oidc" || last.Outcome != "ok" {
		t.Fatalf("audit record of the sign-in: %+v", last)
	}
	cfg := f.op.Config()
	if strings.Contains(f.logs.String(), cfg.ClientSecret) {
		t.Fatal("the client secret is in the server log")
	}
}

func TestSingleSignOnRefusesAWrongState(t *testing.T) {
	f := newSSOFixture(t, nil)
	f.addUser("jane", "viewer", "")
	f.link("jane", "1234567890")
	b := f.browser()
	u := b.callbackURL()
	q := u.Query()
	q.Set("state", "forged")
	u.RawQuery = q.Encode()
	resp, body := b.get(u.String())
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "does not match this browser") {
		t.Fatalf("wrong state: %d %s", resp.StatusCode, body)
	}
	resp, body = b.get("/ui/tokens")
	if strings.Contains(body, "Signed in as") || resp.Request.URL.Path != "/ui/login" {
		t.Fatalf("a wrong state signed in: %s", resp.Request.URL)
	}
	recs := auditRecords(t, f.fixture, "auth.login")
	if last := recs[len(recs)-1]; last.Target != "oidc" || last.Outcome == "ok" {
		t.Fatalf("the refusal is not audited: %+v", last)
	}
}

func TestSingleSignOnRefusesAReplayedCode(t *testing.T) {
	f := newSSOFixture(t, nil)
	f.addUser("jane", "viewer", "")
	f.link("jane", "1234567890")
	b := f.browser()
	if resp, body := b.signIn("/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("first sign-in: %d %s", resp.StatusCode, body)
	}
	used, _ := url.Parse(b.last)
	// A second sign-in started in the browser, finished with the old code.
	fresh := b.callbackURL()
	q := fresh.Query()
	q.Set("code", used.Query().Get("code"))
	fresh.RawQuery = q.Encode()
	resp, body := b.get(fresh.String())
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "did not accept the code") {
		t.Fatalf("replayed code: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, f.op.Config().ClientSecret) || strings.Contains(f.logs.String(), f.op.Config().ClientSecret) {
		t.Fatal("the client secret is in the answer or the log")
	}
}

func TestSingleSignOnRefusesAnUnknownIdentity(t *testing.T) {
	f := newSSOFixture(t, nil)
	b := f.browser()
	resp, body := b.signIn("/")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "no Phoenix user is linked") {
		t.Fatalf("unknown identity: %d %s", resp.StatusCode, body)
	}
	if _, err := f.a.Auth.User(context.Background(), "jane.doe"); err == nil {
		t.Fatal("an unknown identity got a user without auto-provisioning")
	}
}

func TestSingleSignOnLinksTheUserOfAVerifiedEmail(t *testing.T) {
	f := newSSOFixture(t, nil)
	f.addUser("jane", "viewer", "")
	f.setEmail("jane", "Jane.Doe@Example.com")
	b := f.browser()
	if resp, body := b.signIn("/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in by verified email: %d %s", resp.StatusCode, body)
	}
	// The link stays when the email changes at the provider.
	f.op.QueueUser(&mockoidc.MockUser{Subject: "1234567890", PreferredUsername: "jd", Email: "new@example.com", EmailVerified: true})
	if resp, body := f.browser().signIn("/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("second sign-in: %d %s", resp.StatusCode, body)
	}
	// An unverified email links nobody.
	f.addUser("eve", "admin", "")
	f.setEmail("eve", "eve@example.com")
	f.op.QueueUser(&mockoidc.MockUser{Subject: "sub-eve", PreferredUsername: "eve", Email: "eve@example.com"})
	if resp, _ := f.browser().signIn("/"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an unverified email signed in: %d", resp.StatusCode)
	}
}

func TestSingleSignOnProvisionsWithMappedRoles(t *testing.T) {
	f := newSSOFixture(t, func(c *auth.OIDCConfig) {
		c.AutoProvision, c.DefaultRole, c.GroupsClaim, c.Scopes = true, "viewer", "groups", []string{"groups"}
		c.RoleMap = map[string]string{"design": "contributor"}
	})
	b := f.browser()
	if resp, body := b.signIn("/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("auto-provisioned sign-in: %d %s", resp.StatusCode, body)
	}
	u, err := f.a.Auth.User(context.Background(), "jane.doe")
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Grants) != 1 || u.Grants[0].Role != "contributor" {
		t.Fatalf("grants of the provisioned user: %+v", u.Grants)
	}
	f.op.QueueUser(&mockoidc.MockUser{Subject: "sub-bob", PreferredUsername: "bob"})
	if resp, body := f.browser().signIn("/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("second provisioned sign-in: %d %s", resp.StatusCode, body)
	}
	if u, err := f.a.Auth.User(context.Background(), "bob"); err != nil || len(u.Grants) != 1 || u.Grants[0].Role != "viewer" {
		t.Fatalf("bob: %+v %v", u, err)
	}
}

func TestSingleSignOnIsRateLimited(t *testing.T) {
	f := newSSOFixture(t, nil)
	b := f.browser()
	var last *http.Response
	for range 11 { // 10 a minute from one address, as for passwords
		last, _ = b.get("/ui/login/oidc/callback?code=c&state=s")
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("the 11th callback in a minute: %d", last.StatusCode)
	}
	recs := auditRecords(t, f.fixture, "auth.login")
	if recs[len(recs)-1].Outcome != "rate_limited" {
		t.Fatalf("the limited attempt is not audited as such: %+v", recs[len(recs)-1])
	}
}

// TestSingleSignOnOfADisabledUserChangesNothing: the provider vouches
// for a disabled user whose groups now map to admin; the sign-in is
// refused before the roles are synced or a session opened, and audited
// once with the reason. Enabled again, the same sign-in syncs the roles.
func TestSingleSignOnOfADisabledUserChangesNothing(t *testing.T) {
	f := newSSOFixture(t, func(c *auth.OIDCConfig) {
		c.GroupsClaim, c.Scopes, c.RoleMap = "groups", []string{"groups"}, map[string]string{"design": "admin"}
	})
	ctx := context.Background()
	f.addUser("jane", "viewer", "")
	f.link("jane", "sub-jane")
	if err := f.a.Auth.SetDisabled(ctx, "jane", true); err != nil {
		t.Fatal(err)
	}
	jane := &mockoidc.MockUser{Subject: "sub-jane", PreferredUsername: "jane", Groups: []string{"design"}}
	f.op.QueueUser(jane)
	b := f.browser()
	resp, body := b.signIn("/")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "is disabled") {
		t.Fatalf("a disabled user's sign-in: %d %s", resp.StatusCode, body)
	}
	if got := f.roles("jane"); !slices.Equal(got, []string{"viewer"}) {
		t.Fatalf("a refused sign-in changed the roles to %v", got)
	}
	if resp, _ := b.get("/ui/tokens"); resp.Request.URL.Path != "/ui/login" {
		t.Fatalf("a refused sign-in left a session: %s", resp.Request.URL)
	}
	if recs := auditRecords(t, f.fixture, "user.grant.sync"); len(recs) != 0 {
		t.Fatalf("a refused sign-in synced roles: %+v", recs)
	}
	var refusals []audit.Record
	for _, r := range auditRecords(t, f.fixture, "auth.login") {
		if r.Target == "oidc" {
			refusals = append(refusals, r)
		}
	}
	if len(refusals) != 1 || refusals[0].Outcome != "failed" || refusals[0].Actor != "jane" || refusals[0].Detail != "user disabled" {
		t.Fatalf("audit of the refusal: %+v", refusals)
	}
	if err := f.a.Auth.SetDisabled(ctx, "jane", false); err != nil {
		t.Fatal(err)
	}
	f.op.QueueUser(jane)
	if resp, body := f.browser().signIn("/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("enabled again: %d %s", resp.StatusCode, body)
	}
	if got := f.roles("jane"); !slices.Equal(got, []string{"admin", "viewer"}) {
		t.Fatalf("an enabled user's sign-in synced the roles to %v", got)
	}
}

// roles lists the roles of the user's grants, sorted.
func (f *ssoFixture) roles(user string) []string {
	f.t.Helper()
	u, err := f.a.Auth.User(context.Background(), user)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, g := range u.Grants {
		out = append(out, g.Role)
	}
	slices.Sort(out)
	return out
}

// TestSingleSignOnEndsTheReplacedSession: signing in with single sign-on
// in a browser that holds a session (another user's, say) ends that
// session on the server, as a password sign-in does. The provider sends
// the browser back without the SameSite=Strict session cookie, so the
// test's browser leaves it out of the callback, as browsers do.
func TestSingleSignOnEndsTheReplacedSession(t *testing.T) {
	f := newSSOFixture(t, nil)
	f.addUser("vera", "viewer", adminPW)
	f.janeSignsInNext()
	host := strings.TrimPrefix(f.a.APIURL(), "http://")

	b := f.browser()
	_, page := b.get("/ui/login")
	m := nonceRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("sign-in form without a nonce:\n%s", page)
	}
	resp, err := b.c.PostForm(b.base+"/ui/login", url.Values{"user": {"vera"}, "password": {adminPW}, "nonce": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	first := b.jar.m[host]["__Host-phoenix_session"]
	if first == "" {
		t.Fatalf("vera's password sign-in: %d, no session", resp.StatusCode)
	}

	callback := b.callbackURL()
	delete(b.jar.m[host], "__Host-phoenix_session") // not sent from the provider's site
	if resp, body := b.get(callback.String()); resp.StatusCode != http.StatusOK {
		t.Fatalf("jane's single sign-on: %d %s", resp.StatusCode, body)
	}
	if now := b.jar.m[host]["__Host-phoenix_session"]; now == "" || now == first {
		t.Fatalf("the session after single sign-on: %q", now)
	}
	req, _ := http.NewRequest("GET", b.base+"/api/v1/me", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-phoenix_session", Value: first})
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("vera's session still works at the API after jane signed in: %d", resp.StatusCode)
	}
}

// TestSingleSignOnTakesTheProvidersOwnParameters: the provider may send
// the browser back with parameters of its own (iss, session_state), which
// the callback takes; the API's start of a sign-in, called by the
// dashboard, refuses a parameter it does not know like every route.
func TestSingleSignOnTakesTheProvidersOwnParameters(t *testing.T) {
	f := newSSOFixture(t, nil)
	f.janeSignsInNext()
	b := f.browser()
	u := b.callbackURL()
	q := u.Query()
	q.Set("iss", f.op.Config().Issuer)
	q.Set("session_state", "a1b2")
	u.RawQuery = q.Encode()
	if resp, body := b.get(u.String()); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Signed in") {
		t.Fatalf("callback with the provider's parameters: %d %s", resp.StatusCode, body)
	}
	resp, body := b.get("/api/v1/login/oidc?nxt=/ui/tokens")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `unknown query parameter \"nxt\"`) ||
		!strings.Contains(body, "did you mean next?") {
		t.Fatalf("a mistyped parameter of the sign-in's start: %d %s", resp.StatusCode, body)
	}
}
