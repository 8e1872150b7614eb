package certs

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestCertificatesListsFilesAndACME: after an order, the listing holds the
// file certificate and the obtained one with the dates of the served leaf,
// and no key material in its JSON.
func TestCertificatesListsFilesAndACME(t *testing.T) {
	ca := testkit.StartACMECA(t)
	db, _ := tempDB(t)
	var logs testkit.LogBuffer
	nb := time.Now().Add(-time.Hour).Truncate(time.Second)
	file, _ := testkit.SelfSignedValid(t, nb, nb.Add(72*time.Hour), "static.test")
	s := startSite(t, ca, db, newMemKeys(), Options{Static: []tls.Certificate{file}}, &logs)
	leaf, err := handshake(s.tlsAddr, "shop.test", ca.Roots())
	if err != nil {
		t.Fatalf("handshake: %v\n%s", err, logs.String())
	}
	list, err := s.m.Certificates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("%d certificates listed, want 2: %+v", len(list), list)
	}
	f, a := list[0], list[1] // ordered by expiry: the file's expires first
	if f.Source != SourceFile || f.Names[0] != "static.test" || !f.NotAfter.Equal(nb.Add(72*time.Hour)) || f.Serial != "01" {
		t.Errorf("file certificate listed as %+v", f)
	}
	if a.Source != SourceACME || a.Names[0] != "shop.test" || !a.NotAfter.Equal(leaf.NotAfter.UTC()) ||
		!a.NotBefore.Equal(leaf.NotBefore.UTC()) || a.Issuer != leaf.Issuer.String() || a.LastError != "" {
		t.Errorf("ACME certificate listed as %+v; served leaf %v..%v by %s", a, leaf.NotBefore, leaf.NotAfter, leaf.Issuer)
	}
	raw, _ := json.Marshal(list)
	if strings.Contains(string(raw), "PRIVATE") || strings.Contains(string(raw), "BEGIN") {
		t.Errorf("the listing holds PEM data: %s", raw)
	}
}

// TestCertificatesUnusedOnceNotServed: a certificate whose domain was
// taken off is listed Unused (the monitor's expiry alert leaves it out:
// it is no longer renewed); while Allow cannot tell, the listing fails
// rather than calling it unused.
func TestCertificatesUnusedOnceNotServed(t *testing.T) {
	ca := testkit.StartACMECA(t)
	db, _ := tempDB(t)
	var logs testkit.LogBuffer
	s := startSite(t, ca, db, newMemKeys(), Options{}, &logs)
	if _, err := handshake(s.tlsAddr, "shop.test", ca.Roots()); err != nil {
		t.Fatalf("handshake: %v\n%s", err, logs.String())
	}
	unused := func() bool {
		list, err := s.m.Certificates(context.Background())
		if err != nil || len(list) != 1 {
			t.Fatalf("listing: %v, %+v", err, list)
		}
		return list[0].Unused
	}
	if unused() {
		t.Error("a served domain's certificate listed as unused")
	}
	s.setAllowed("shop.test", false)
	if !unused() {
		t.Error("the certificate of a domain taken off is not listed as unused")
	}
	s.m.opts.Allow = func(context.Context, string) error { return errors.New("the database is unreachable") }
	if _, err := s.m.Certificates(context.Background()); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("listing while Allow fails: %v; want the failure", err)
	}
}

// TestFailuresKeptUntilObtained: certmagic's cert_failed is listed for the
// certificate's names until a cert_obtained for the name.
func TestFailuresKeptUntilObtained(t *testing.T) {
	var f failures
	ctx := context.Background()
	_ = f.event(ctx, "cert_failed", map[string]any{"identifier": "Shop.Test", "error": errors.New("rate limited: " + strings.Repeat("x", 600))})
	msg, at := f.of([]string{"other.test", "shop.test"})
	if !strings.HasPrefix(msg, "rate limited") || len(msg) > maxErrorLen+len("…") || at.IsZero() {
		t.Fatalf("failure %q at %v", msg, at)
	}
	_ = f.event(ctx, "cert_obtained", map[string]any{"identifier": "shop.test"})
	if msg, _ := f.of([]string{"shop.test"}); msg != "" {
		t.Errorf("failure %q still listed after the name was obtained", msg)
	}
}

func FuzzParseCertPEM(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCertPEM(data, "x.crt")
		if (c == nil) == (err == nil) {
			t.Fatalf("certificate %v with error %v", c != nil, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "x.crt") {
			t.Errorf("error %q does not name the key", err)
		}
	})
}
