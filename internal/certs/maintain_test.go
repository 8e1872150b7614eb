package certs

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// storeCert stores, as the on-demand issuer of s would, a self-signed
// certificate for name valid from notBefore to notAfter, with its key and
// metadata.
func storeCert(t *testing.T, s *acmeSite, name string, notBefore, notAfter time.Time) {
	t.Helper()
	c, _ := testkit.SelfSignedValid(t, notBefore, notAfter, name)
	key, err := certmagic.PEMEncodePrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	ik, ctx := s.m.issuer.IssuerKey(), context.Background()
	for k, v := range map[string][]byte{
		certmagic.StorageKeys.SiteCert(ik, name):       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}),
		certmagic.StorageKeys.SitePrivateKey(ik, name): key,
		certmagic.StorageKeys.SiteMeta(ik, name):       []byte(`{"sans":["` + name + `"],"issuer_data":{}}`),
	} {
		if err := s.m.cfg.Storage.Store(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
}

// storedLeaf returns the stored certificate of name, nil when there is none.
func storedLeaf(t *testing.T, s *acmeSite, name string) *x509.Certificate {
	t.Helper()
	data, err := s.m.cfg.Storage.Load(context.Background(), certmagic.StorageKeys.SiteCert(s.m.issuer.IssuerKey(), name))
	if err != nil {
		return nil
	}
	leaf, err := ParseCertPEM(data, name)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

// waitFor polls cond every 20 ms until it holds, failing t after 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %s", what)
		}
	}
}

// TestStoredCertificateRenewedWithoutHandshake: after a start, the stored
// certificate of a custom domain that expires tomorrow is loaded and
// renewed by certmagic's maintenance pass (called here rather than
// awaited for 10 minutes), with no TLS handshake for the name; the stored
// certificate of a name that is no custom domain any more is neither
// loaded nor renewed. certmagic alone loaded an on-demand certificate at
// the first handshake for its name, and its maintenance skipped on-demand
// certificates: only a visit renewed one.
func TestStoredCertificateRenewedWithoutHandshake(t *testing.T) {
	ca := testkit.StartACMECA(t)
	db, _ := tempDB(t)
	var logs testkit.LogBuffer
	s := startSite(t, ca, db, newMemKeys(), Options{}, &logs)
	now := time.Now()
	storeCert(t, s, "shop.test", now.Add(-80*24*time.Hour), now.Add(24*time.Hour))
	storeCert(t, s, "gone.test", now.Add(-80*24*time.Hour), now.Add(24*time.Hour))
	old := storedLeaf(t, s, "shop.test")
	s.m.Maintain()
	waitFor(t, "shop.test's stored certificate is not in the cache", func() bool {
		return len(s.m.cache.AllMatchingCertificates("shop.test")) > 0
	})
	if err := s.m.cache.RenewManagedCertificates(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "shop.test's certificate was not renewed\n"+logs.String(), func() bool {
		leaf := storedLeaf(t, s, "shop.test")
		return leaf != nil && !leaf.Equal(old) && leaf.NotAfter.After(now.Add(30*24*time.Hour))
	})
	if ca.Orders() != 1 {
		t.Errorf("%d orders; want 1, shop.test's renewal", ca.Orders())
	}
	if len(s.m.cache.AllMatchingCertificates("gone.test")) != 0 {
		t.Error("gone.test, no custom domain any more, was loaded to be renewed")
	}
	waitFor(t, "the renewed certificate is not served", func() bool {
		leaf, err := handshake(s.tlsAddr, "shop.test", ca.Roots())
		return err == nil && leaf.VerifyHostname("shop.test") == nil
	})
}
