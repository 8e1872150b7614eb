package monitor

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// listing is a changeable listing (certificates, replicas) the monitor
// reads through Options.
type listing[T any] struct {
	mu    sync.Mutex
	items []T
	err   error
}

func (s *listing[T]) set(err error, items ...T) {
	s.mu.Lock()
	s.items, s.err = items, err
	s.mu.Unlock()
}

func (s *listing[T]) list(context.Context) ([]T, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.items, s.err
}

func firingCerts(t *testing.T, m *Monitor) map[string]Alert {
	t.Helper()
	return firingOf(t, m, CertRule)
}

// firingOf returns the firing alerts of one of the rules on certificates,
// by name.
func firingOf(t *testing.T, m *Monitor, rule string) map[string]Alert {
	t.Helper()
	as, err := m.Alerts(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Alert{}
	for _, a := range as {
		if a.Rule == rule && a.State == StateFiring {
			out[strings.TrimPrefix(a.Environment, "tls:")] = a
		}
	}
	return out
}

// TestCertificateExpiryAlert: with no rule written, a certificate that
// expires within the warning fires at once and a fresh one does not; the
// alert resolves when the certificate is renewed, and a failed listing
// changes nothing.
func TestCertificateExpiryAlert(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	pub := &fakePublisher{}
	src := &listing[Certificate]{}
	m, err := New(Options{DB: openDB(t), Now: clock.Now, Publisher: pub, Proc: "-", Certificates: src.list,
		CertWarning: 10 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	src.set(nil, Certificate{Name: "old.test", NotAfter: now.Add(3 * 24 * time.Hour)},
		Certificate{Name: "fresh.test", NotAfter: now.Add(60 * 24 * time.Hour)})
	ctx := context.Background()
	if err := m.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	firing := firingCerts(t, m)
	a, ok := firing["old.test"]
	if !ok || len(firing) != 1 {
		t.Fatalf("firing certificate alerts %v; want old.test only", firing)
	}
	if a.ID != CertRule+"@tls:old.test" || a.Environment != CertInstance("old.test") || !ServerInstance(a.Environment) || a.Value != 3 || a.Threshold != "10 days" ||
		a.Summary != "certificate expires in 3 days (alert below 10 days)" {
		t.Errorf("alert %+v", a)
	}
	if titles := strings.Join(pub.titles(), "\n"); !strings.Contains(titles, "firing") || !strings.Contains(titles, CertRule) {
		t.Errorf("notifications %q; want a firing one naming %s", titles, CertRule)
	}
	src.set(errors.New("store down"))
	clock.Add(time.Minute)
	if err := m.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := firingCerts(t, m)["old.test"]; !ok {
		t.Error("a failed listing resolved the alert")
	}
	src.set(nil, Certificate{Name: "old.test", NotAfter: now.Add(90 * 24 * time.Hour)},
		Certificate{Name: "fresh.test", NotAfter: now.Add(60 * 24 * time.Hour)})
	clock.Add(time.Minute)
	if err := m.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if f := firingCerts(t, m); len(f) != 0 {
		t.Errorf("still firing after renewal: %v", f)
	}
}

// certMonitor is a monitor with the default warning over a certificate
// listing to set, and its clock's time.
func certMonitor(t *testing.T) (*Monitor, *listing[Certificate], time.Time) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	src := &listing[Certificate]{}
	m, err := New(Options{DB: openDB(t), Now: clock.Now, Proc: "-", Certificates: src.list})
	if err != nil {
		t.Fatal(err)
	}
	return m, src, clock.Now()
}

// TestCertificateExpiryDefaultAndExpired: the default warning is 14 days,
// and an expired certificate says so.
func TestCertificateExpiryDefaultAndExpired(t *testing.T) {
	m, src, now := certMonitor(t)
	src.set(nil, Certificate{Name: "thirteen.test", NotAfter: now.Add(13 * 24 * time.Hour)},
		Certificate{Name: "fifteen.test", NotAfter: now.Add(15 * 24 * time.Hour)},
		Certificate{Name: "gone.test", NotAfter: now.Add(-36 * time.Hour)})
	if err := m.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := firingCerts(t, m)
	if len(f) != 2 || f["gone.test"].Summary != "certificate expired 1.5 days ago (alert below 14 days)" {
		t.Errorf("firing %v; want thirteen.test and gone.test (expired 1.5 days ago)", f)
	}
	if _, ok := f["thirteen.test"]; !ok {
		t.Error("a certificate 13 days from expiry did not alert under the 14-day default")
	}
}

// TestCertSummaryNeverRoundsUp: 4.999 days left reads 4.99, as the
// certificates listing's 4 whole days; an expired one counts its days.
func TestCertSummaryNeverRoundsUp(t *testing.T) {
	for v, want := range map[float64]string{
		4.999: "certificate expires in 4.99 days (alert below 5 days)",
		3:     "certificate expires in 3 days (alert below 5 days)",
		-1.5:  "certificate expired 1.5 days ago (alert below 5 days)",
	} {
		if got := describeCert(v, "5 days"); got != want {
			t.Errorf("%v days: %q, want %q", v, got, want)
		}
	}
}

// TestCertificateExpiryJustUnderWholeDays: a certificate a minute short of
// the warning fires, as the listing calls it expiring, and one a minute
// short of 10 days left reads 9.99, as the listing's 9 whole days.
func TestCertificateExpiryJustUnderWholeDays(t *testing.T) {
	m, src, now := certMonitor(t)
	src.set(nil, Certificate{Name: "edge.test", NotAfter: now.Add(14*24*time.Hour - time.Minute)},
		Certificate{Name: "ten.test", NotAfter: now.Add(10*24*time.Hour - time.Minute)})
	if err := m.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := firingCerts(t, m)
	if _, ok := f["edge.test"]; !ok {
		t.Errorf("a certificate a minute short of 14 days left did not alert under the 14-day warning: %v", f)
	}
	if got := f["ten.test"].Summary; got != "certificate expires in 9.99 days (alert below 14 days)" {
		t.Errorf("summary %q; want 9.99 days, as the listing's 9", got)
	}
}
