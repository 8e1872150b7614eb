package app

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/certs"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// ACMEDNS01 turns on the ACME DNS-01 challenge through RFC 2136 updates
// to the zone's primary (docs/edge.md, DNS-01 and wildcards): every
// --acme-domain name (wildcards among them) and the names given to
// manageWildcards are then managed up front with it; environments' custom
// domains stay on demand with HTTP-01 and TLS-ALPN-01.
type ACMEDNS01 struct {
	Server string // the primary taking updates, host:port
	// Zone is the zone updated; "" takes the zone found by SOA lookup.
	Zone string
	// Key and Algorithm name the TSIG key (Algorithm default hmac-sha256).
	Key, Algorithm string
	// SecretName is the vault secret holding the key's base64 secret,
	// read at start and at each update.
	SecretName string
	// Resolvers (host:port) answer the zone lookup and the propagation
	// check; empty: the system's, checking every authoritative server.
	Resolvers []string
	// PropagationTimeout bounds the propagation check (0: 2 minutes).
	PropagationTimeout time.Duration
}

// checkACMEDomains checks --acme-domain: public names, wildcards only
// with DNS-01; an error names what gave them (Options.flag).
func checkACMEDomains(o ACMEOptions, flag func(string) string) error {
	for _, d := range o.Domains {
		n := certs.NormalizeName(d)
		if err := certs.CheckName(n); err != nil {
			return usererr.Wrap(usererr.Usage, err, flag("acme-domain")+": "+err.Error()).WithHint("give public DNS names, e.g. www.example.com")
		}
		if certs.IsWildcard(n) && o.DNS01 == nil {
			return usererr.New(usererr.Usage, "%s %s: a wildcard certificate can only be obtained with the DNS-01 challenge", flag("acme-domain"), n).
				WithHint("add --acme-dns-server HOST:PORT --acme-dns-tsig-key NAME --acme-dns-tsig-secret SECRETNAME (docs/edge.md, DNS-01 and wildcards)")
		}
	}
	return nil
}

// dns01 returns the certs configuration of o, its secret read from the
// vault at each update. The secret is read once now: a missing or
// malformed one stops the start with the fix; a sealed vault only warns
// (orders wait for the unseal).
func (a *App) dns01(ctx context.Context, o *ACMEDNS01) (*certs.DNS01, error) {
	shown := shownSecretName(o.SecretName)
	read := func(ctx context.Context) (string, error) {
		s, _, err := a.Vault.Get(ctx, tsigSubject, o.SecretName, 0)
		if err != nil {
			return "", fmt.Errorf("vault secret %s (--acme-dns-tsig-secret): %w", shown, redact(err, o.SecretName))
		}
		v := strings.TrimSpace(s.Reveal())
		if _, err := base64.StdEncoding.DecodeString(v); err != nil || v == "" {
			return "", fmt.Errorf("vault secret %s (--acme-dns-tsig-secret) is not the base64 secret of a TSIG key", shown)
		}
		return v, nil
	}
	_, err := read(ctx)
	switch {
	case errors.Is(err, vault.ErrSealed):
		a.log.Warn("acme: the vault is sealed; DNS-01 orders wait for the unseal", "secret", shown)
	case err != nil:
		return nil, usererr.Wrap(usererr.Usage, err, err.Error()).
			WithHint("store the key's secret: printf %%s 'BASE64-SECRET' | phoenix secret set %s", cmp.Or(nameIfShown(o.SecretName), "ACME_TSIG"))
	}
	return &certs.DNS01{Server: o.Server, Zone: o.Zone, Key: o.Key, Algorithm: o.Algorithm, Secret: read,
		Resolvers: o.Resolvers, PropagationTimeout: o.PropagationTimeout}, nil
}

// managedNames is what the edge manages up front through DNS-01: every
// --acme-domain name and the app's names (manageWildcards), applied as one
// set whenever either changes.
type managedNames struct {
	mu       sync.Mutex
	mgr      *certs.Manager // nil until the edge starts with DNS-01
	explicit []string
	app      []string
}

// start hands the set to mgr once the edge has it.
func (n *managedNames) start(ctx context.Context, mgr *certs.Manager, explicit []string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mgr, n.explicit = mgr, explicit
	return n.apply(ctx)
}

func (n *managedNames) apply(ctx context.Context) error {
	if n.mgr == nil {
		return nil
	}
	return n.mgr.SetManaged(ctx, slices.Concat(n.explicit, n.app))
}

// manageWildcards makes names (e.g. *.shop.example.com for each project
// under --sites-domain) the complete set of names the app wants managed
// up front through DNS-01, beside --acme-domain's. Call it again with the
// new full set whenever it changes; it is idempotent and cheap when
// nothing changed. New names are loaded from the store or ordered in the
// background; dropped ones stop being renewed and served. A handshake for
// a name a managed wildcard covers is served by the wildcard, waiting up
// to 30s while it is obtained, and never orders one of its own. Before
// the edge starts the names are kept and applied at its start. It reports
// whether DNS-01 is configured (--acme with --acme-dns-server): without
// it nothing is managed and the names are only kept. An error names the
// names refused (certs.CheckName) or not started; the others are managed.
func (a *App) manageWildcards(ctx context.Context, names []string) (bool, error) {
	n := &a.certs.managed
	n.mu.Lock()
	defer n.mu.Unlock()
	n.app = slices.Clone(names)
	return a.opts.ACME.Enabled && a.opts.ACME.DNS01 != nil, n.apply(ctx)
}

// shownSecretName is how messages name the vault secret --acme-dns-tsig-secret
// gives: as written when it is in the usual style of a vault name (upper
// case, digits, _: ACME_TSIG); otherwise not at all, since an operator who
// put the key's base64 secret there by mistake (one without +, / or =
// passes as a name) must not find it in the log or an error.
func shownSecretName(name string) string {
	if n := nameIfShown(name); n != "" {
		return n
	}
	return fmt.Sprintf("(the name given, %d characters, not shown: it may be the key itself)", len(name))
}

// nameIfShown is name when messages may show it (shownSecretName), else "".
func nameIfShown(name string) string {
	if vault.Conventional(name) {
		return name
	}
	return ""
}

// redact is err with every occurrence of s in its text replaced (the
// vault's "secret NAME does not exist" names what it was asked for); err
// itself when s is shown anyway. It keeps err's kind and chain.
func redact(err error, s string) error {
	if nameIfShown(s) != "" || !strings.Contains(err.Error(), s) {
		return err
	}
	return redacted{err: err, text: strings.ReplaceAll(err.Error(), s, "(not shown)")}
}

type redacted struct {
	err  error
	text string
}

func (r redacted) Error() string { return r.text }
func (r redacted) Unwrap() error { return r.err }
