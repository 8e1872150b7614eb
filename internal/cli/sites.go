package cli

import (
	"fmt"
	"strings"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// sitesDomainHelp is --sites-domain's help text.
const sitesDomainHelp = "give every environment a host name of its own, <env>.<project>.DOMAIN, e.g. apps.example.com " +
	"(point a wildcard DNS record *.DOMAIN at the edge; docs/deployments.md)"

// parseSitesDomain reads --sites-domain (what: the flag, or the variable
// that gave it): a DNS name of two labels or more, returned in lower case
// without a trailing dot ("" stays "").
func parseSitesDomain(what, s string) (string, error) {
	d := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
	if d == "" {
		return "", nil
	}
	bad := func(why string) error {
		return usererr.New(usererr.Usage, "%s %q is not a domain: %s", what, s, why).
			WithHint("give the domain a wildcard DNS record points at the edge, e.g. %s", example(what, "apps.example.com"))
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", bad("it has a single label")
	}
	if labels[len(labels)-1] == "localhost" {
		return "", bad("every environment already answers under localhost")
	}
	for _, l := range labels {
		if deploy.CheckName("label", l) != nil {
			return "", bad(fmt.Sprintf("label %.70q is not 1-63 letters, digits or '-'", l))
		}
	}
	// The longest names, <63>.<63>.domain, must stay within DNS's 253.
	if len(d) > 253-2*64 {
		return "", bad("it is longer than 125 characters, leaving no room for <env>.<project>.")
	}
	return d, nil
}
