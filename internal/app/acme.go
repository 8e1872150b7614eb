package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/certs"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// ACMEOptions turn on automatic TLS: the edge obtains certificates from an
// ACME CA for the custom domains of environments (docs/edge.md).
type ACMEOptions struct {
	Enabled bool
	Email   string // the ACME account's contact (optional)
	// CA is the ACME directory URL; default Let's Encrypt production.
	CA string
	// CARootFile holds PEM certificates trusted for the CA's own HTTPS (a
	// private CA); default the system's roots.
	CARootFile string
	// Domains may have certificates besides environments' custom domains.
	Domains []string
	// DisableHTTP01 and DisableTLSALPN01 turn a challenge type off (tests
	// prove each on its own listener).
	DisableHTTP01, DisableTLSALPN01 bool
	// DNS01, given, manages Domains (wildcards among them) and the app's
	// names up front with the DNS-01 challenge (acme_dns.go).
	DNS01 *ACMEDNS01
}

// checkEdgeTLS checks the edge's TLS options together.
func checkEdgeTLS(o Options) error {
	files := len(o.EdgeTLSCert) > 0
	switch {
	case o.ACME.Enabled && o.EdgeTLSListen == "":
		return usererr.New(usererr.Usage, "automatic TLS (--acme) needs the edge's HTTPS address").
			WithHint("add --edge-tls-listen 0.0.0.0:443; --edge-listen then serves plain HTTP (port 80 answers HTTP-01 challenges)")
	case o.EdgeTLSListen != "" && !files && !o.ACME.Enabled:
		return usererr.New(usererr.Usage, "%s needs certificates", o.flag("edge-tls-listen")).
			WithHint("add --acme, or --edge-tls-cert FILE --edge-tls-key FILE")
	}
	return checkACMEDomains(o.ACME, o.flag)
}

// runEdge serves srv on ln until Stop.
func (a *App) runEdge(srv *edge.Server, ln net.Listener) {
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	a.onStop(func(context.Context) error { cancel(); return <-done })
}

// edgeTLS is the TLS side of the edge when it has an HTTPS listener of its
// own (--edge-tls-listen): certificates from files, and with ACME those
// certmagic obtains.
type edgeTLS struct {
	files   []*certs.FileCert // --edge-tls-cert/--edge-tls-key, following the files
	mgr     *certs.Manager    // nil without ACME
	domains *customDomains    // nil without ACME
	hosts   *edge.Hosts       // what the edge routes
	public  sync.Map          // host -> bool: whether certs.CheckName accepts it
}

// startEdgeTLS listens on --edge-listen (plain HTTP: challenges, redirects
// and the hosts without certificates) and --edge-tls-listen (HTTPS).
func (a *App) startEdgeTLS(h *edge.Handler) error {
	plain, err := a.listen(SocketEdge, "edge", a.opts.EdgeListen)
	if err != nil {
		return err
	}
	a.onStop(func(context.Context) error { plain.Close(); return nil })
	secure, err := a.listen(SocketEdgeTLS, "edge (HTTPS)", a.opts.EdgeTLSListen)
	if err != nil {
		return err
	}
	a.onStop(func(context.Context) error { secure.Close(); return nil })
	t, err := a.newEdgeTLS(plain.Addr(), secure.Addr())
	if err != nil {
		return err
	}
	_, tlsPort, _ := net.SplitHostPort(secure.Addr().String())
	front := &edge.HTTPSRedirect{Handler: h, Secure: t.secure, HTTPSPort: tlsPort}
	if t.mgr != nil {
		front.Challenge = t.mgr.HandleHTTPChallenge
		a.onStop(func(context.Context) error { t.mgr.Close(); return nil })
	}
	a.edgeAddr = plain.Addr()
	a.edgeTLSAddr = secure.Addr()
	lim, err := a.edgeConnLimit()
	if err != nil {
		return err
	}
	a.runEdge(&edge.Server{Handler: front, Logger: a.log, Loops: a.opts.EdgeLoops, IdleTimeout: a.opts.EdgeIdleTimeout, ConnLimit: lim}, plain)
	a.runEdge(&edge.Server{Handler: h, Logger: a.log, TLSConfig: t.config(), IdleTimeout: a.opts.EdgeIdleTimeout, ConnLimit: lim}, secure)
	a.log.Info("edge listening", "http", plain.Addr().String(), "https", secure.Addr().String(), "acme", t.mgr != nil, "loops", edge.Loops(a.opts.EdgeLoops))
	return nil
}

func (a *App) newEdgeTLS(plain, secure net.Addr) (*edgeTLS, error) {
	t := &edgeTLS{hosts: a.Hosts}
	var err error
	if t.files, err = a.loadEdgeCerts(); err != nil {
		return nil, err
	}
	if !a.opts.ACME.Enabled {
		a.certs.set(t.files, nil)
		return t, nil
	}
	o := a.opts.ACME
	mo := certs.Options{DB: a.DB, Keys: &acmeKeys{vault: a.Vault}, CA: o.CA, Email: o.Email, Files: t.files,
		HTTPAddr: plain, TLSAddr: secure, DisableHTTP01: o.DisableHTTP01, DisableTLSALPN01: o.DisableTLSALPN01, Logger: a.log}
	if o.CARootFile != "" {
		data, err := os.ReadFile(o.CARootFile)
		if err != nil {
			return nil, usererr.Wrap(usererr.Usage, err, fmt.Sprintf("%s: %v", a.opts.flag("acme-ca-root"), err)).WithHint("give a PEM file of CA certificates")
		}
		if mo.CARoots, err = certs.ParseRoots(data, o.CARootFile); err != nil {
			return nil, usererr.Wrap(usererr.Usage, err, a.opts.flag("acme-ca-root")+" "+err.Error()).WithHint("give a PEM file of CA certificates")
		}
	}
	t.domains = newCustomDomains(a.Deploy, o.Domains)
	t.domains.sites = a.opts.SitesDomain
	mo.Allow = t.domains.allow
	if o.DNS01 != nil {
		if mo.DNS01, err = a.dns01(context.Background(), o.DNS01); err != nil {
			return nil, err
		}
	}
	if t.mgr, err = certs.New(mo); err != nil {
		return nil, err
	}
	a.certs.set(t.files, t.mgr)
	a.certs.setDomains(t.domains)
	if o.DNS01 != nil {
		// The names were checked with the options; what fails here is the
		// store (the vault sealed), which the Manager keeps trying.
		if err := a.certs.managed.start(context.Background(), t.mgr, o.Domains); err != nil {
			a.log.Warn("acme: managed names", "err", err)
		}
	}
	t.mgr.Maintain() // stored certificates renewed on schedule, with or without visits
	return t, nil
}

// loadEdgeCerts loads the pairs of --edge-tls-cert and --edge-tls-key,
// which the edge then follows (a renewal in place is served within a few
// seconds); none without them.
func (a *App) loadEdgeCerts() ([]*certs.FileCert, error) {
	var out []*certs.FileCert
	for i, cert := range a.opts.EdgeTLSCert {
		fc, err := certs.LoadFileCert(cert, a.opts.EdgeTLSKey[i], a.log)
		if err != nil {
			return nil, usererr.Wrap(usererr.Usage, err, err.Error()).
				WithHint("give a PEM certificate chain and its PEM private key")
		}
		out = append(out, fc)
	}
	return out, nil
}

// config is the HTTPS listener's TLS configuration: with ACME the
// Manager's; else the files' certificates (certs.ChooseFile).
func (t *edgeTLS) config() *tls.Config {
	if t.mgr != nil {
		return t.mgr.TLSConfig()
	}
	return &tls.Config{GetCertificate: certs.ChooseFile(t.files), MinVersion: tls.VersionTLS12}
}

// secure reports whether the plain listener sends host to HTTPS: a file
// certificate covers it, or ACME may obtain one (a public name the edge
// routes, or one of --acme-domain) unless its order failed and waits for
// its retry (the HTTPS it would be sent to fails its handshake; served
// over plain HTTP it stays reachable). Memory lookups only: it runs on
// every plain request.
func (t *edgeTLS) secure(host string) bool {
	if certs.Covering(certs.FileCerts(t.files), host) != nil {
		return true
	}
	if t.mgr == nil || t.mgr.Failing(host) {
		return false
	}
	if t.domains.explicit[host] {
		return true
	}
	if !t.hosts.Routes(host) {
		return false
	}
	ok, seen := t.public.Load(host)
	if !seen {
		ok = certs.CheckName(host) == nil
		t.public.Store(host, ok)
	}
	return ok.(bool)
}

// customDomains is the ACME decision: a name may have a certificate when it
// is a public DNS name and a custom domain of an environment (read from the
// store, so every server on one database agrees) or given by --acme-domain.
type customDomains struct {
	deploy   *deploy.Service
	explicit map[string]bool
	sites    string // Options.SitesDomain: environments' names under it qualify too

	mu     sync.Mutex
	names  map[string]bool
	envs   map[string]string // custom domain -> its environment's edge name
	loaded time.Time
}

// domainsFresh is how long the last read of the environments answers:
// a domain taken off is refused from then on (its certificate no longer
// renewed, listed as unused).
const domainsFresh = 2 * time.Second

func newCustomDomains(d *deploy.Service, explicit []string) *customDomains {
	c := &customDomains{deploy: d, explicit: map[string]bool{}}
	for _, n := range explicit {
		c.explicit[certs.NormalizeName(n)] = true
	}
	return c
}

// allow is certs.Options.Allow: a refusal is certs.NotServed, a store
// that cannot be read is not.
func (c *customDomains) allow(ctx context.Context, name string) error {
	if err := certs.CheckName(name); err != nil {
		return certs.NotServed(err)
	}
	if c.explicit[name] {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.loaded) > domainsFresh {
		if err := c.load(ctx); err != nil {
			return err
		}
	}
	if !c.names[name] {
		return certs.NotServed(fmt.Errorf("%s is not a custom domain of any environment, nor an environment's name under --sites-domain, nor given with --acme-domain", name))
	}
	return nil
}

// environment returns the edge name ("<env>.<project>") of the
// environment whose custom domain name is, as last read; "" for none (or
// no ACME: a nil c).
func (c *customDomains) environment(name string) string {
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.envs[name]
}

func (c *customDomains) load(ctx context.Context) error {
	envs, err := c.deploy.Environments(ctx, "")
	if err != nil {
		return err
	}
	c.names, c.envs = map[string]bool{}, map[string]string{}
	for _, e := range envs {
		for _, d := range e.Domains {
			c.names[certs.NormalizeName(d)] = true
			c.envs[certs.NormalizeName(d)] = edgeName(e.Project, e.Name)
		}
		if c.sites != "" {
			c.names[edge.SitesHost(e.Name, e.Project, c.sites)] = true
		}
	}
	c.loaded = time.Now()
	return nil
}

// acmeKeyName is the vault secret holding the data key that seals what
// ACME stores (certificates, private keys, accounts) in the state store.
const acmeKeyName = vault.ACMEKeyName

// acmeSubject is the server itself reading its ACME data key.
var acmeSubject = vault.Subject{Actor: "phoenix:acme", Roles: []string{"admin"}, System: true}

// tsigSubject reads the secret --acme-dns-tsig-secret names: an operator's
// secret, not one of the server's own keys.
var tsigSubject = vault.Subject{Actor: "phoenix:acme", Roles: []string{"admin"}}

// acmeKeys is certs.Keys over the vault: the data key is a secret whose
// versions are the key versions; the first use makes version 1. Keys are
// cached once read. With the vault sealed, nothing can be sealed or opened.
type acmeKeys struct {
	vault *vault.Vault

	mu      sync.Mutex
	current uint32
	keys    map[uint32][]byte
}

var _ certs.Keys = (*acmeKeys)(nil)

func (k *acmeKeys) Current(ctx context.Context) (uint32, []byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.current != 0 {
		return k.current, k.keys[k.current], nil
	}
	v, key, err := k.read(ctx, 0)
	if errors.Is(err, vault.ErrNotFound) {
		v, key, err = k.create(ctx)
	}
	if err != nil {
		return 0, nil, err
	}
	k.current = v
	return v, key, nil
}

func (k *acmeKeys) Key(ctx context.Context, version uint32) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.keys[version]; ok {
		return key, nil
	}
	_, key, err := k.read(ctx, int(version))
	return key, err
}

// read gets a version (0: the newest) from the vault into the cache.
func (k *acmeKeys) read(ctx context.Context, version int) (uint32, []byte, error) {
	v, key, err := readDataKey(ctx, k.vault, acmeSubject, acmeKeyName, version)
	if err != nil {
		return 0, nil, err
	}
	return k.keep(v, key), key, nil
}

func (k *acmeKeys) create(ctx context.Context) (uint32, []byte, error) {
	v, key, err := createDataKey(ctx, k.vault, acmeSubject, acmeKeyName, "acme-storage", "ACME data key")
	if err != nil {
		return 0, nil, err
	}
	return k.keep(v, key), key, nil
}

func (k *acmeKeys) keep(version int, key []byte) uint32 {
	if k.keys == nil {
		k.keys = map[uint32][]byte{}
	}
	k.keys[uint32(version)] = key
	return uint32(version)
}
