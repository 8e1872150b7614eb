package cli

import (
	"regexp"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/dnsupdate"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// dnsFlags turn on the ACME DNS-01 challenge through RFC 2136 updates
// (docs/edge.md, DNS-01 and wildcards).
type dnsFlags struct {
	server, zone, key, secret, algorithm string
	resolvers                            []string
	timeout                              time.Duration
}

func addDNSFlags(f *pflag.FlagSet, d *dnsFlags) {
	f.StringVar(&d.server, "acme-dns-server", "", "the primary DNS server taking RFC 2136 updates (HOST or HOST:PORT, port 53): turns on the DNS-01 "+
		"challenge for --acme-domain names, wildcards among them (needs --acme-dns-tsig-key and --acme-dns-tsig-secret)")
	f.StringVar(&d.zone, "acme-dns-zone", "", "the zone to update for DNS-01 challenges (default: the zone of _acme-challenge.NAME found by SOA lookup)")
	f.StringVar(&d.key, "acme-dns-tsig-key", "", "the name of the TSIG key the primary accepts updates from")
	f.StringVar(&d.secret, "acme-dns-tsig-secret", "", "the NAME of the vault secret holding the TSIG key's base64 secret (phoenix secret set NAME), never the secret itself")
	f.StringVar(&d.algorithm, "acme-dns-tsig-algorithm", "hmac-sha256", "the TSIG key's algorithm: hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224 or hmac-sha1")
	f.StringSliceVar(&d.resolvers, "acme-dns-resolver", nil, "a DNS resolver (HOST or HOST:PORT) for the zone lookup and the propagation check (repeatable; "+
		"default: the system's, and the record is checked at every authoritative server of the zone)")
	durationVar(f, &d.timeout, "acme-dns-propagation-timeout", 2*time.Minute, "how long to wait for a challenge record to be visible before the CA is asked to check it")
}

// givenNames names (by name) the DNS-01 flags that were set.
func (d dnsFlags) givenNames(name func(flag string) string) []string {
	return namesOfSet(name, []flagSet{{"acme-dns-server", d.server != ""}, {"acme-dns-zone", d.zone != ""},
		{"acme-dns-tsig-key", d.key != ""}, {"acme-dns-tsig-secret", d.secret != ""},
		{"acme-dns-tsig-algorithm", d.algorithm != "hmac-sha256"}, {"acme-dns-resolver", len(d.resolvers) > 0},
		{"acme-dns-propagation-timeout", d.timeout != 2*time.Minute}})
}

// vaultNameRx is what a vault secret's name may be.
var vaultNameRx = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// options returns the DNS-01 settings, nil without --acme-dns-server;
// every error names the flag (by name: Globals.flagOrEnv) and the fix.
func (d dnsFlags) options(name func(flag string) string) (*app.ACMEDNS01, error) {
	usage := func(hint, format string, args ...any) error {
		return usererr.New(usererr.Usage, format, args...).WithHint("%s", hint)
	}
	const all = "--acme-dns-server ns1.example.com --acme-dns-tsig-key phoenix-acme --acme-dns-tsig-secret ACME_TSIG"
	given := d.givenNames(name)
	switch {
	case len(given) == 0:
		return nil, nil
	case d.server == "":
		return nil, usage("add "+all, "%s %s --acme-dns-server, the primary taking the updates", joinNames(given), needs(len(given)))
	case d.key == "":
		return nil, usage("add --acme-dns-tsig-key NAME, the key's name as the primary knows it", "%s needs --acme-dns-tsig-key", name("acme-dns-server"))
	case d.secret == "":
		return nil, usage("store the key's secret with phoenix secret set ACME_TSIG and add --acme-dns-tsig-secret ACME_TSIG",
			"%s needs --acme-dns-tsig-secret, the name of the vault secret holding the key's secret", name("acme-dns-server"))
	case !vaultNameRx.MatchString(d.secret):
		// Never echo it: it may be the secret itself.
		return nil, usage("store the secret with phoenix secret set ACME_TSIG and give --acme-dns-tsig-secret ACME_TSIG",
			"%s must name a vault secret (letters, digits and _), not hold the key's secret", name("acme-dns-tsig-secret"))
	case d.timeout <= 0:
		return nil, usage("give a duration, e.g. --acme-dns-propagation-timeout 2m", "%s %s is not positive", name("acme-dns-propagation-timeout"), config.FormatDuration(d.timeout))
	}
	o := &app.ACMEDNS01{Key: d.key, SecretName: d.secret, Algorithm: strings.ToLower(strings.TrimSpace(d.algorithm)), PropagationTimeout: d.timeout}
	if _, ok := dnsupdate.Algorithms[o.Algorithm]; !ok {
		return nil, usage("use hmac-sha256 (the default), hmac-sha512, hmac-sha384, hmac-sha224 or hmac-sha1",
			"%s %q is not supported", name("acme-dns-tsig-algorithm"), d.algorithm)
	}
	if _, err := dnsupdate.Zone(d.key); err != nil {
		return nil, usage("give the key's name as in the primary's configuration, e.g. phoenix-acme", "%s: %v", name("acme-dns-tsig-key"), err)
	}
	var err error
	if o.Server, err = dnsupdate.ServerAddr(d.server); err != nil {
		return nil, usage("give the primary as HOST or HOST:PORT, e.g. ns1.example.com or 192.0.2.53:53", "%s: %v", name("acme-dns-server"), err)
	}
	if d.zone != "" {
		if o.Zone, err = dnsupdate.Zone(d.zone); err != nil {
			return nil, usage("give the zone's domain, e.g. example.com, or leave it out to find it by SOA lookup", "%s: %v", name("acme-dns-zone"), err)
		}
	}
	for _, r := range d.resolvers {
		a, err := dnsupdate.ServerAddr(r)
		if err != nil {
			return nil, usage("give a resolver as HOST or HOST:PORT, e.g. 192.0.2.53", "%s: %v", name("acme-dns-resolver"), err)
		}
		o.Resolvers = append(o.Resolvers, a)
	}
	return o, nil
}
