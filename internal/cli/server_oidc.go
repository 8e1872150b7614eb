package cli

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// OIDCSecretEnv holds the single sign-on client secret when
// --oidc-client-secret-file is not given; it is removed from the
// environment once read.
const OIDCSecretEnv = "PHOENIX_OIDC_CLIENT_SECRET"

// oidcFlags configure single sign-on (docs/auth.md, Single sign-on).
type oidcFlags struct {
	issuer, clientID, secretFile, redirect, name string
	nameClaims, scopes                           []string
	groupsClaim, roleMap, defaultRole            string
	autoProvision                                bool
}

func addOIDCFlags(f *pflag.FlagSet, of *oidcFlags) {
	f.StringVar(&of.issuer, "oidc-issuer", "", "single sign-on: the OpenID Connect issuer URL, e.g. https://login.microsoftonline.com/TENANT/v2.0")
	f.StringVar(&of.clientID, "oidc-client-id", "", "single sign-on: this server's client (application) id at the provider")
	f.StringVar(&of.secretFile, "oidc-client-secret-file", "", "single sign-on: file holding the client secret (else $"+OIDCSecretEnv+")")
	f.StringVar(&of.redirect, "oidc-redirect-url", "", "single sign-on: the callback registered at the provider, https://HOST/ui/login/oidc/callback")
	f.StringVar(&of.name, "oidc-name", "OpenID Connect", `single sign-on: the provider's label on the sign-in page, e.g. "Microsoft"`)
	f.StringSliceVar(&of.nameClaims, "oidc-user-claim", []string{"preferred_username", "email"}, "single sign-on: claims tried in order for the user name")
	f.StringSliceVar(&of.scopes, "oidc-scope", nil, `single sign-on: scopes to ask for beside openid, profile and email, e.g. "groups"`)
	f.StringVar(&of.groupsClaim, "oidc-groups-claim", "", `single sign-on: claim listing groups or app roles, e.g. "groups" or "roles"`)
	f.StringVar(&of.roleMap, "oidc-role-map", "", "single sign-on: GROUP=ROLE pairs, comma-separated: roles granted, and taken back, by group at each sign-in")
	f.BoolVar(&of.autoProvision, "oidc-auto-provision", false, "single sign-on: create a user for an unknown identity (off: refused)")
	f.StringVar(&of.defaultRole, "oidc-default-role", "viewer", "single sign-on: role of an auto-provisioned user no group maps")
}

// config is the app's OIDC options, nil without --oidc-issuer; a refused
// value is named by name (Globals.flagOrEnv).
func (of oidcFlags) config(name func(flag string) string) (*auth.OIDCConfig, error) {
	secret := os.Getenv(OIDCSecretEnv)
	os.Unsetenv(OIDCSecretEnv)
	if of.issuer == "" {
		return nil, nil
	}
	if u, err := url.Parse(of.issuer); err != nil || (u.Scheme != "https" && !isLoopback(u.Hostname())) || u.Host == "" {
		return nil, usererr.New(usererr.Usage, "%s %q is not an https URL", name("oidc-issuer"), of.issuer).
			WithHint("write e.g. https://login.microsoftonline.com/TENANT/v2.0")
	}
	if of.clientID == "" || of.redirect == "" {
		missing := namesOfSet(func(flag string) string { return "--" + flag }, // neither given: flags
			[]flagSet{{"oidc-client-id", of.clientID == ""}, {"oidc-redirect-url", of.redirect == ""}})
		return nil, usererr.New(usererr.Usage, "%s needs %s", name("oidc-issuer"), joinNames(missing)).
			WithHint("register Phoenix at the provider with the redirect URL https://HOST/ui/login/oidc/callback")
	}
	if of.secretFile != "" {
		b, err := os.ReadFile(of.secretFile)
		if err != nil {
			return nil, usererr.New(usererr.Usage, "%s: %v", name("oidc-client-secret-file"), err)
		}
		secret = strings.TrimSpace(string(b))
	}
	m, err := ParseRoleMap(of.roleMap)
	if err != nil {
		return nil, usererr.New(usererr.Usage, "%s: %v", name("oidc-role-map"), err).WithHint("write e.g. phoenix-admins=admin,phoenix-devs=contributor")
	}
	return &auth.OIDCConfig{Issuer: of.issuer, ClientID: of.clientID, ClientSecret: secret, RedirectURL: of.redirect,
		Label: of.name, NameClaims: of.nameClaims, AutoProvision: of.autoProvision, DefaultRole: of.defaultRole,
		GroupsClaim: of.groupsClaim, RoleMap: m, Scopes: of.scopes}, nil
}

func isLoopback(host string) bool { return host == "127.0.0.1" || host == "::1" || host == "localhost" }

// ParseRoleMap reads GROUP=ROLE pairs separated by commas; a group may
// appear once, neither side may be empty.
func ParseRoleMap(s string) (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for i, pair := range strings.Split(s, ",") {
		g, r, ok := strings.Cut(strings.TrimSpace(pair), "=")
		g, r = strings.TrimSpace(g), strings.TrimSpace(r)
		if !ok || g == "" || r == "" {
			return nil, fmt.Errorf("pair %d %q is not GROUP=ROLE", i+1, pair)
		}
		if _, dup := m[g]; dup {
			return nil, fmt.Errorf("group %q is mapped twice", g)
		}
		m[g] = r
	}
	return m, nil
}
