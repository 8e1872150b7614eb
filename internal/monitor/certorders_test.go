package monitor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestCertOrderFailingAlert: a domain whose order has failed for less than
// the default hour does not alert; past it, it fires once, through the
// publisher, naming the domain, its environment, the attempts and the
// CA's error; a failed listing keeps it; it resolves when the domain is
// no longer listed (a certificate obtained, or the domain taken off).
func TestCertOrderFailingAlert(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	pub := &fakePublisher{}
	src := &listing[CertOrder]{}
	m, err := New(Options{DB: openDB(t), Now: clock.Now, Publisher: pub, Proc: "-", CertOrders: src.list})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	evaluate := func(after time.Duration) {
		t.Helper()
		clock.Add(after)
		if err := m.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	since := clock.Now()
	src.set(nil, CertOrder{Name: "shop.example.com", Environment: "production.shop", Since: since, Failures: 3,
		LastError: "urn:ietf:params:acme:error:dns: NXDOMAIN looking up A for shop.example.com"})
	evaluate(59 * time.Minute)
	if f := firingOf(t, m, CertOrderRule); len(f) != 0 {
		t.Fatalf("firing after 59 minutes: %v; want none before an hour", f)
	}
	evaluate(2 * time.Minute)
	a, ok := firingOf(t, m, CertOrderRule)["shop.example.com"]
	want := "no certificate for shop.example.com (shop/production): its ACME order has failed for 1.01 hours (3 attempts, alert at 1 hours); " +
		"the CA's last error: urn:ietf:params:acme:error:dns: NXDOMAIN looking up A for shop.example.com"
	if !ok || a.ID != CertOrderRule+"@tls:shop.example.com" || !ServerInstance(a.Environment) || a.Summary != want || a.Severity != 2 {
		t.Fatalf("alert %+v; want firing with summary %q", a, want)
	}
	if titles := strings.Join(pub.titles(), "\n"); !strings.Contains(titles, CertOrderRule+" firing") {
		t.Errorf("notifications %q; want the firing one", titles)
	}
	src.set(errors.New("store down"))
	evaluate(time.Minute)
	if _, ok := firingOf(t, m, CertOrderRule)["shop.example.com"]; !ok {
		t.Error("a failed listing resolved the alert")
	}
	src.set(nil)
	evaluate(time.Minute)
	if f := firingOf(t, m, CertOrderRule); len(f) != 0 {
		t.Errorf("still firing once the domain is no longer listed: %v", f)
	}
	as, _ := m.Alerts(ctx, true)
	for _, a := range as {
		if a.Rule == CertOrderRule && (a.State != StateResolved || a.Summary != "the domain has a certificate, or is no longer served") {
			t.Errorf("alert %+v; want resolved, saying why", a)
		}
	}
	if titles := strings.Join(pub.titles(), "\n"); !strings.Contains(titles, CertOrderRule+" resolved") {
		t.Errorf("notifications %q; want the resolution", titles)
	}
}
