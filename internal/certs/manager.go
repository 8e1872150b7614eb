package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/mholt/acmez/v3"
	"github.com/mholt/acmez/v3/acme"
	"go.uber.org/zap"

	"github.com/phoenixvc/phoenix/internal/store"
)

// Let's Encrypt's ACME directories.
const (
	LetsEncrypt        = certmagic.LetsEncryptProductionCA
	LetsEncryptStaging = certmagic.LetsEncryptStagingCA
)

// Options configure a Manager.
type Options struct {
	DB   *store.DB // migrated with Migrations
	Keys Keys      // seal what is stored (required)
	// CA is the ACME directory URL; default LetsEncrypt.
	CA string
	// CARoots are trusted for the CA's own HTTPS (a private CA, a test
	// CA); nil trusts the system's roots.
	CARoots *x509.CertPool
	// Email is the ACME account's contact; optional.
	Email string
	// Allow decides whether a certificate may be obtained for a name the
	// Manager is asked for (normalized, IDNs in punycode); nil error
	// allows, a NotServed error says the name is none the edge serves (a
	// certificate of such names is listed Unused, an order for one ends),
	// any other a failure to find out. It runs before anything is loaded
	// or ordered, at the first handshake for the name, at each renewal and
	// for the listing. Required.
	Allow func(ctx context.Context, name string) error
	// Static certificates, and those of Files (which follow their files),
	// are served for the names they cover, before anything ACME has.
	Static []tls.Certificate
	Files  []*FileCert
	// HTTPAddr and TLSAddr are the edge's plain-HTTP and TLS listeners,
	// which answer HTTP-01 (HandleHTTPChallenge) and TLS-ALPN-01
	// (GetCertificate) challenges. Given, certmagic never opens listeners
	// of its own.
	HTTPAddr, TLSAddr net.Addr
	// DisableHTTP01 and DisableTLSALPN01 turn a challenge type off (an
	// edge that cannot be reached on port 80, or 443).
	DisableHTTP01, DisableTLSALPN01 bool
	// DNS01, given, lets SetManaged manage names up front (wildcards
	// among them) with the DNS-01 challenge; names asked for on demand
	// keep HTTP-01 and TLS-ALPN-01.
	DNS01  *DNS01
	Logger *slog.Logger // default slog.Default
	// ManagedRetry is how often a managed name whose management could
	// not start is tried again; 0 means a minute (tests shorten it).
	ManagedRetry time.Duration
}

func (o Options) managedRetry() time.Duration {
	if o.ManagedRetry > 0 {
		return o.ManagedRetry
	}
	return managedRetry
}

// Manager answers TLS handshakes with static certificates, certificates
// obtained on demand and certificates managed up front through DNS-01
// (SetManaged), and answers ACME challenges. Close stops its background
// renewals.
type Manager struct {
	opts  Options
	cache *certmagic.Cache
	cfg   *certmagic.Config // on demand: HTTP-01 and TLS-ALPN-01
	// renew manages what cfg obtained (same issuer, no on-demand hook):
	// certmagic's maintenance renews no certificate of an on-demand
	// configuration, only a handshake does (maintain.go).
	renew  *certmagic.Config
	issuer *certmagic.ACMEIssuer
	closed sync.Once
	// failures are certmagic's last errors per name (list.go).
	failures failures
	// orders are the names being ordered on demand (ondemand.go).
	orders orders
	// dns manages the names of managed up front with DNS-01 (managed.go);
	// nil without Options.DNS01.
	dns     *certmagic.Config
	managed managedSet
	life    context.Context // of the managed names' jobs; ended by Close
	end     context.CancelFunc
	// bg are the goroutines working on life (orders, maintenance), which
	// Close waits for: none may write to the store once it returns.
	bg sync.WaitGroup
}

// New returns a Manager. Nothing is ordered before a handshake asks or
// SetManaged names it.
func New(o Options) (*Manager, error) {
	if o.DB == nil || o.Keys == nil || o.Allow == nil {
		return nil, errors.New("certs: Options.DB, Keys and Allow are required")
	}
	if d := o.DNS01; d != nil && (d.Server == "" || d.Key == "" || d.Secret == nil) {
		return nil, errors.New("certs: Options.DNS01 needs Server, Key and Secret")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.CA == "" {
		o.CA = LetsEncrypt
	}
	m := &Manager{opts: o}
	m.life, m.end = context.WithCancel(context.Background())
	zl := zapLogger(o.Logger.With("component", "acme"))
	m.cache = certmagic.NewCache(certmagic.CacheOptions{GetConfigForCert: m.configFor, Logger: zl})
	storage := NewStorage(o.DB, o.Keys)
	m.cfg = m.config(storage, zl, &certmagic.OnDemandConfig{DecisionFunc: m.decide})
	m.issuer = certmagic.NewACMEIssuer(m.cfg, m.issuerTemplate(zl))
	m.cfg.Issuers = []certmagic.Issuer{m.issuer}
	m.renew = m.config(storage, zl, nil)
	m.renew.Issuers = []certmagic.Issuer{m.issuer}
	if o.DNS01 != nil {
		m.dns = m.config(storage, zl, nil)
		t := m.issuerTemplate(zl)
		t.DNS01Solver = o.DNS01.solver(zl)
		m.dns.Issuers = []certmagic.Issuer{certmagic.NewACMEIssuer(m.dns, t)}
	}
	return m, nil
}

// config returns a certmagic configuration on the shared cache and storage.
func (m *Manager) config(s certmagic.Storage, zl *zap.Logger, od *certmagic.OnDemandConfig) *certmagic.Config {
	return certmagic.New(m.cache, certmagic.Config{
		Storage:  s,
		OnDemand: od,
		OCSP:     certmagic.OCSPConfig{DisableStapling: true}, // Let's Encrypt ended OCSP in 2025
		Logger:   zl,
		OnEvent:  m.event,
	})
}

// event is certmagic's OnEvent: failures are kept for the listing, the
// orders on demand and the alert on failing orders, and waiters for a managed certificate are woken when
// one is cached.
func (m *Manager) event(ctx context.Context, name string, data map[string]any) error {
	if name == "cached_managed_cert" {
		m.managed.wake()
	}
	if err := m.orderEvent(ctx, name, data); err != nil {
		return err
	}
	m.failureEvent(ctx, name, data) // failing.go
	return m.failures.event(ctx, name, data)
}

func (m *Manager) issuerTemplate(zl *zap.Logger) certmagic.ACMEIssuer {
	o := m.opts
	t := certmagic.ACMEIssuer{CA: o.CA, Email: o.Email, Agreed: true, TrustedRoots: o.CARoots,
		DisableHTTPChallenge: o.DisableHTTP01, DisableTLSALPNChallenge: o.DisableTLSALPN01, Logger: zl}
	if o.CA != LetsEncrypt {
		t.TestCA = o.CA // certmagic retries against Let's Encrypt's staging otherwise
	}
	if o.Email == "" {
		t.NewAccountFunc = noContact
	}
	if host, port, ok := hostPort(o.HTTPAddr); ok {
		t.ListenHost, t.AltHTTPPort = host, port
	}
	if _, port, ok := hostPort(o.TLSAddr); ok {
		t.AltTLSALPNPort = port
	}
	return t
}

// noContact registers an account without contact when no email is
// configured. Without an email certmagic looks for the most recent account
// in storage; seeing one half written (its registration stored, not yet
// its key: another obtain registering at that moment) it takes the
// directory's name, "default", for an email, keeps it for the whole
// process and has every later registration refused by the CA
// (invalidContact "mailto:default"). Stripping the contact keeps the
// account as configured: none; it is stored where certmagic keeps the
// account of no email either way.
func noContact(_ context.Context, _ *certmagic.ACMEIssuer, a acme.Account) (acme.Account, error) {
	a.Contact = nil
	return a, nil
}

func hostPort(a net.Addr) (string, int, bool) {
	if a == nil {
		return "", 0, false
	}
	host, p, err := net.SplitHostPort(a.String())
	if err != nil {
		return "", 0, false
	}
	port, err := strconv.Atoi(p)
	return host, port, err == nil
}

// decide is certmagic's on-demand decision: the data key must be at hand
// (a sealed vault orders nothing: what it obtained could not be stored),
// the name must be no wildcard (those are managed up front) nor covered
// by a managed name (served by that one), and Allow must accept it; then
// the certificate is loaded from the store, or ordered in the background
// (ordered), never in the handshake itself.
func (m *Manager) decide(ctx context.Context, name string) error {
	name = NormalizeName(name)
	if IsWildcard(name) {
		return fmt.Errorf("%s: a wildcard is never ordered on demand; it is managed up front through DNS-01 (--acme-domain)", name)
	}
	if by := m.managed.covering(name); by != "" {
		return fmt.Errorf("%s is served by the managed certificate of %s, not one of its own", name, by)
	}
	if _, _, err := m.opts.Keys.Current(ctx); err != nil {
		return fmt.Errorf("certificates cannot be stored: %w", err)
	}
	if err := m.opts.Allow(ctx, name); err != nil {
		return err
	}
	return m.ordered(ctx, name)
}

// TLSConfig returns the edge's TLS configuration: HTTP/2 and HTTP/1.1,
// certificates from GetCertificate, TLS-ALPN-01 answered.
func (m *Manager) TLSConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: m.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1", acmez.ACMETLS1Protocol},
		MinVersion:     tls.VersionTLS12,
	}
}

// GetCertificate answers a handshake: a TLS-ALPN-01 challenge, else a
// static certificate covering the name, else a managed one covering it
// (waiting for it while it is being obtained), else certmagic's on-demand
// one (from memory, the store, or ordered now when Allow accepts the name).
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	acmeALPN := len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acmez.ACMETLS1Protocol
	if !acmeALPN {
		name := NormalizeName(hello.ServerName)
		if c := m.static(name); c != nil {
			return c, nil
		}
		if by := m.managed.covering(name); by != "" {
			return m.serveManaged(hello, by)
		}
	}
	return m.cfg.GetCertificate(hello)
}

// static returns the first static certificate covering name ("" takes the
// first one), or nil.
func (m *Manager) static(name string) *tls.Certificate {
	st := m.statics()
	if name == "" && len(st) > 0 {
		return &st[0]
	}
	return Covering(st, name)
}

// statics returns Static and the certificates Files serve now.
func (m *Manager) statics() []tls.Certificate {
	if len(m.opts.Files) == 0 {
		return m.opts.Static
	}
	return append(slices.Clip(m.opts.Static), FileCerts(m.opts.Files)...)
}

// FileCerts returns the certificates fs serve now.
func FileCerts(fs []*FileCert) []tls.Certificate {
	out := make([]tls.Certificate, 0, len(fs))
	for _, f := range fs {
		out = append(out, *f.Certificate())
	}
	return out
}

// Covers reports whether a static certificate covers name.
func (m *Manager) Covers(name string) bool { return Covering(m.statics(), name) != nil }

// HandleHTTPChallenge answers an HTTP-01 challenge request (one this
// server or another on the same database started) and reports whether it
// did; anything else is left alone.
func (m *Manager) HandleHTTPChallenge(w http.ResponseWriter, r *http.Request) bool {
	return m.issuer.HandleHTTPChallenge(w, r)
}

// Close stops background maintenance (renewals) and the managed names'
// orders, and waits for the goroutines doing them, so nothing writes
// to the store once it returns (the server closes the store next). It is
// idempotent.
func (m *Manager) Close() { m.closed.Do(func() { m.end(); m.bg.Wait(); m.cache.Stop() }) }

// Covering returns the first of cs whose leaf covers name, or nil.
func Covering(cs []tls.Certificate, name string) *tls.Certificate {
	name = NormalizeName(name)
	for i := range cs {
		if name != "" && cs[i].Leaf != nil && cs[i].Leaf.VerifyHostname(name) == nil {
			return &cs[i]
		}
	}
	return nil
}
