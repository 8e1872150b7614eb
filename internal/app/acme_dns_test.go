package app

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/phoenixvc/phoenix/internal/certs"
	"github.com/phoenixvc/phoenix/internal/dnsupdate/dnsupdatetest"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

const (
	tsigKey    = "phoenix-acme"
	tsigSecret = "YXBwLWRuczAxLXRzaWctc2VjcmV0LW5ldmVyLWxvZ2dlZC0wMTIzNDU2"
)

// dnsZone runs the primary of shop.test and points the CA's DNS-01
// validation at it; the CA validates before the server starts, since
// managed names are ordered at the start (DNS-01 needs no listener).
func dnsZone(t *testing.T, ca *testkit.ACMECA) *dnsupdatetest.Server {
	t.Helper()
	z := dnsupdatetest.StartT(t, "shop.test", tsigKey, tsigSecret)
	ca.DelegateTXT(z.Addr)
	ca.Validate(1, 1) // no HTTP-01 or TLS-ALPN-01 here
	return z
}

// dnsOptions are a server's options with DNS-01 against z, its TSIG
// secret in the vault secret ACME_TSIG (stored when secret is not "").
func dnsOptions(t *testing.T, ca *testkit.ACMECA, z *dnsupdatetest.Server, dir, secret string, logs *testkit.LogBuffer) Options {
	t.Helper()
	o := Options{DataDir: dir, MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF}
	if secret != "" {
		a := startOpts(t, o)
		if _, err := a.Vault.Set(context.Background(), acmeSubject, "ACME_TSIG", vault.SecretString(secret), vault.SetOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := a.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	o.EdgeTLSListen = "127.0.0.1:0"
	o.ACME = ACMEOptions{Enabled: true, CA: ca.URL, CARootFile: ca.RootsFile, Domains: []string{"shop.test"},
		DNS01: &ACMEDNS01{Server: z.Addr, Key: tsigKey, SecretName: "ACME_TSIG", Resolvers: []string{z.Addr}, PropagationTimeout: 30 * time.Second}}
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return o
}

// TestACMEDNS01Wildcards: with DNS-01 the --acme-domain apex and the
// wildcard given to manageWildcards are obtained up front through the
// zone's primary; a.shop.test is served by the wildcard without an order;
// the challenge records are gone afterwards; the listing shows the
// wildcard; a restart serves both without an order; the TSIG secret is
// never in the log.
func TestACMEDNS01Wildcards(t *testing.T) {
	ca := testkit.StartACMECA(t)
	z := dnsZone(t, ca)
	var logs testkit.LogBuffer
	opts := dnsOptions(t, ca, z, t.TempDir(), tsigSecret, &logs)
	a := startOpts(t, opts)
	ctx := context.Background()
	if on, err := a.manageWildcards(ctx, []string{"*.shop.test"}); !on || err != nil {
		t.Fatalf("manageWildcards: %v %v", on, err)
	}
	// A handshake waits for the wildcard only as long as the edge's
	// handshake timeout (10s), which a loaded machine's DNS-01 order can
	// outlast: wait for the order here.
	eventually(t, "the wildcard is obtained", func() bool {
		list, err := a.certs.list(ctx)
		return err == nil && slices.ContainsFunc(list, func(i certs.Info) bool { return !i.Pending && slices.Contains(i.Names, "*.shop.test") })
	})
	_, _, leaf, err := getTLS(t, a, "a.shop.test", ca.Roots())
	if err != nil {
		t.Fatalf("a.shop.test: %v\n%s", err, logs.String())
	}
	if !slices.Equal(leaf.DNSNames, []string{"*.shop.test"}) {
		t.Fatalf("a.shop.test served %v; want the wildcard", leaf.DNSNames)
	}
	_, _, apex, err := getTLS(t, a, "shop.test", ca.Roots())
	if err != nil || !slices.Equal(apex.DNSNames, []string{"shop.test"}) || ca.Orders() != 2 {
		t.Fatalf("shop.test: %v %v after %d orders; want its own certificate, 2 orders", err, apex, ca.Orders())
	}
	eventually(t, "no _acme-challenge TXT left", func() bool { return len(z.Values("_acme-challenge.shop.test", dns.TypeTXT)) == 0 })
	list, err := a.certs.list(ctx)
	if err != nil || len(list) != 2 || !slices.Contains(list[0].Names, "*.shop.test") && !slices.Contains(list[1].Names, "*.shop.test") {
		t.Errorf("listing %+v, %v; want the wildcard and the apex", list, err)
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	b := startOpts(t, opts)
	if _, err := b.manageWildcards(ctx, []string{"*.shop.test"}); err != nil {
		t.Fatal(err)
	}
	if _, _, again, err := getTLS(t, b, "b.shop.test", ca.Roots()); err != nil || !again.Equal(leaf) || ca.Orders() != 2 {
		t.Errorf("after a restart: %v, same certificate %v, %d orders; want the stored wildcard, no order", err, again != nil && again.Equal(leaf), ca.Orders())
	}
	if logs.Contains(tsigSecret) {
		t.Error("the server log holds the TSIG secret")
	}
}

// TestACMEDNS01Refusals: a wildcard --acme-domain without DNS-01, and
// DNS-01 whose TSIG secret is not in the vault, stop the start with a
// usage error naming the flag and the fix; manageWildcards without
// DNS-01 reports it manages nothing.
func TestACMEDNS01Refusals(t *testing.T) {
	dir := t.TempDir()
	_, err := New(Options{DataDir: dir, EdgeTLSListen: "127.0.0.1:0", ACME: ACMEOptions{Enabled: true, Domains: []string{"*.shop.test"}}})
	if usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), "DNS-01") || !strings.Contains(usererr.HintOf(err), "--acme-dns-server") {
		t.Errorf("a wildcard without DNS-01: %v (hint %q)", err, usererr.HintOf(err))
	}
	ca := testkit.StartACMECA(t)
	z := dnsZone(t, ca)
	var logs testkit.LogBuffer
	o := dnsOptions(t, ca, z, t.TempDir(), "", &logs)
	o.Listen, o.EdgeListen = "127.0.0.1:0", "127.0.0.1:0"
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Start(context.Background())
	if err == nil {
		a.Stop(context.Background())
	}
	if usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), "--acme-dns-tsig-secret") || !strings.Contains(usererr.HintOf(err), "phoenix secret set ACME_TSIG") {
		t.Errorf("no secret in the vault: %v (hint %q)", err, usererr.HintOf(err))
	}
	// The key's base64 secret given instead of a name (one without +, /
	// or = passes as a vault name) is not echoed by the refusal, its hint
	// or the log.
	o = dnsOptions(t, ca, z, t.TempDir(), "", &logs)
	o.Listen, o.EdgeListen = "127.0.0.1:0", "127.0.0.1:0"
	o.ACME.DNS01.SecretName = tsigSecret
	if a, err = New(o); err != nil {
		t.Fatal(err)
	}
	if err = a.Start(context.Background()); err == nil {
		a.Stop(context.Background())
	}
	if usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), "not shown: it may be the key itself") ||
		strings.Contains(err.Error()+usererr.HintOf(err)+logs.String(), tsigSecret) {
		t.Errorf("the key given as the name: %v (hint %q); the log has it: %v", err, usererr.HintOf(err), logs.Contains(tsigSecret))
	}
	plain := startOpts(t, Options{DataDir: t.TempDir()})
	if on, err := plain.manageWildcards(context.Background(), []string{"*.shop.test"}); on || err != nil {
		t.Errorf("without DNS-01: %v %v; want false, nil", on, err)
	}
}

// TestACMEDNS01WrongSecret: a TSIG secret the primary rejects fails the
// order, not the server: the listing shows the name pending with BADSIG,
// the monitor's expiry alert leaves it out, and neither secret is logged.
func TestACMEDNS01WrongSecret(t *testing.T) {
	const wrong = "d3JvbmctYnV0LXZhbGlkLWJhc2U2NC1zZWNyZXQtMDEyMzQ1Njc4OQ=="
	ca := testkit.StartACMECA(t)
	z := dnsZone(t, ca)
	var logs testkit.LogBuffer
	a := startOpts(t, dnsOptions(t, ca, z, t.TempDir(), wrong, &logs))
	ctx := context.Background()
	eventually(t, "the failure in the listing", func() bool {
		list, err := a.certs.list(ctx)
		return err == nil && len(list) == 1 && list[0].Pending && strings.Contains(list[0].LastError, "BADSIG")
	})
	if mon, err := a.certs.forMonitor(ctx); err != nil || len(mon) != 0 {
		t.Errorf("the monitor sees %v, %v; want no certificate", mon, err)
	}
	if !logs.Contains("BADSIG") || logs.Contains(wrong) || logs.Contains(tsigSecret) {
		t.Errorf("the log: BADSIG %v, a secret %v; want BADSIG and no secret", logs.Contains("BADSIG"), logs.Contains(wrong) || logs.Contains(tsigSecret))
	}
}

// TestACMEDNS01SealedVault: a server started with the vault sealed still
// starts with DNS-01 on; the managed names wait, listed as pending with
// why, instead of stopping it.
func TestACMEDNS01SealedVault(t *testing.T) {
	ca := testkit.StartACMECA(t)
	z := dnsZone(t, ca)
	var logs testkit.LogBuffer
	o := dnsOptions(t, ca, z, t.TempDir(), tsigSecret, &logs)
	o.MasterKey = vault.SecretString("")
	a := startOpts(t, o)
	if !logs.Contains("the vault is sealed; DNS-01 orders wait") {
		t.Errorf("no warning about the sealed vault:\n%s", logs.String())
	}
	eventually(t, "shop.test pending with the sealed vault as its error", func() bool {
		list, err := a.certs.list(context.Background())
		return err == nil && len(list) == 1 && list[0].Pending && strings.Contains(list[0].LastError, "sealed")
	})
}
