package app

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// ssoSite is a server with single sign-on through a mock provider and a
// site in shop/staging whose /admin.html only contributors may see.
func ssoSite(t *testing.T) (*App, *mockoidc.MockOIDC) {
	t.Helper()
	op := testkit.OIDCProvider(t)
	cfg := op.Config()
	a := startOpts(t, Options{DataDir: t.TempDir(), OIDC: &auth.OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, RedirectURL: "http://127.0.0.1:1/ui/login/oidc/callback", Label: "Mock"}})
	deploySite(t, a, "staging", "v1", "site", map[string]string{"index.html": "<h1>home</h1>",
		"admin.html":               "<h1>admin area</h1>",
		"staticwebapp.config.json": `{"routes": [{"route": "/admin.html", "allowedRoles": ["contributor"]}]}`})
	ctx := context.Background()
	for name, g := range map[string]auth.Grant{"jane": {Role: "contributor", Project: "shop"},
		"vic": {Role: "contributor", Project: "other"}} {
		if _, err := a.Auth.CreateUser(ctx, name, "", []auth.Grant{g}); err != nil {
			t.Fatal(err)
		}
		if err := a.Auth.LinkIdentity(ctx, name, auth.OIDCProviderName, "sub-"+name); err != nil {
			t.Fatal(err)
		}
	}
	return a, op
}

// visitor is a browser that reaches *.localhost on the edge's port.
func visitor(t *testing.T, a *App) *http.Client {
	jar, _ := cookiejar.New(nil)
	edgeAddr := a.edgeAddr.String()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, _ := net.SplitHostPort(addr); strings.HasSuffix(host, ".localhost") {
			addr = edgeAddr
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Jar: jar, Transport: tr}
}

func fetch(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEdgeSignsVisitorsInThroughSingleSignOn(t *testing.T) {
	t.Parallel()
	a, op := ssoSite(t)
	site := strings.TrimSuffix(a.EdgeURL("shop", "staging"), "/")

	c := visitor(t, a)
	if code, body := fetch(t, c, site+"/admin.html"); strings.Contains(body, "admin area") {
		t.Fatalf("/admin.html without signing in: %d %s", code, body)
	}
	op.QueueUser(&mockoidc.MockUser{Subject: "sub-jane", PreferredUsername: "jane"})
	code, body := fetch(t, c, site+"/.auth/login/aad?post_login_redirect_uri=/admin.html")
	if code != http.StatusOK || !strings.Contains(body, "admin area") {
		t.Fatalf("after signing in as a contributor of shop: %d %s", code, body)
	}
	if _, me := fetch(t, c, site+"/.auth/me"); !strings.Contains(me, `"userDetails":"jane"`) || !strings.Contains(me, `"contributor"`) {
		t.Fatalf("/.auth/me: %s", me)
	}

	// A contributor of another project is signed in without the role here.
	c2 := visitor(t, a)
	op.QueueUser(&mockoidc.MockUser{Subject: "sub-vic", PreferredUsername: "vic"})
	if code, body := fetch(t, c2, site+"/.auth/login/aad?post_login_redirect_uri=/admin.html"); strings.Contains(body, "admin area") {
		t.Fatalf("vic reached /admin.html: %d", code)
	}
	if _, me := fetch(t, c2, site+"/.auth/me"); !strings.Contains(me, `"userDetails":"vic"`) || strings.Contains(me, `"contributor"`) {
		t.Fatalf("/.auth/me of vic: %s", me)
	}

	// An unknown identity is refused, with the reason.
	c3 := visitor(t, a)
	op.QueueUser(&mockoidc.MockUser{Subject: "sub-eve", PreferredUsername: "eve"})
	if code, body := fetch(t, c3, site+"/.auth/login/aad"); code != http.StatusUnauthorized || !strings.Contains(body, "no Phoenix user is linked") {
		t.Fatalf("unknown identity: %d %s", code, body)
	}
	// A forged state is refused.
	if code, body := fetch(t, c3, site+"/.auth/login/aad?code=x&state=forged"); code != http.StatusUnauthorized || !strings.Contains(body, "state") {
		t.Fatalf("forged state: %d %s", code, body)
	}
	recs, err := a.Audit.Query(context.Background(), audit.Filter{Action: "auth.login"})
	if err != nil {
		t.Fatal(err)
	}
	var edgeOK int
	for _, r := range recs {
		if r.Target == "oidc" && r.Outcome == "ok" && strings.HasPrefix(r.Detail, "edge staging.shop") {
			edgeOK++
		}
	}
	if edgeOK != 2 {
		t.Fatalf("edge sign-ins in the audit log: %d, want 2", edgeOK)
	}
}

// TestEdgeSessionFollowsTheUser: a site visitor's session is checked
// against the user's state at every request, not only its cookie's
// signature: disabling the user makes the next request anonymous (and a
// new sign-in is refused, saying why), enabling them again brings the
// session back, and a revoked grant is gone from the next request.
func TestEdgeSessionFollowsTheUser(t *testing.T) {
	t.Parallel()
	a, op := ssoSite(t)
	ctx := context.Background()
	setGrants := func(gs ...auth.Grant) {
		t.Helper()
		if _, err := a.Auth.SetGrants(ctx, "jane", gs); err != nil {
			t.Fatal(err)
		}
	}
	setDisabled := func(disabled bool) {
		t.Helper()
		if err := a.Auth.SetDisabled(ctx, "jane", disabled); err != nil {
			t.Fatal(err)
		}
	}
	contributor, approver := auth.Grant{Role: "contributor", Project: "shop"}, auth.Grant{Role: "approver"}
	setGrants(contributor, approver)
	site := strings.TrimSuffix(a.EdgeURL("shop", "staging"), "/")
	c := visitor(t, a)
	op.QueueUser(&mockoidc.MockUser{Subject: "sub-jane", PreferredUsername: "jane"})
	if code, body := fetch(t, c, site+"/.auth/login/aad?post_login_redirect_uri=/admin.html"); code != http.StatusOK || !strings.Contains(body, "admin area") {
		t.Fatalf("signed in as a contributor: %d %s", code, body)
	}
	if _, me := fetch(t, c, site+"/.auth/me"); !strings.Contains(me, `"userRoles":["anonymous","authenticated","approver","contributor"]`) {
		t.Fatalf("/.auth/me: %s", me)
	}

	setDisabled(true)
	if code, body := fetch(t, c, site+"/admin.html"); code != http.StatusUnauthorized {
		t.Fatalf("/admin.html of a disabled user: %d %s, want 401", code, body)
	}
	if _, me := fetch(t, c, site+"/.auth/me"); strings.TrimSpace(me) != `{"clientPrincipal":null}` {
		t.Fatalf("/.auth/me of a disabled user: %s", me)
	}
	op.QueueUser(&mockoidc.MockUser{Subject: "sub-jane", PreferredUsername: "jane"})
	code, body := fetch(t, c, site+"/.auth/login/aad?post_login_redirect_uri=/admin.html")
	if code != http.StatusUnauthorized || !strings.Contains(body, "is disabled") || strings.Contains(body, "token") {
		t.Fatalf("a disabled user signing in: %d %s", code, body)
	}

	setDisabled(false)
	if code, _ := fetch(t, c, site+"/admin.html"); code != http.StatusOK {
		t.Fatalf("/admin.html of the user enabled again: %d", code)
	}
	setGrants(approver)
	if code, _ := fetch(t, c, site+"/admin.html"); code != http.StatusForbidden {
		t.Fatalf("/admin.html after contributor was revoked: %d, want 403", code)
	}
	if _, me := fetch(t, c, site+"/.auth/me"); !strings.Contains(me, `"userRoles":["anonymous","authenticated","approver"]`) {
		t.Fatalf("/.auth/me after contributor was revoked: %s", me)
	}
	setGrants(contributor)
	if code, _ := fetch(t, c, site+"/admin.html"); code != http.StatusOK {
		t.Fatalf("/admin.html with contributor granted again: %d", code)
	}
}

// TestEdgeLoginProviders: the edge signs visitors in at the providers
// 'phoenix validate' accepts quietly (swa.LoginProviders) and no other.
func TestEdgeLoginProviders(t *testing.T) {
	t.Parallel()
	a, op := ssoSite(t)
	site := strings.TrimSuffix(a.EdgeURL("shop", "staging"), "/")
	for _, p := range []string{"aad", "oidc"} {
		op.QueueUser(&mockoidc.MockUser{Subject: "sub-jane", PreferredUsername: "jane"})
		if code, body := fetch(t, visitor(t, a), site+"/.auth/login/"+p+"?post_login_redirect_uri=/admin.html"); code != http.StatusOK || !strings.Contains(body, "admin area") {
			t.Errorf("/.auth/login/%s: %d %s", p, code, body)
		}
	}
	for _, p := range []string{"github", "twitter", "AAD"} {
		if code, body := fetch(t, visitor(t, a), site+"/.auth/login/"+p); code != http.StatusNotFound || !strings.Contains(body, "no such login provider") {
			t.Errorf("/.auth/login/%s: %d %s", p, code, body)
		}
	}
}

// TestEdgeSSORefusalStatus: a site visitor's refused single sign-on says
// why with the status that fits: 429 past the sign-in limits, 503 when the
// limits could not be checked (a replica's database down), else 401.
func TestEdgeSSORefusalStatus(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err  error
		want int
	}{
		{auth.ErrRateLimited, http.StatusTooManyRequests},
		{usererr.Wrap(usererr.Unavailable, errors.New("database down"), "sign-in is unavailable: the sign-in limits cannot be checked"), http.StatusServiceUnavailable},
		{errors.New("the provider refused"), http.StatusUnauthorized},
	} {
		w := httptest.NewRecorder()
		edgeSSO{}.refuse(w, tt.err)
		if w.Code != tt.want || !strings.Contains(w.Body.String(), "Sign-in refused") {
			t.Errorf("%v: %d %q, want %d", tt.err, w.Code, w.Body.String(), tt.want)
		}
	}
}
