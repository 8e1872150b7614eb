package vault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// CertInfo is the public side of a stored certificate: what the monitor
// needs to warn before expiry. It is metadata, not secret.
type CertInfo struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	DNSNames  []string  `json:"dns_names,omitempty"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Chain     int       `json:"chain"`   // certificates in the file, leaf included
	HasKey    bool      `json:"has_key"` // the PEM holds a private key
	Serial    string    `json:"serial"`
}

// PEMContentType is the content type of certificate versions.
const PEMContentType = "application/x-pem-file"

// ParseCertificatePEM reads a PEM bundle: the leaf certificate first, then
// its chain, and optionally the private key. Errors name the block, never
// key material.
func ParseCertificatePEM(data []byte) (CertInfo, error) {
	var certs []*x509.Certificate
	var info CertInfo
	var key *pem.Block
	keyAt, leafAt := 0, 0
	rest := data
	for i := 1; ; i++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch {
		case b.Type == "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return CertInfo{}, fmt.Errorf("PEM block %d: certificate does not parse: %w", i, err)
			}
			if certs = append(certs, c); len(certs) == 1 {
				leafAt = i
			}
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			if info.HasKey {
				return CertInfo{}, fmt.Errorf("PEM block %d: a second private key", i)
			}
			info.HasKey, key, keyAt = true, b, i
		default:
			return CertInfo{}, fmt.Errorf("PEM block %d: type %q is neither a certificate nor a private key", i, clip(b.Type))
		}
	}
	if len(certs) == 0 {
		return CertInfo{}, fmt.Errorf("no CERTIFICATE block found; is this a PEM file?")
	}
	for i := 1; i < len(certs); i++ {
		if err := certs[i-1].CheckSignatureFrom(certs[i]); err != nil {
			return CertInfo{}, fmt.Errorf("certificate %d is not signed by certificate %d: order the file leaf first, then each issuer", i, i+1)
		}
	}
	if key != nil {
		if err := keyMatches(certs[0], key, keyAt, leafAt); err != nil {
			return CertInfo{}, err
		}
	}
	leaf := certs[0]
	info.Subject, info.Issuer = leaf.Subject.String(), leaf.Issuer.String()
	info.DNSNames, info.NotBefore, info.NotAfter = leaf.DNSNames, leaf.NotBefore.UTC(), leaf.NotAfter.UTC()
	info.Chain, info.Serial = len(certs), leaf.SerialNumber.Text(16)
	return info, nil
}

// keyMatches checks that the private key (PEM block keyAt) is the leaf
// certificate's (block leafAt): a bundle with another key was stored, and
// every TLS handshake with it failed. Errors never hold key material.
func keyMatches(leaf *x509.Certificate, key *pem.Block, keyAt, leafAt int) error {
	_, err := tls.X509KeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}), pem.EncodeToMemory(key))
	switch {
	case err == nil:
		return nil
	case strings.Contains(err.Error(), "does not match"):
		return fmt.Errorf("PEM block %d: the private key is not the key of the leaf certificate (block %d, %s): put the leaf's own key in the file",
			keyAt, leafAt, clip(leaf.Subject.String()))
	}
	return fmt.Errorf("PEM block %d: the private key does not parse (PKCS#1, PKCS#8 or EC, not encrypted)", keyAt)
}

// SetCertificate stores a PEM bundle as a new version of name (kind
// certificate). Its expiry is the leaf's NotAfter unless o gives one.
func (v *Vault) SetCertificate(ctx context.Context, subj Subject, name string, pemData Secret, o SetOptions) (VersionInfo, error) {
	info, err := ParseCertificatePEM(pemData.raw())
	if err != nil {
		return VersionInfo{}, usererr.Wrap(usererr.Invalid, err, fmt.Sprintf("certificate %s: %v", AuditedName(name), err))
	}
	o.Kind, o.ContentType, o.cert = KindCertificate, PEMContentType, &info
	if o.ExpiresAt.IsZero() {
		o.ExpiresAt = info.NotAfter
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = info.NotBefore
	}
	return v.Set(ctx, subj, name, pemData, o)
}

// Expiry is a secret or certificate that expires soon or has expired.
type Expiry struct {
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	Version   int       `json:"version"`
	ExpiresAt time.Time `json:"expires_at"`
	DaysLeft  int       `json:"days_left"` // negative when expired
	Subject   string    `json:"subject,omitempty"`
}

// Expiring lists the newest version of every live secret subj may list
// (the policy's list permission, as List decides) that expires within
// `within` (or has expired), soonest first; the server's own code
// (subj.System) sees every one. It needs no key: expiry dates are
// metadata.
func (v *Vault) Expiring(ctx context.Context, subj Subject, within time.Duration) ([]Expiry, error) {
	if within <= 0 {
		within = v.opts.WarnBefore
	}
	now := v.now()
	rows, err := v.opts.DB.QueryContext(ctx, infoQuery+` WHERE s.deleted_at = '' AND v.expires_at <> '' AND v.expires_at <= $1
		ORDER BY v.expires_at`, fmtTime(now.Add(within)))
	if err != nil {
		return nil, fmt.Errorf("vault: expiring secrets: %w", err)
	}
	defer rows.Close()
	out := []Expiry{}
	for rows.Next() {
		s, r, err := scanInfo(rows)
		if err != nil {
			return nil, fmt.Errorf("vault: expiring secrets: %w", err)
		}
		if !subj.System && v.pol.Check(subj, PermList, s.name, s.production) != nil {
			continue
		}
		vi := r.info(s.name)
		e := Expiry{Name: s.name, Kind: s.kind, Version: vi.Version, ExpiresAt: vi.ExpiresAt,
			DaysLeft: daysUntil(now, vi.ExpiresAt)}
		if vi.Certificate != nil {
			e.Subject = vi.Certificate.Subject
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// SigningKeyName is where the artifact signing key lives in the vault (a
// minisign secret key file, kind signing-key).
const SigningKeyName = "PHOENIX_SIGNING_KEY"

// SetSigningKey stores the artifact signing key (the bytes of a minisign
// secret key file) as a new version of SigningKeyName.
func (v *Vault) SetSigningKey(ctx context.Context, subj Subject, key Secret) (VersionInfo, error) {
	return v.Set(ctx, subj, SigningKeyName, key, SetOptions{Kind: KindSigningKey, ContentType: "application/x-minisign-key"})
}

// SigningKey returns the newest signing key; the caller parses it (e.g.
// with artifact/sign.ParsePrivateKey).
func (v *Vault) SigningKey(ctx context.Context, subj Subject) (Secret, error) {
	s, _, err := v.Get(ctx, subj, SigningKeyName, 0)
	return s, err
}

// AuditKeyName is where the audit log's checkpoint key lives in the vault
// (a sumdb note signer key and its verifier key, one a line; kind
// signing-key).
const AuditKeyName = "PHOENIX_AUDIT_KEY"

// SetAuditKey stores the audit checkpoint key as a new version of
// AuditKeyName.
func (v *Vault) SetAuditKey(ctx context.Context, subj Subject, key Secret) (VersionInfo, error) {
	return v.Set(ctx, subj, AuditKeyName, key, SetOptions{Kind: KindSigningKey, ContentType: "application/x-sumdb-note-key"})
}

// AuditKey returns the newest audit checkpoint key; the caller parses it
// (audit.ParseKey).
func (v *Vault) AuditKey(ctx context.Context, subj Subject) (Secret, error) {
	s, _, err := v.Get(ctx, subj, AuditKeyName, 0)
	return s, err
}
