package cli

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/certs"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// acmeFlags turn on automatic TLS for the edge (docs/edge.md, Automatic
// TLS): certificates for environments' custom domains from an ACME CA.
type acmeFlags struct {
	tlsListen string
	enabled   bool
	email     string
	ca        string
	caRoot    string
	domains   []string
	// alertDays: the monitor alerts when a certificate expires within
	// this many days (0: no alert).
	alertDays int
	// orderAlert: the monitor alerts when a domain's certificate order
	// has been failing this long (0: no alert).
	orderAlert time.Duration
	dns        dnsFlags // server_acme_dns.go
}

func addACMEFlags(f *pflag.FlagSet, af *acmeFlags) {
	f.StringVar(&af.tlsListen, "edge-tls-listen", "", "HTTPS address of the edge, e.g. 0.0.0.0:443; --edge-listen then serves plain HTTP "+
		"(ACME challenges, redirects to HTTPS); needs --acme or --edge-tls-cert/--edge-tls-key")
	f.BoolVar(&af.enabled, "acme", false, "obtain and renew certificates for environments' custom domains from an ACME CA, at their first "+
		"HTTPS request (you accept the CA's terms of service; needs --edge-tls-listen and the vault unsealed)")
	f.StringVar(&af.email, "acme-email", "", "contact address of the ACME account (expiry and policy mail from the CA)")
	f.StringVar(&af.ca, "acme-ca", certs.LetsEncrypt, "ACME directory URL; Let's Encrypt's staging for trials: "+certs.LetsEncryptStaging)
	f.StringVar(&af.caRoot, "acme-ca-root", "", "PEM file of CA certificates to trust for --acme-ca's own HTTPS (a private CA)")
	f.StringSliceVar(&af.domains, "acme-domain", nil, "a name that may have a certificate besides environments' custom domains (repeatable); "+
		"with --acme-dns-server every one is obtained up front through DNS-01, and a wildcard (*.example.com) is allowed")
	addDNSFlags(f, &af.dns)
	f.IntVar(&af.alertDays, "cert-alert-days", 14, "alert when a certificate the edge serves (file or ACME) expires within this many days (0: no alert)")
	durationVar(f, &af.orderAlert, "cert-order-alert", time.Hour, "alert when a domain's ACME certificate order has been failing this long (0: no alert)")
}

// given names the ACME flags set (named by name), which need --acme.
func (af acmeFlags) given(name func(flag string) string) []string {
	return append(namesOfSet(name, []flagSet{{"acme-email", af.email != ""}, {"acme-ca", af.ca != certs.LetsEncrypt},
		{"acme-ca-root", af.caRoot != ""}, {"acme-domain", len(af.domains) > 0}}), af.dns.givenNames(name)...)
}

// certWarning is the app's CertWarning from --cert-alert-days; a refused
// value is named by name (Globals.flagOrEnv).
func (af acmeFlags) certWarning(name func(flag string) string) (time.Duration, error) {
	switch {
	case af.alertDays < 0:
		return 0, usererr.New(usererr.Usage, "%s %d is negative", name("cert-alert-days"), af.alertDays).
			WithHint("give a number of days, e.g. %s14, or 0 for no certificate alert", setting(name("cert-alert-days")))
	case af.alertDays == 0:
		return -1, nil
	}
	return time.Duration(af.alertDays) * 24 * time.Hour, nil
}

// certOrderAlert is the app's CertOrderAlert from --cert-order-alert; a
// refused value is named by name (Globals.flagOrEnv).
func (af acmeFlags) certOrderAlert(name func(flag string) string) (time.Duration, error) {
	switch {
	case af.orderAlert < 0:
		return 0, usererr.New(usererr.Usage, "%s %s is negative", name("cert-order-alert"), config.FormatDuration(af.orderAlert)).
			WithHint("give a duration, e.g. %s1h, or 0 for no alert on failing orders", setting(name("cert-order-alert")))
	case af.orderAlert == 0:
		return -1, nil
	}
	return af.orderAlert, nil
}

// options returns the app's ACME settings, refusing ACME flags without
// --acme; a refused value is named by name (Globals.flagOrEnv).
func (af acmeFlags) options(name func(flag string) string) (app.ACMEOptions, error) {
	if given := af.given(name); !af.enabled && len(given) > 0 {
		return app.ACMEOptions{}, usererr.New(usererr.Usage, "%s %s --acme", joinNames(given), needs(len(given))).
			WithHint("add --acme --edge-tls-listen 0.0.0.0:443")
	}
	dns, err := af.dns.options(name)
	if err != nil {
		return app.ACMEOptions{}, err
	}
	return app.ACMEOptions{Enabled: af.enabled, Email: af.email, CA: af.ca, CARootFile: af.caRoot, Domains: af.domains, DNS01: dns}, nil
}
