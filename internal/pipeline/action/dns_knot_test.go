package action

import (
	"context"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/phoenixvc/phoenix/internal/dnsupdate"
	"github.com/phoenixvc/phoenix/internal/dnsupdate/dnsupdatetest"
)

// TestDNSUpdateAgainstKnot runs dns/update against a real Knot DNS
// primary: switch, verify, idempotent rerun, wrong secret.
func TestDNSUpdateAgainstKnot(t *testing.T) {
	dnsupdatetest.RequireKnot(t)
	ctx := context.Background()
	k, err := dnsupdatetest.StartKnot(ctx, t.TempDir(), "example.com", dnsKey, dnsSecret, "www 300 IN A 192.0.2.10")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	sc, _, outs := newContext(t, t.TempDir(), nil, nil)
	var log strings.Builder
	sc.Log = &log
	sc.With = map[string]any{"server": k.Addr, "zone": "example.com", "name": "www", "type": "A",
		"values": []any{"198.51.100.7", "198.51.100.8"}, "tsig_key": dnsKey, "tsig_secret": "DNS_KEY"}
	a, _ := Builtins(Deps{Secrets: mapSecrets{"DNS_KEY": dnsSecret}}).Lookup("dns/update")
	if err := a.Run(ctx, sc); err != nil {
		t.Fatalf("%v\nknotd: %s", err, k.Log())
	}
	if outs["previous"] != "192.0.2.10" || !strings.Contains(log.String(), "192.0.2.10 (ttl 300) -> 198.51.100.7, 198.51.100.8 (ttl 60)") {
		t.Errorf("previous %q, log %q", outs["previous"], log.String())
	}
	c := &dnsupdate.Client{Server: k.Addr, Key: dnsupdate.Key{Name: dnsKey, Secret: dnsSecret}}
	serial, err := c.Serial(ctx, "example.com.")
	if err != nil {
		t.Fatal(err)
	}
	if serial == 2026010100 {
		t.Errorf("knot did not move the serial")
	}

	log.Reset()
	if err := a.Run(ctx, sc); err != nil || !strings.Contains(log.String(), "nothing to send") {
		t.Fatalf("rerun: %v, log %q", err, log.String())
	}
	if s, _ := c.Serial(ctx, "example.com."); s != serial {
		t.Errorf("the rerun changed the zone: serial %d -> %d", serial, s)
	}

	bad, _ := Builtins(Deps{Secrets: mapSecrets{"DNS_KEY": badSecret}}).Lookup("dns/update")
	sc.With["values"] = "203.0.113.1"
	err = bad.Run(ctx, sc)
	if err == nil || !strings.Contains(err.Error(), "BADSIG") || strings.Contains(err.Error(), badSecret) || strings.Contains(log.String(), badSecret) {
		t.Fatalf("wrong secret: %v", err)
	}
	if set, err := c.Query(ctx, "www.example.com.", dns.TypeA); err != nil || len(set.Values) != 2 {
		t.Errorf("after the refused update www is %v, %v", set.Values, err)
	}
}
