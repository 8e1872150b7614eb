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

// TestStorageCleaned: a started Manager cleans the store: a certificate
// expired for a month goes with its key and metadata, as does a lock whose
// holder died; a certificate expired yesterday (still listed, within the
// grace), a valid one and a held lock stay. Cleaning runs at most once a
// day for every server on the database: a certificate expired for a month
// stored after it stays through another clean, this Manager's or a second
// one's. Nothing cleaned the store before: expired certificates, their
// keys and dead servers' locks piled up for ever.
func TestStorageCleaned(t *testing.T) {
	ca := testkit.StartACMECA(t)
	db, path := tempDB(t)
	keys := newMemKeys()
	var logs testkit.LogBuffer
	s := startSite(t, ca, db, keys, Options{}, &logs)
	now, day := time.Now(), 24*time.Hour
	storeCert(t, s, "old.test", now.Add(-120*day), now.Add(-30*day))
	storeCert(t, s, "recent.test", now.Add(-90*day), now.Add(-day))
	storeCert(t, s, "shop.test", now.Add(-30*day), now.Add(60*day))
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO certs_locks (name, owner, expires) VALUES ('issue_cert_dead.test', 'x', $1), ('issue_cert_live.test', 'y', $2)`,
		now.Add(-time.Hour).UnixMilli(), now.Add(time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	s.m.Maintain()
	ik := s.m.issuer.IssuerKey()
	waitFor(t, "old.test's certificate is still stored\n"+logs.String(), func() bool {
		return !s.m.cfg.Storage.Exists(ctx, certmagic.StorageKeys.CertsSitePrefix(ik, "old.test"))
	})
	waitFor(t, "the dead server's lock is still there", func() bool { return lockCount(t, s, "issue_cert_dead.test") == 0 })
	for _, n := range []string{"recent.test", "shop.test"} {
		for _, k := range []string{certmagic.StorageKeys.SiteCert(ik, n), certmagic.StorageKeys.SitePrivateKey(ik, n), certmagic.StorageKeys.SiteMeta(ik, n)} {
			if !s.m.cfg.Storage.Exists(ctx, k) {
				t.Errorf("%s was deleted", k)
			}
		}
	}
	if lockCount(t, s, "issue_cert_live.test") != 1 {
		t.Error("a held lock was deleted")
	}
	storeCert(t, s, "later.test", now.Add(-120*day), now.Add(-30*day))
	s.m.clean(ctx)
	other := startSite(t, ca, openDB(t, path), keys, Options{}, &logs)
	other.m.clean(ctx)
	if storedLeaf(t, s, "later.test") == nil {
		t.Error("the store was cleaned again within a day")
	}
}

// lockCount is how many locks named name the store holds.
func lockCount(t *testing.T, s *acmeSite, name string) int {
	t.Helper()
	var n int
	if err := s.m.opts.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM certs_locks WHERE name = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
