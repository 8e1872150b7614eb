package certs

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"strings"

	"github.com/caddyserver/certmagic"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// NormalizeName lower-cases a host name and drops a trailing dot.
func NormalizeName(name string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
}

// CheckName reports whether name (normalized) can have a certificate from a
// public ACME CA: a DNS name of two labels or more, letters, digits and
// '-' (IDNs in punycode), no port, not an address and not an internal name
// (localhost, *.local, *.internal, *.home.arpa). A wildcard is accepted
// only as the whole leftmost label over two labels or more
// (*.example.com); whether one may be ordered is the caller's question
// (only DNS-01 can prove one: see IsWildcard).
func CheckName(name string) error {
	bad := func(why string) error {
		return usererr.New(usererr.Invalid, "domain %q cannot have an ACME certificate: %s", clip(name), why).
			WithHint("give a public DNS name, e.g. www.example.com or *.example.com (IDNs in punycode: xn--…)")
	}
	if name == "" || len(name) > 253 {
		return bad("a DNS name has 1 to 253 characters")
	}
	base, wildcard := strings.CutPrefix(name, "*.")
	if _, err := netip.ParseAddr(base); err == nil {
		return bad("it is an IP address")
	}
	labels := strings.Split(base, ".")
	switch {
	case wildcard && len(labels) < 2:
		return bad("a wildcard covers names under a domain of two labels or more, e.g. *.example.com")
	case len(labels) < 2:
		return bad("it has a single label")
	}
	for _, l := range labels {
		if l == "*" {
			return bad("a wildcard must be the whole leftmost label, e.g. *.example.com")
		}
		if !validLabel(l) {
			return bad(fmt.Sprintf("label %q is not 1-63 lowercase letters, digits or '-' (not first or last)", clip(l)))
		}
	}
	if !certmagic.SubjectQualifiesForPublicCert(base) {
		return bad("it is an internal name")
	}
	return nil
}

// IsWildcard reports whether name is a wildcard (*.example.com).
func IsWildcard(name string) bool { return strings.HasPrefix(name, "*.") }

// WildcardOf returns the wildcard that would cover name (*.example.com for
// a.example.com), or "" for a name of fewer than three labels or a
// wildcard itself.
func WildcardOf(name string) string {
	_, rest, ok := strings.Cut(name, ".")
	if !ok || IsWildcard(name) || !strings.Contains(rest, ".") {
		return ""
	}
	return "*." + rest
}

func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := range len(l) {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// ParseRoots reads PEM CA certificates (what --acme-ca-root names) into a
// pool; file names the input in errors. Anything but CERTIFICATE blocks,
// or no certificate at all, is an error.
func ParseRoots(data []byte, file string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			if strings.TrimSpace(string(rest)) != "" {
				return nil, fmt.Errorf("%s: text after certificate %d is not PEM", file, n)
			}
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s: block %d is %q, want CERTIFICATE (a CA certificate, not a key)", file, n+1, clip(b.Type))
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", file, n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate in it", file)
	}
	return pool, nil
}
