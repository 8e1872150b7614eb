package swa

import (
	"slices"
	"strings"
)

// LoginProviders returns the providers Phoenix's edge signs visitors in
// with at /.auth/login/<provider>: "aad" (Azure's name for Entra ID) and
// "oidc", both the server's single sign-on through whatever OpenID
// Connect provider it is set up with (phoenix server --oidc-issuer).
// Azure's others (github, twitter, the custom providers of
// auth.identityProviders) answer 404 on Phoenix.
func LoginProviders() []string { return []string{"aad", "oidc"} }

// checkTarget checks the target of a rewrite or redirect: no control
// characters (a line break in a redirect went out as a Location of
// two words), and the login providers (checkLogin).
func (v *validator) checkTarget(n *jnode, f, target string) {
	if i := strings.IndexFunc(target, func(r rune) bool { return r < ' ' || r == 0x7f }); i >= 0 {
		v.errf(n, f, "%q holds a control character (%q): write the path or URL on one line, percent-encoding what it needs (%%0A for a line break)", target, target[i])
		return
	}
	v.checkLogin(n, f, target)
}

// checkLogin warns about a rewrite or redirect (field f, node n) to
// /.auth/login/<provider> for a provider Phoenix's edge does not serve:
// the cloud accepts it, Phoenix answers 404 there.
func (v *validator) checkLogin(n *jnode, f, target string) {
	if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") {
		return // an external URL: not this site's login
	}
	p := target
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	const prefix = "/.auth/login/"
	if !hasPrefixFold(p, prefix) {
		return
	}
	provider, exact := strings.CutPrefix(p, prefix)
	if exact && slices.Contains(LoginProviders(), provider) {
		return
	}
	v.warnf(n, f, "%s: Phoenix's edge serves no login provider %q (it answers 404; Azure accepts it): "+
		"its providers are %s, the server's single sign-on (phoenix server --oidc-issuer); use /.auth/login/aad",
		p, p[len(prefix):], strings.Join(LoginProviders(), " and "))
}
