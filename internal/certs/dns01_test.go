package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/phoenixvc/phoenix/internal/dnsupdate"
	"github.com/phoenixvc/phoenix/internal/dnsupdate/dnsupdatetest"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

const (
	tsigKey    = "acme-update"
	tsigSecret = "ZG5zMDEtdGVzdC1zZWNyZXQtbmV2ZXItaW4tbG9ncy0wMTIzNDU2Nzg5"
	wrongKey   = "d3Jvbmctc2VjcmV0LWFsc28tbmV2ZXItaW4tbG9ncy0wMTIzNDU2Nzg5"
)

// startZone runs the primary of shop.test (UDP and TCP) and points the
// CA's DNS-01 validation at it.
func startZone(t *testing.T, ca *testkit.ACMECA) *dnsupdatetest.Server {
	t.Helper()
	z := dnsupdatetest.StartT(t, "shop.test", tsigKey, tsigSecret)
	ca.DelegateTXT(z.Addr)
	return z
}

// dns01 is the DNS-01 configuration for z whose secret is read through
// secret (counting the reads).
func dns01(z *dnsupdatetest.Server, secret string, reads *atomic.Int64) *DNS01 {
	return &DNS01{Server: z.Addr, Key: tsigKey, Resolvers: []string{z.Addr}, PropagationTimeout: 30 * time.Second,
		Secret: func(context.Context) (string, error) { reads.Add(1); return secret, nil }}
}

// dnsEnv is what a DNS-01 test needs: pebble, the zone's primary, a
// database, keys, the log and the count of secret reads.
type dnsEnv struct {
	ca    *testkit.ACMECA
	z     *dnsupdatetest.Server
	db    *store.DB
	keys  *memKeys
	logs  testkit.LogBuffer
	reads atomic.Int64
}

func newDNSEnv(t *testing.T) *dnsEnv {
	e := &dnsEnv{ca: testkit.StartACMECA(t), keys: newMemKeys()}
	e.z = startZone(t, e.ca)
	e.db, _ = tempDB(t)
	return e
}

// site starts a Manager with DNS-01 against the zone and the right secret.
func (e *dnsEnv) site(t *testing.T, o Options) *acmeSite {
	o.DNS01 = dns01(e.z, tsigSecret, &e.reads)
	return startSite(t, e.ca, e.db, e.keys, o, &e.logs)
}

// eventually polls cond every 50ms until it holds or 60s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDNS01Wildcard: a wildcard and its apex managed through DNS-01 are
// ordered up front (two challenges on one TXT name at once), validated by
// the CA against the zone, and the TXT records removed afterwards; a
// handshake for a.shop.test is served by the wildcard with no order and no
// on-demand decision of its own; the listing shows the wildcard; setting
// the same names again changes nothing, and a second Manager on the same
// database (a restart) serves the stored certificates without an order.
// The TSIG secret is read at each update and never logged.
func TestDNS01Wildcard(t *testing.T) {
	e := newDNSEnv(t)
	ca, z, logs := e.ca, e.z, &e.logs
	s := e.site(t, Options{})
	ctx := context.Background()
	if err := s.m.SetManaged(ctx, []string{"*.Shop.test.", "shop.test"}); err != nil {
		t.Fatal(err)
	}
	leaf, err := handshake(s.tlsAddr, "a.shop.test", ca.Roots())
	if err != nil {
		t.Fatalf("a.shop.test: %v\n%s", err, logs.String())
	}
	if !slices.Equal(leaf.DNSNames, []string{"*.shop.test"}) {
		t.Fatalf("a.shop.test is served %v; want the wildcard", leaf.DNSNames)
	}
	if apex, err := handshake(s.tlsAddr, "shop.test", ca.Roots()); err != nil || !slices.Equal(apex.DNSNames, []string{"shop.test"}) {
		t.Fatalf("shop.test: %v %v", apex, err)
	}
	if ca.Orders() != 2 || s.http01.Load() != 0 || len(s.asked()) != 0 {
		t.Errorf("%d orders, %d HTTP-01 answers, decisions %v; want 2 DNS-01 orders and no on-demand decision", ca.Orders(), s.http01.Load(), s.asked())
	}
	if err := s.m.decide(ctx, "c.shop.test"); err == nil || !strings.Contains(err.Error(), "managed certificate of *.shop.test") {
		t.Errorf("the on-demand decision for a name the wildcard covers: %v; want a refusal naming it", err)
	}
	if _, err := handshake(s.tlsAddr, "x.a.shop.test", ca.Roots()); err == nil {
		t.Error("x.a.shop.test got a certificate: the wildcard covers one label only")
	}
	eventually(t, "the challenge TXT records removed", func() bool {
		return len(z.Values("_acme-challenge.shop.test", dns.TypeTXT)) == 0
	})
	if e.reads.Load() < 4 {
		t.Errorf("the secret was read %d times; want once per update (2 adds, 2 deletes)", e.reads.Load())
	}
	checkListed(t, s.m, "*.shop.test")

	if err := s.m.SetManaged(ctx, []string{"shop.test", "*.shop.test"}); err != nil || ca.Orders() != 2 {
		t.Errorf("the same names again: %v, %d orders; want nothing new", err, ca.Orders())
	}
	s.stop()
	again := e.site(t, Options{})
	if err := again.m.SetManaged(ctx, []string{"*.shop.test"}); err != nil {
		t.Fatal(err)
	}
	if l, err := handshake(again.tlsAddr, "b.shop.test", ca.Roots()); err != nil || !l.Equal(leaf) || ca.Orders() != 2 {
		t.Errorf("after a restart: %v, same certificate %v, %d orders; want the stored wildcard and no order", err, l != nil && l.Equal(leaf), ca.Orders())
	}
	if logs.Contains(tsigSecret) {
		t.Error("the log holds the TSIG secret")
	}
}

// checkListed: Certificates lists name's ACME certificate, not pending.
func checkListed(t *testing.T, m *Manager, name string) {
	t.Helper()
	list, err := m.Certificates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range list {
		if slices.Contains(in.Names, name) && in.Source == SourceACME && !in.Pending && !in.NotAfter.IsZero() {
			return
		}
	}
	t.Errorf("%s is not listed with its certificate: %+v", name, list)
}

// TestDNS01WrongSecret: a secret the primary rejects fails the order with
// BADSIG in the listing's pending entry and the log, never the secrets;
// handshakes covered by the wildcard fail without an order of their own.
func TestDNS01WrongSecret(t *testing.T) {
	ca := testkit.StartACMECA(t)
	z := startZone(t, ca)
	db, _ := tempDB(t)
	var logs testkit.LogBuffer
	var reads atomic.Int64
	s := startSite(t, ca, db, newMemKeys(), Options{DNS01: dns01(z, wrongKey, &reads)}, &logs)
	if err := s.m.SetManaged(context.Background(), []string{"*.shop.test"}); err != nil {
		t.Fatal(err)
	}
	var pending Info
	eventually(t, "the failure in the listing", func() bool {
		list, err := s.m.Certificates(context.Background())
		if err != nil || len(list) != 1 {
			return false
		}
		pending = list[0]
		return pending.LastError != ""
	})
	if !pending.Pending || !slices.Equal(pending.Names, []string{"*.shop.test"}) || !strings.Contains(pending.LastError, "BADSIG") {
		t.Errorf("listing %+v; want *.shop.test pending with BADSIG", pending)
	}
	if !logs.Contains("BADSIG") {
		t.Error("the log does not say BADSIG")
	}
	if txt := z.Values("_acme-challenge.shop.test", dns.TypeTXT); len(txt) != 0 || z.Updates() != 0 {
		t.Errorf("TXT %v after %d accepted updates; want every update refused", txt, z.Updates())
	}
	if !s.m.Failing("a.shop.test") || s.m.Failing("shop.test") {
		t.Error("Failing: want true for a name the failing wildcard covers, only")
	}
	orders := ca.Orders()
	// The handshake waits for the wildcard; the client gives up first.
	if _, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", s.tlsAddr,
		&tls.Config{ServerName: "a.shop.test", RootCAs: ca.Roots()}); err == nil {
		t.Error("a.shop.test got a certificate without the wildcard")
	}
	if ca.Orders() != orders || len(s.asked()) != 0 {
		t.Errorf("the handshake made %d orders, decisions %v; want none", ca.Orders()-orders, s.asked())
	}
	for _, secret := range []string{tsigSecret, wrongKey} {
		if logs.Contains(secret) || strings.Contains(pending.LastError, secret) {
			t.Error("the log or the listing holds a TSIG secret")
		}
	}
}

// TestSetManagedNeedsDNS01: without DNS01 SetManaged refuses, and a bad
// name is refused by name while the good ones are managed.
func TestSetManagedNeedsDNS01(t *testing.T) {
	ca := testkit.StartACMECA(t)
	db, _ := tempDB(t)
	var logs testkit.LogBuffer
	s := startSite(t, ca, db, newMemKeys(), Options{}, &logs)
	if err := s.m.SetManaged(context.Background(), []string{"*.shop.test"}); err == nil || !strings.Contains(err.Error(), "DNS01") {
		t.Errorf("without DNS01: %v", err)
	}
	z := startZone(t, ca)
	var reads atomic.Int64
	d := startSite(t, ca, db, newMemKeys(), Options{DNS01: dns01(z, tsigSecret, &reads)}, &logs)
	err := d.m.SetManaged(context.Background(), []string{"a.*.shop.test", "*.shop.test"})
	if err == nil || !strings.Contains(err.Error(), "a.*.shop.test") || !slices.Equal(d.m.Managed(), []string{"*.shop.test"}) {
		t.Errorf("a bad name beside a good one: %v, managed %v", err, d.m.Managed())
	}
	if err := d.m.SetManaged(context.Background(), nil); err != nil || len(d.m.Managed()) != 0 {
		t.Errorf("the empty set: %v, managed %v", err, d.m.Managed())
	}
}

// TestDNS01AgainstKnot: the wildcard through a real Knot DNS primary:
// ordered, served for a.shop.test, and its challenge record removed.
// Skipped without knotd unless PHOENIX_REQUIRE_TOOLS=1.
func TestDNS01AgainstKnot(t *testing.T) {
	dnsupdatetest.RequireKnot(t)
	ctx := context.Background()
	ca := testkit.StartACMECA(t)
	k, err := dnsupdatetest.StartKnot(ctx, t.TempDir(), "shop.test", tsigKey, tsigSecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	ca.DelegateTXT(k.Addr)
	db, _ := tempDB(t)
	var logs testkit.LogBuffer
	d := &DNS01{Server: k.Addr, Key: tsigKey, Resolvers: []string{k.Addr}, PropagationTimeout: 30 * time.Second,
		Secret: func(context.Context) (string, error) { return tsigSecret, nil }}
	s := startSite(t, ca, db, newMemKeys(), Options{DNS01: d}, &logs)
	if err := s.m.SetManaged(ctx, []string{"*.shop.test"}); err != nil {
		t.Fatal(err)
	}
	leaf, err := handshake(s.tlsAddr, "a.shop.test", ca.Roots())
	if err != nil || !slices.Equal(leaf.DNSNames, []string{"*.shop.test"}) {
		t.Fatalf("a.shop.test: %v %v\n%s\nknotd: %s", leaf, err, logs.String(), k.Log())
	}
	c := &dnsupdate.Client{Server: k.Addr, Key: dnsupdate.Key{Name: tsigKey, Secret: tsigSecret}}
	eventually(t, "the challenge record removed from knotd", func() bool {
		set, err := c.Query(ctx, "_acme-challenge.shop.test.", dns.TypeTXT)
		return err == nil && len(set.Values) == 0
	})
}

// TestSetManagedRetriesUnstarted: a managed name that cannot be started
// (its stored certificate unreadable while the vault is sealed) is kept
// and tried again, and served once the vault opens, without an order.
func TestSetManagedRetriesUnstarted(t *testing.T) {
	e := newDNSEnv(t)
	first := e.site(t, Options{})
	ctx := context.Background()
	if err := first.m.SetManaged(ctx, []string{"*.shop.test"}); err != nil {
		t.Fatal(err)
	}
	leaf, err := handshake(first.tlsAddr, "a.shop.test", e.ca.Roots())
	if err != nil {
		t.Fatalf("%v\n%s", err, e.logs.String())
	}
	first.stop()
	e.keys.setSealed(true)
	s := e.site(t, Options{ManagedRetry: 50 * time.Millisecond})
	err = s.m.SetManaged(ctx, []string{"*.shop.test"})
	if err == nil || !strings.Contains(err.Error(), "manage *.shop.test") || !slices.Equal(s.m.Managed(), []string{"*.shop.test"}) {
		t.Fatalf("sealed: %v, managed %v; want an error naming the name, which stays managed\n%s", err, s.m.Managed(), e.logs.String())
	}
	e.keys.setSealed(false)
	var again *x509.Certificate
	eventually(t, "the stored wildcard served after the unseal", func() bool {
		again, err = handshake(s.tlsAddr, "b.shop.test", e.ca.Roots())
		return err == nil
	})
	if !again.Equal(leaf) || e.ca.Orders() != 1 {
		t.Errorf("same certificate %v after %d orders; want the stored one, 1 order", again.Equal(leaf), e.ca.Orders())
	}
	list, err := s.m.Certificates(ctx)
	if err != nil || len(list) != 1 || list[0].LastError != "" {
		t.Errorf("listing %+v, %v; want the wildcard without the old error", list, err)
	}
}

// TestWildcardNeverOnDemand: a handshake whose name is a wildcard orders
// nothing and never reaches Allow, even if Allow would accept it:
// wildcards are managed up front only.
func TestWildcardNeverOnDemand(t *testing.T) {
	ca := testkit.StartACMECA(t)
	db, _ := tempDB(t)
	var logs testkit.LogBuffer
	s := startSite(t, ca, db, newMemKeys(), Options{}, &logs)
	s.setAllowed("*.shop.test", true)
	if _, err := handshake(s.tlsAddr, "*.shop.test", ca.Roots()); err == nil {
		t.Fatal("a handshake for *.shop.test got a certificate")
	}
	if ca.Orders() != 0 || len(s.asked()) != 0 {
		t.Errorf("%d orders, decisions %v; want none", ca.Orders(), s.asked())
	}
	if err := s.m.decide(context.Background(), "*.shop.test"); err == nil || !strings.Contains(err.Error(), "never ordered on demand") {
		t.Errorf("decide(*.shop.test) = %v; want the refusal", err)
	}
}

// TestRFC2136Provider: the libdns adapter adds and deletes single TXT
// records, sends them to --acme-dns-zone when given (here the parent of
// the zone certmagic found), refuses a name outside it and anything but a
// TXT record with a value, and reads the secret at each call.
func TestRFC2136Provider(t *testing.T) {
	z := dnsupdatetest.StartT(t, "test", tsigKey, tsigSecret)
	var reads atomic.Int64
	d := dns01(z, tsigSecret, &reads)
	d.Zone = "test"
	p := &rfc2136{d: *d}
	ctx := context.Background()
	recs := []libdns.Record{libdns.TXT{Name: "_acme-challenge", TTL: time.Minute, Text: "one"}, libdns.TXT{Name: "_acme-challenge", TTL: time.Minute, Text: "two"}}
	got, err := p.AppendRecords(ctx, "shop.test.", recs)
	if err != nil || len(got) != 2 {
		t.Fatalf("append: %v %v", got, err)
	}
	values := func() []string {
		v := z.Values("_acme-challenge.shop.test", dns.TypeTXT)
		slices.Sort(v)
		return v
	}
	if v := values(); !slices.Equal(v, []string{`"one"`, `"two"`}) {
		t.Fatalf("zone holds %q", v)
	}
	if _, err := p.DeleteRecords(ctx, "shop.test.", got[:1]); err != nil || !slices.Equal(values(), []string{`"two"`}) {
		t.Fatalf("delete one: %v, zone %q", err, values())
	}
	if reads.Load() != 2 {
		t.Errorf("%d secret reads; want one per call", reads.Load())
	}
	p.d.Zone = "other.example"
	if _, err := p.AppendRecords(ctx, "shop.test.", recs[:1]); err == nil || !strings.Contains(err.Error(), "--acme-dns-zone") {
		t.Errorf("a name outside --acme-dns-zone: %v", err)
	}
	p.d.Zone = ""
	if _, err := p.AppendRecords(ctx, "shop.test.", []libdns.Record{libdns.RR{Name: "www", Type: "A", Data: "192.0.2.1"}}); err == nil {
		t.Error("an A record was sent")
	}
	p.d.Secret = func(context.Context) (string, error) { return "", errors.New("vault is sealed") }
	if _, err := p.DeleteRecords(ctx, "shop.test.", got[1:]); err == nil || !strings.Contains(err.Error(), "TSIG secret: vault is sealed") {
		t.Errorf("no secret: %v", err)
	}
}
