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

	"github.com/caddyserver/certmagic"
	"github.com/mholt/acmez/v3"
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
	// allows. It runs before anything is loaded or ordered, at the first
	// handshake for the name and at each renewal. Required.
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
	Logger                          *slog.Logger // default slog.Default
}

// Manager answers TLS handshakes with static certificates and certificates
// obtained on demand, and answers ACME challenges. Close stops its
// background renewals.
type Manager struct {
	opts   Options
	cache  *certmagic.Cache
	cfg    *certmagic.Config
	issuer *certmagic.ACMEIssuer
	closed sync.Once
	// failures are certmagic's last errors per name (list.go).
	failures failures
}

// New returns a Manager. Nothing is ordered before a handshake asks.
func New(o Options) (*Manager, error) {
	if o.DB == nil || o.Keys == nil || o.Allow == nil {
		return nil, errors.New("certs: Options.DB, Keys and Allow are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.CA == "" {
		o.CA = LetsEncrypt
	}
	m := &Manager{opts: o}
	zl := zapLogger(o.Logger.With("component", "acme"))
	m.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return m.cfg, nil },
		Logger:           zl,
	})
	m.cfg = certmagic.New(m.cache, certmagic.Config{
		Storage:  NewStorage(o.DB, o.Keys),
		OnDemand: &certmagic.OnDemandConfig{DecisionFunc: m.decide},
		OCSP:     certmagic.OCSPConfig{DisableStapling: true}, // Let's Encrypt ended OCSP in 2025
		Logger:   zl,
		OnEvent:  m.failures.event,
	})
	m.issuer = certmagic.NewACMEIssuer(m.cfg, m.issuerTemplate(zl))
	m.cfg.Issuers = []certmagic.Issuer{m.issuer}
	return m, nil
}

func (m *Manager) issuerTemplate(zl *zap.Logger) certmagic.ACMEIssuer {
	o := m.opts
	t := certmagic.ACMEIssuer{CA: o.CA, Email: o.Email, Agreed: true, TrustedRoots: o.CARoots,
		DisableHTTPChallenge: o.DisableHTTP01, DisableTLSALPNChallenge: o.DisableTLSALPN01, Logger: zl}
	if o.CA != LetsEncrypt {
		t.TestCA = o.CA // certmagic retries against Let's Encrypt's staging otherwise
	}
	if host, port, ok := hostPort(o.HTTPAddr); ok {
		t.ListenHost, t.AltHTTPPort = host, port
	}
	if _, port, ok := hostPort(o.TLSAddr); ok {
		t.AltTLSALPNPort = port
	}
	return t
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
// (a sealed vault orders nothing: what it obtained could not be stored)
// and Allow must accept the name.
func (m *Manager) decide(ctx context.Context, name string) error {
	if _, _, err := m.opts.Keys.Current(ctx); err != nil {
		return fmt.Errorf("certificates cannot be stored: %w", err)
	}
	return m.opts.Allow(ctx, NormalizeName(name))
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
// static certificate covering the name, else certmagic's (from memory,
// the store, or ordered now when Allow accepts the name).
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	acmeALPN := len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acmez.ACMETLS1Protocol
	if !acmeALPN {
		if c := m.static(NormalizeName(hello.ServerName)); c != nil {
			return c, nil
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

// Close stops background maintenance (renewals). It is idempotent.
func (m *Manager) Close() { m.closed.Do(m.cache.Stop) }

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
