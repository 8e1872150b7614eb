package certs

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// failingNames returns the names m lists as failing, failing t on error.
func failingNames(t *testing.T, m *Manager) map[string]OrderFailure {
	t.Helper()
	fs, err := m.FailingOrders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]OrderFailure{}
	for _, f := range fs {
		out[f.Name] = f
	}
	return out
}

// TestFailingOrdersShared: a custom domain whose order fails at the CA
// (pebble cannot resolve it) is listed failing, with when it began, the
// attempts and the CA's error, by this server and by another on the same
// database (which ordered nothing), and across a restart; it leaves the
// listing once a certificate for it is in the store, and a failing domain
// taken off leaves it too. Failed orders were kept in the memory of the
// server that placed them only, and nothing listed them for an alert.
func TestFailingOrdersShared(t *testing.T) {
	ca := testkit.StartACMECA(t)
	ca.Unresolvable("bad.test", "gone.test")
	db, path := tempDB(t)
	keys := newMemKeys()
	var logs testkit.LogBuffer
	s := startSite(t, ca, db, keys, Options{}, &logs)
	start := time.Now().Add(-time.Second)
	for _, n := range []string{"bad.test", "gone.test"} {
		s.setAllowed(n, true)
		if _, err := handshake(s.tlsAddr, n, ca.Roots()); err == nil {
			t.Fatalf("%s got a certificate", n)
		}
	}
	waitFor(t, "bad.test and gone.test not listed failing\n"+logs.String(), func() bool { return len(failingNames(t, s.m)) == 2 })
	f := failingNames(t, s.m)["bad.test"]
	if f.Since.Before(start) || f.Since.After(time.Now()) || f.Failures < 1 || f.LastAt.Before(f.Since) ||
		!strings.Contains(f.LastError, "bad.test") {
		t.Errorf("bad.test listed as %+v; want since this test began, an attempt or more, the CA's error", f)
	}
	s.stop()
	other := startSite(t, ca, openDB(t, path), keys, Options{}, &logs)
	other.setAllowed("bad.test", true)
	other.setAllowed("gone.test", true)
	if got := failingNames(t, other.m); len(got) != 2 || got["bad.test"].Since != f.Since {
		t.Errorf("another server (or a restart) lists %+v; want bad.test since %v and gone.test", got, f.Since)
	}
	other.setAllowed("gone.test", false)
	storeCert(t, other, "bad.test", time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour))
	if got := failingNames(t, other.m); len(got) != 0 {
		t.Errorf("listed %+v; want none: bad.test has a certificate, gone.test is taken off", got)
	}
	other.setAllowed("gone.test", true)
	if got := failingNames(t, other.m); len(got) != 0 {
		t.Errorf("listed %+v after gone.test came back; want its failures forgotten when it was taken off", got)
	}
}

// TestFailureClearedWhenObtained: an obtained certificate clears its
// name's failures, and a failed renewal (the name has a certificate, which
// the expiry alert watches) is not counted.
func TestFailureClearedWhenObtained(t *testing.T) {
	db, _ := tempDB(t)
	m := &Manager{opts: Options{DB: db, Logger: slog.New(slog.DiscardHandler)}}
	ctx := context.Background()
	m.failureEvent(ctx, "cert_failed", map[string]any{"identifier": "Late.Test", "error": "NXDOMAIN"})
	m.failureEvent(ctx, "cert_failed", map[string]any{"identifier": "late.test", "error": "still NXDOMAIN"})
	m.failureEvent(ctx, "cert_failed", map[string]any{"identifier": "renewed.test", "renewal": true, "error": "x"})
	rows, err := m.failureRows(ctx)
	if err != nil || len(rows) != 1 || rows[0].Name != "late.test" || rows[0].Failures != 2 || rows[0].LastError != "still NXDOMAIN" {
		t.Fatalf("failures %+v, %v; want late.test twice, its last error", rows, err)
	}
	m.failureEvent(ctx, "cert_obtained", map[string]any{"identifier": "late.test"})
	if rows, err := m.failureRows(ctx); err != nil || len(rows) != 0 {
		t.Errorf("failures %+v, %v after the certificate was obtained; want none", rows, err)
	}
}
