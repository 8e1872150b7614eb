package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/testkit"
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
