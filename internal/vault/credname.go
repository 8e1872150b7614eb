package vault

import (
	"regexp"
	"strings"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// A secret's name is shown where its value never is: the server's log,
// the audit log, listings and the API's answers. A valid name (letters,
// digits, _) can still be a credential: a token pasted where the name was
// asked for, or a key written with _ for its -. New secrets may not be
// named so. Secrets that already are keep working: they can be read,
// written, rotated, deleted and purged, so nobody is locked out.
//
// The shapes are the vault's own rather than the secret scanner's rules:
// those find tokens in text, by keywords and the words around them, and
// only a handful could match a name at all; here a token may also be
// written with _ for the - of its real form (Slack).

// credentialShape is one well-known token format a name can take.
type credentialShape struct {
	what string         // what the name looks like, for the error
	re   *regexp.Regexp // the token, between the name's ends or _
}

// shape compiles pattern to match a whole _-separated part of a name.
func shape(what, pattern string) credentialShape {
	return credentialShape{what: what, re: regexp.MustCompile(`(?:^|_)(` + pattern + `)(?:_|$)`)}
}

// credentialShapes are the formats refused, each with a digit (checked
// apart: RE2 has no lookahead). Generated tokens nearly always hold one;
// words do not, so a name such as ASIAPACIFICREGIONKEY is not taken for
// an AWS key id.
var credentialShapes = []credentialShape{
	shape("a GitHub token", `(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}`),
	shape("a GitHub fine-grained token", `github_pat_[A-Za-z0-9_]{82}`),
	shape("an AWS access key id", `(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}`),
	shape("an npm token", `npm_[A-Za-z0-9]{36}`),
	shape("a Slack token", `xox[baprse]_[A-Za-z0-9_]{10,}`),
	shape("a Stripe secret key", `[rs]k_(?:live|test)_[A-Za-z0-9]{16,}`),
	shape("a Google API key", `AIza[A-Za-z0-9_]{35}`),
	shape("a Docker Hub token", `dckr_(?:pat|oat)_[A-Za-z0-9_]{24,64}`),
	// GitLab's prefixed tokens (docs.gitlab.com/security/tokens/#token-prefixes),
	// their - written _: personal, deploy, runner, trigger, feed, CI job,
	// incoming e-mail, SCIM, OAuth app secret, agent, workspace; and the
	// deprecated runner registration token, which has no - to write _.
	shape("a GitLab token", `(?:glpat|gldt|glrt|glptt|glft|glcbt|glimt|glsoat|gloas|glagent|glwt)_[A-Za-z0-9_]{20,}`),
	shape("a GitLab runner registration token", `GR1348941[A-Za-z0-9_]{20}`),
	shape("a Shopify token", `shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}`),
	shape("a DigitalOcean token", `do[opr]_v1_[a-f0-9]{64}`),
}

// credentialLike returns what name looks like ("a GitHub token") when it
// has the shape of a well-known credential, else "".
func credentialLike(name string) string {
	if !strings.ContainsAny(name, "0123456789") {
		return "" // every shape needs one; most names have none
	}
	for _, s := range credentialShapes {
		for _, m := range s.re.FindAllStringSubmatch(name, -1) {
			if strings.ContainsAny(m[1], "0123456789") {
				return s.what
			}
		}
	}
	return ""
}

// checkNewName refuses a name for a new secret that looks like a
// credential, without echoing it (it may be one).
func checkNewName(name string) error {
	what := credentialLike(name)
	if what == "" {
		return nil
	}
	return usererr.New(usererr.Invalid, "the secret name looks like %s, and names are written to logs, the audit log and listings", what).
		WithHint("name the secret for what it holds (e.g. API_TOKEN) and put the credential in its value; if the credential is real, revoke it")
}
