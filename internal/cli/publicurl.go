package cli

import (
	"net/url"
	"strings"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

const publicURLHelp = "the URL people open this server's dashboard at (https://phoenix.example.com): " +
	"release, approval and failure notifications link to the run's page there"

// parsePublicURL checks --public-url: an absolute http(s) URL with a host
// and no query or fragment; "" when not given. It returns it without a
// trailing slash, for appending /ui/… to it.
func parsePublicURL(what, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err == nil && u.User != nil { // never echoed: it may hold a password
		return "", usererr.New(usererr.Usage, "%s holds a user name or password (not shown); a dashboard's address needs none", what).
			WithHint("give it without user info, e.g. %s", example(what, "https://phoenix.example.com"))
	}
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(s, "?#") {
		return "", usererr.New(usererr.Usage, "%s %q is not the address of a dashboard", what, s).
			WithHint("give an absolute https URL without query, e.g. %s", example(what, "https://phoenix.example.com"))
	}
	return strings.TrimRight(u.String(), "/"), nil
}
