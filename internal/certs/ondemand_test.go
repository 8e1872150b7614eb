package certs

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestManagerFailedOrderInBackground: a custom domain whose DNS does not
// point at the edge yet fails its order. The handshake that started it
// learns so as soon as the attempt failed, the next ones fail at once
// with the reason and order nothing (the retry is certmagic's, in the
// background), and the listing shows the name pending with the failure.
// certmagic alone ordered inside the handshake, holding it up to 3 minutes,
// and ordered again at the next one.
func TestManagerFailedOrderInBackground(t *testing.T) {
	ca := testkit.StartACMECA(t)
	ca.Unresolvable("bad.test")
	db, _ := tempDB(t)
	var logs testkit.LogBuffer
	s := startSite(t, ca, db, newMemKeys(), Options{}, &logs)
	s.setAllowed("bad.test", true)
	start := time.Now()
	if _, err := handshake(s.tlsAddr, "bad.test", ca.Roots()); err == nil {
		t.Fatal("a handshake for a name the CA cannot validate got a certificate")
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("the first handshake took %v; want it to end once the first attempt failed", d)
	}
	orders := ca.Orders()
	if orders == 0 {
		t.Fatalf("no order placed for bad.test\n%s", logs.String())
	}
	for i := range 5 {
		start := time.Now()
		if _, err := handshake(s.tlsAddr, "bad.test", ca.Roots()); err == nil {
			t.Fatalf("handshake %d got a certificate", i+2)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("handshake %d took %v; want it to fail at once while the order waits for its retry", i+2, d)
		}
	}
	if ca.Orders() != orders {
		t.Errorf("%d orders after 5 more handshakes; want still %d (no order per handshake)", ca.Orders(), orders)
	}
	err := s.m.decide(context.Background(), "bad.test")
	if err == nil || !strings.Contains(err.Error(), "retried in the background") || !strings.Contains(err.Error(), "bad.test") {
		t.Errorf("decide(bad.test) = %v; want the last failure, retried in the background", err)
	}
	if !s.m.Failing("BAD.test") || s.m.Failing("shop.test") {
		t.Error("Failing: want true for bad.test only")
	}
	// certmagic reports the failed attempt with an event of its own, which
	// may come a moment after the handshake's answer.
	var list []Info
	eventually(t, "bad.test listed pending with its failure", func() bool {
		var err error
		if list, err = s.m.Certificates(context.Background()); err != nil {
			t.Fatal(err)
		}
		return len(list) == 1 && list[0].LastError != ""
	})
	if !list[0].Pending || list[0].Names[0] != "bad.test" {
		t.Errorf("listing %+v; want bad.test pending with its failure", list)
	}
	if raw, _ := json.Marshal(list); strings.Contains(string(raw), "not_after") || strings.Contains(string(raw), "0001-01-01") {
		t.Errorf("a pending name's JSON has dates: %s; want none (it has no certificate)", raw)
	}
	if _, err := handshake(s.tlsAddr, "shop.test", ca.Roots()); err != nil {
		t.Fatalf("shop.test beside the failing name: %v", err)
	}
}

// TestOrderEndsWhenNoLongerAllowed: an attempt of an order for a name
// Allow refuses as NotServed (the domain taken off) ends the order rather
// than being retried for 30 days; a failure to find out does not; the
// renewal of such a name's certificate ends too, unless the name is
// managed up front.
func TestOrderEndsWhenNoLongerAllowed(t *testing.T) {
	var refusal error
	m := &Manager{opts: Options{Allow: func(context.Context, string) error { return refusal }}}
	m.orders.join("gone.test")
	ev := map[string]any{"identifier": "Gone.Test"}
	if err := m.orderEvent(context.Background(), "cert_obtaining", ev); err != nil {
		t.Fatalf("an allowed name's attempt: %v", err)
	}
	refusal = errors.New("the database is unreachable")
	if err := m.orderEvent(context.Background(), "cert_obtaining", ev); err != nil {
		t.Errorf("an attempt while Allow cannot tell: %v; want it to go on", err)
	}
	refusal = NotServed(errors.New("gone.test is no custom domain"))
	err := m.orderEvent(context.Background(), "cert_obtaining", ev)
	if !errors.As(err, &certmagic.ErrNoRetry{}) || !strings.Contains(err.Error(), "no custom domain") {
		t.Errorf("a refused name's attempt: %v; want ErrNoRetry with Allow's reason", err)
	}
	if err := m.orderEvent(context.Background(), "cert_obtaining", map[string]any{"identifier": "other.test"}); err != nil {
		t.Errorf("a name not ordered on demand (managed): %v; want nil", err)
	}
	m.cache = certmagic.NewCache(certmagic.CacheOptions{GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) {
		return nil, errors.New("no configuration in this test")
	}})
	defer m.cache.Stop()
	err = m.orderEvent(context.Background(), "cert_obtaining", map[string]any{"identifier": "other.test", "renewal": true})
	if !errors.As(err, &certmagic.ErrNoRetry{}) {
		t.Errorf("the renewal of a refused name: %v; want ErrNoRetry (it is renewed on schedule, not only at handshakes)", err)
	}
	m.managed.names = map[string]bool{"other.test": true}
	if err := m.orderEvent(context.Background(), "cert_obtaining", map[string]any{"identifier": "other.test", "renewal": true}); err != nil {
		t.Errorf("the renewal of a managed name: %v; want nil (SetManaged decides those)", err)
	}
}
