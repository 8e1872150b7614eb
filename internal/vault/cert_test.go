package vault

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// testCA makes a CA and a leaf for www.example.test valid for days from a
// fixed time near the test clock; it returns leaf+key+CA PEM parts.
func testChain(t *testing.T, days int) (leafPEM, keyPEM, caPEM []byte) {
	t.Helper()
	start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: start, NotAfter: start.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "www.example.test"},
		DNSNames: []string{"www.example.test"}, NotBefore: start, NotAfter: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, days)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}

// testCertPEM is a bundle: key, leaf, CA.
func testCertPEM(t *testing.T, days int) ([]byte, []byte) {
	leaf, key, ca := testChain(t, days)
	return append(append(append([]byte{}, key...), leaf...), ca...), ca
}

// pemKeyBody is the first base64 line of the private key block.
func pemKeyBody(t *testing.T, bundle []byte) string {
	t.Helper()
	_, after, _ := strings.Cut(string(bundle), "-----BEGIN PRIVATE KEY-----\n")
	line, _, _ := strings.Cut(after, "\n")
	if len(line) < 40 {
		t.Fatal("no key body in the bundle")
	}
	return line
}

func TestCertificates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bundle, _ := testCertPEM(t, 20)
	vi, err := e.v.SetCertificate(ctx, admin, "SSL_CERTIFICATE", NewSecret(bundle), SetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := vi.Certificate
	if c == nil || c.Chain != 2 || !c.HasKey || c.Subject != "CN=www.example.test" || c.DNSNames[0] != "www.example.test" {
		t.Fatalf("cert info = %+v", c)
	}
	if vi.ContentType != PEMContentType || !vi.ExpiresAt.Equal(c.NotAfter) {
		t.Fatalf("version = %+v", vi)
	}
	if len(vi.Warnings) != 1 || !strings.HasPrefix(vi.Warnings[0], "expires in 20 days") {
		t.Fatalf("warnings = %v", vi.Warnings)
	}
	got := e.get(t, "SSL_CERTIFICATE", 0)
	if got != string(bundle) {
		t.Fatal("the bundle did not round-trip")
	}
	e.set(t, "LONG_LIVED", "xxxx")
	exp, err := e.v.Expiring(ctx, admin, 30*24*time.Hour)
	if err != nil || len(exp) != 1 || exp[0].Name != "SSL_CERTIFICATE" || exp[0].DaysLeft != 20 || exp[0].Kind != KindCertificate {
		t.Fatalf("Expiring = %+v, %v", exp, err)
	}
	if exp, _ := e.v.Expiring(ctx, admin, 10*24*time.Hour); len(exp) != 0 {
		t.Fatalf("Expiring(10d) = %+v", exp)
	}
	e.clock.Add(25 * 24 * time.Hour)
	if exp, _ := e.v.Expiring(ctx, admin, time.Hour); len(exp) != 1 || exp[0].DaysLeft >= 0 {
		t.Fatalf("expired cert: %+v", exp)
	}
}

func TestParseCertificatePEM(t *testing.T) {
	leaf, key, ca := testChain(t, 90)
	_, otherKey, _ := testChain(t, 90)
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"leaf only", leaf, ""},
		{"key leaf chain", cat(key, leaf, ca), ""},
		{"chain in the wrong order", cat(ca, leaf), "is not signed by certificate 2"},
		{"no certificate", key, "no CERTIFICATE block"},
		{"not PEM", []byte("hello"), "no CERTIFICATE block"},
		{"two keys", cat(key, key, leaf), "a second private key"},
		{"other block", cat(leaf, pem.EncodeToMemory(&pem.Block{Type: "OPENSSH THING", Bytes: []byte{1}})), "neither a certificate"},
		{"broken certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}), "does not parse"},
		// Stored, and every TLS handshake with it failed.
		{"another certificate's key", cat(otherKey, leaf, ca), "PEM block 1: the private key is not the key of the leaf certificate (block 2, CN=www.example.test)"},
		{"broken key", cat(leaf, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}})), "PEM block 2: the private key does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCertificatePEM(tt.in)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), pemKeyBody(t, cat(key, leaf))) || strings.Contains(err.Error(), pemKeyBody(t, cat(otherKey, leaf)))) {
				t.Fatal("error leaks key material")
			}
		})
	}
	e := newEnv(t)
	if _, err := e.v.SetCertificate(context.Background(), admin, "BAD", NewSecret(key), SetOptions{}); usererr.KindOf(err) != usererr.Invalid {
		t.Fatalf("SetCertificate without a certificate: %v", err)
	}
}

func TestSigningKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	key := "untrusted comment: minisign encrypted secret key\nRWRTY0Iy..."
	if _, err := e.v.SetSigningKey(ctx, server, SecretString(key)); err != nil {
		t.Fatal(err)
	}
	got, err := e.v.SigningKey(ctx, server)
	if err != nil || got.Reveal() != key {
		t.Fatalf("SigningKey = %v", err)
	}
	in, _ := e.v.Describe(ctx, admin, SigningKeyName)
	if in.Kind != KindSigningKey {
		t.Fatalf("kind = %q", in.Kind)
	}
}

func TestAuditKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	key := "PRIVATE+KEY+phoenix-audit+00000000+AAAA\nphoenix-audit+00000000+BBBB\n"
	if _, err := e.v.SetAuditKey(ctx, server, SecretString(key)); err != nil {
		t.Fatal(err)
	}
	got, err := e.v.AuditKey(ctx, server)
	if err != nil || got.Reveal() != key {
		t.Fatalf("AuditKey = %v", err)
	}
	if in, _ := e.v.Describe(ctx, admin, AuditKeyName); in.Kind != KindSigningKey {
		t.Fatalf("kind = %q", in.Kind)
	}
}

// TestOnUnsealRunsAfterInitAndUnseal: the hook sees an open vault, and a
// wrong key calls it not.
func TestOnUnsealRunsAfterInitAndUnseal(t *testing.T) {
	ctx := context.Background()
	var v *Vault
	var calls []bool // sealed, as the hook saw it
	hook := func(o *Options) { o.OnUnseal = func(context.Context) { calls = append(calls, v.Sealed()) } }
	fresh := &env{dir: t.TempDir(), clock: &clock{t: time.Now()}, audit: &recorder{}, logs: &bytes.Buffer{}}
	fresh.db = openDB(t, fresh.dir)
	t.Cleanup(func() { fresh.db.Close() })
	v = fresh.open(t, hook)
	if err := v.Init(ctx, SecretString(testMaster)); err != nil {
		t.Fatal(err)
	}
	v = fresh.open(t, hook)
	if err := v.Unseal(ctx, SecretString("a wrong master key, long enough")); err == nil {
		t.Fatal("a wrong key unsealed")
	}
	if err := v.Unseal(ctx, SecretString(testMaster)); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0] || calls[1] {
		t.Fatalf("OnUnseal calls (sealed at each) = %v, want 2 with the vault open", calls)
	}
}
