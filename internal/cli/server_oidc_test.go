package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOIDCFlags(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("s3cr3t-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := oidcFlags{issuer: "https://login.microsoftonline.com/T/v2.0", clientID: "app", secretFile: secretFile,
		redirect: "https://phoenix.example.com/ui/login/oidc/callback", name: "Microsoft", roleMap: "g1=admin, g2=viewer"}
	c, err := ok.config(asFlags)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientSecret != "s3cr3t-value" || c.RoleMap["g2"] != "viewer" || c.Label != "Microsoft" {
		t.Fatalf("config: %+v", c)
	}
	if c, err := (oidcFlags{}).config(asFlags); c != nil || err != nil {
		t.Fatalf("no issuer, no single sign-on: %v %v", c, err)
	}
	t.Setenv(OIDCSecretEnv, "from-env")
	env := ok
	env.secretFile = ""
	if c, err := env.config(asFlags); err != nil || c.ClientSecret != "from-env" || os.Getenv(OIDCSecretEnv) != "" {
		t.Fatalf("secret from the environment: %+v %v (left in env: %q)", c, err, os.Getenv(OIDCSecretEnv))
	}
	for name, tc := range map[string]struct {
		edit func(*oidcFlags)
		want string
	}{
		"http issuer":  {func(o *oidcFlags) { o.issuer = "http://idp.example.com" }, "--oidc-issuer"},
		"no client":    {func(o *oidcFlags) { o.clientID = "" }, "--oidc-client-id"},
		"no redirect":  {func(o *oidcFlags) { o.redirect = "" }, "--oidc-redirect-url"},
		"bad role map": {func(o *oidcFlags) { o.roleMap = "g1" }, "--oidc-role-map"},
		"missing file": {func(o *oidcFlags) { o.secretFile = filepath.Join(dir, "nope") }, "--oidc-client-secret-file"},
	} {
		o := ok
		tc.edit(&o)
		_, err := o.config(asFlags)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cr3t-value") {
			t.Errorf("%s: %v, want an error naming %s", name, err, tc.want)
		}
	}
}

func FuzzParseRoleMap(f *testing.F) {
	for _, s := range []string{"", "a=admin", "a=admin,b=viewer", "a=,=b", "a=x,a=y", " g = r ,", "x=y=z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseRoleMap(s)
		if err != nil {
			return
		}
		for g, r := range m {
			if g == "" || r == "" || strings.Contains(g, ",") || strings.Contains(r, ",") {
				t.Fatalf("ParseRoleMap(%q) = %v", s, m)
			}
		}
	})
}
