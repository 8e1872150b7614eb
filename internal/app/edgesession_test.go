package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestEdgeSessionsSurviveARestart: with the vault open, the key that signs
// site visitors' session cookies lives in the vault, so a visitor signed
// in before a restart is still signed in after it (and on any replica,
// which share the vault). Without a vault the key is the process's own:
// the same cookie is no longer accepted after a restart.
func TestEdgeSessionsSurviveARestart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, master string
		survives     bool
	}{
		{"vault", "a master key for the edge session test", true},
		{"no vault", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := testkit.OIDCProvider(t)
			cfg := op.Config()
			dir := t.TempDir()
			opts := Options{DataDir: dir, MasterKey: vault.SecretString(tc.master), VaultKDF: cheapKDF,
				OIDC: &auth.OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
					RedirectURL: "http://127.0.0.1:1/ui/login/oidc/callback", Label: "Mock"}}
			a := startOpts(t, opts)
			deploySite(t, a, "staging", "v1", "site", map[string]string{"index.html": "<h1>home</h1>"})
			if _, err := a.Auth.CreateUser(context.Background(), "jane", "", []auth.Grant{{Role: "contributor", Project: "shop"}}); err != nil {
				t.Fatal(err)
			}
			if err := a.Auth.LinkIdentity(context.Background(), "jane", auth.OIDCProviderName, "sub-jane"); err != nil {
				t.Fatal(err)
			}
			site := strings.TrimSuffix(a.EdgeURL("shop", "staging"), "/")
			c := visitor(t, a)
			op.QueueUser(&mockoidc.MockUser{Subject: "sub-jane", PreferredUsername: "jane"})
			if code, _ := fetch(t, c, site+"/.auth/login/aad"); code != http.StatusOK {
				t.Fatalf("sign-in: %d", code)
			}
			if _, me := fetch(t, c, site+"/.auth/me"); !strings.Contains(me, `"userDetails":"jane"`) {
				t.Fatalf("/.auth/me before the restart: %s", me)
			}
			u, _ := url.Parse(site + "/")
			cookies := c.Jar.Cookies(u)
			a.Stop(context.Background())

			b := startOpts(t, opts)
			c2 := visitor(t, b)
			site2 := strings.TrimSuffix(b.EdgeURL("shop", "staging"), "/")
			u2, _ := url.Parse(site2 + "/")
			c2.Jar.SetCookies(u2, cookies)
			_, me := fetch(t, c2, site2+"/.auth/me")
			if got := strings.Contains(me, `"userDetails":"jane"`); got != tc.survives {
				t.Fatalf("/.auth/me after the restart: %s (signed in: %v, want %v)", me, got, tc.survives)
			}
		})
	}
}
