package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"
)

// Sources of a certificate in Info.
const (
	SourceFile = "file" // --edge-tls-cert
	SourceACME = "acme" // obtained and renewed by the Manager
)

// Info describes one certificate the edge holds: what it covers, who
// issued it and when it is valid. It never carries key material.
type Info struct {
	Names     []string  `json:"names"`
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before,omitzero"` // absent while Pending
	NotAfter  time.Time `json:"not_after,omitzero"`  // absent while Pending
	Source    string    `json:"source"`              // SourceFile or SourceACME
	// Pending marks a name managed through DNS-01 (SetManaged), or being
	// ordered on demand, that has no certificate in the store yet: Names
	// holds it, the dates are zero and LastError says why the last order
	// failed, if one did.
	Pending bool `json:"pending,omitempty"`
	// Unused marks an ACME certificate none of whose names the edge serves
	// any more (the domain taken off, the environment deleted): it is not
	// renewed, and stays in the store.
	Unused bool `json:"unused,omitempty"`
	// LastError is certmagic's last failure to obtain or renew a name of
	// this certificate since this server started, with its time; empty
	// when the latest attempt succeeded.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// Describe returns the Info of a parsed leaf certificate.
func Describe(leaf *x509.Certificate, source string) Info {
	names := slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && leaf.Subject.CommonName != "" {
		names = []string{leaf.Subject.CommonName}
	}
	return Info{Names: names, Subject: leaf.Subject.String(), Issuer: leaf.Issuer.String(),
		Serial: hex.EncodeToString(leaf.SerialNumber.Bytes()), NotBefore: leaf.NotBefore.UTC(),
		NotAfter: leaf.NotAfter.UTC(), Source: source}
}

// Files describes certificates loaded from files (their leaves are
// parsed when tls.LoadX509KeyPair did not).
func Files(cs []tls.Certificate) []Info {
	var out []Info
	for _, c := range cs {
		leaf := c.Leaf
		if leaf == nil && len(c.Certificate) > 0 {
			leaf, _ = x509.ParseCertificate(c.Certificate[0])
		}
		if leaf != nil {
			out = append(out, Describe(leaf, SourceFile))
		}
	}
	return out
}

// ParseCertPEM returns the leaf (the first CERTIFICATE block) of a PEM
// chain; name says where it came from in errors.
func ParseCertPEM(data []byte, name string) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("%s: no PEM CERTIFICATE block", name)
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			return c, nil
		}
	}
}

// Certificates lists the static certificates, then every certificate
// certmagic keeps in the store (obtained by this server or another on
// the same database; a wildcard's Names hold *.example.com), ordered by
// expiry, then the managed names, and the names being ordered on demand,
// that have none yet (Pending). A certificate no name of which is served
// any more is Unused; an Allow that fails otherwise than NotServed fails
// the listing. Only the public .crt values are read;
// private keys are never loaded.
func (m *Manager) Certificates(ctx context.Context) ([]Info, error) {
	out := Files(m.statics())
	stored, err := m.storedCerts(ctx, "certificates")
	if err != nil {
		return nil, err
	}
	for _, sc := range stored {
		in := Describe(sc.leaf, SourceACME)
		if in.Unused, err = m.unused(ctx, in.Names); err != nil {
			return nil, fmt.Errorf("certs: is %s still served: %w", in.Names[0], err)
		}
		in.LastError, in.LastErrorAt = m.failures.of(in.Names)
		out = append(out, in)
	}
	slices.SortStableFunc(out, func(a, b Info) int { return a.NotAfter.Compare(b.NotAfter) })
	return append(out, m.pending(out)...), nil
}

// storedCert is a certificate certmagic keeps in the store: its key (the
// .crt value) and its leaf.
type storedCert struct {
	key  string
	leaf *x509.Certificate
}

// storedCerts reads the certificates stored under dir ("certificates",
// or one issuer's folder); one that does not parse is logged and left
// out. Only the public .crt values are read.
func (m *Manager) storedCerts(ctx context.Context, dir string) ([]storedCert, error) {
	keys, err := m.cfg.Storage.List(ctx, dir, true)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var out []storedCert
	for _, k := range keys {
		if !strings.HasSuffix(k, ".crt") {
			continue
		}
		data, err := m.cfg.Storage.Load(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("certs: read %s: %w", k, err)
		}
		leaf, err := ParseCertPEM(data, k)
		if err != nil {
			m.opts.Logger.Warn("certs: unreadable certificate in the store", "key", k, "err", err)
			continue
		}
		out = append(out, storedCert{key: k, leaf: leaf})
	}
	return out, nil
}

// pending returns an Info for each managed name, and each name being
// ordered on demand, that no ACME certificate of have names.
func (m *Manager) pending(have []Info) []Info {
	got := map[string]bool{}
	for _, in := range have {
		for _, n := range in.Names {
			if in.Source == SourceACME {
				got[NormalizeName(n)] = true
			}
		}
	}
	var out []Info
	for _, n := range slices.Concat(m.Managed(), m.orders.names()) {
		if !got[n] {
			got[n] = true
			in := Info{Names: []string{n}, Source: SourceACME, Pending: true}
			in.LastError, in.LastErrorAt = m.failures.of(in.Names)
			out = append(out, in)
		}
	}
	return out
}

// failures remembers certmagic's last failure per name, cleared when the
// name is obtained again.
type failures struct {
	mu   sync.Mutex
	last map[string]failure
}

type failure struct {
	msg string
	at  time.Time
}

// maxErrorLen caps an error kept for the listing.
const maxErrorLen = 500

// event is certmagic's OnEvent: it keeps cert_failed errors and forgets
// them at cert_obtained.
func (f *failures) event(_ context.Context, name string, data map[string]any) error {
	id, _ := data["identifier"].(string)
	if id == "" {
		return nil
	}
	id = NormalizeName(id)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch name {
	case "cert_failed":
		f.keep(id, fmt.Sprint(data["error"]))
	case "cert_obtained":
		delete(f.last, id)
	}
	return nil
}

// record keeps msg as name's last failure.
func (f *failures) record(name, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keep(NormalizeName(name), msg)
}

// forget drops name's last failure.
func (f *failures) forget(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.last, NormalizeName(name))
}

// shorten cuts an error kept for the listing or the alert to maxErrorLen.
func shorten(msg string) string {
	if len(msg) > maxErrorLen {
		return msg[:maxErrorLen] + "…"
	}
	return msg
}

// keep stores a failure, shortened; f.mu is held.
func (f *failures) keep(id, msg string) {
	msg = shorten(msg)
	if f.last == nil {
		f.last = map[string]failure{}
	}
	f.last[id] = failure{msg: msg, at: time.Now().UTC()}
}

// of returns the newest failure of any of names.
func (f *failures) of(names []string) (string, time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var best failure
	for _, n := range names {
		if e, ok := f.last[NormalizeName(n)]; ok && e.at.After(best.at) {
			best = e
		}
	}
	return best.msg, best.at
}
