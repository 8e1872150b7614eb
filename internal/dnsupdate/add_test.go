package dnsupdate_test

import (
	"context"
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/phoenixvc/phoenix/internal/dnsupdate"
	"github.com/phoenixvc/phoenix/internal/dnsupdate/dnsupdatetest"
)

// TestAddAndDeleteOneRecord: Add keeps the RRset's other records and
// Delete removes only the given one (two ACME challenges share a TXT
// name), against the in-memory primary and a real knotd.
func TestAddAndDeleteOneRecord(t *testing.T) {
	t.Run("in-memory", func(t *testing.T) {
		_, c := start(t)
		checkAddDelete(t, c)
	})
	t.Run("knotd", func(t *testing.T) {
		dnsupdatetest.RequireKnot(t)
		k, err := dnsupdatetest.StartKnot(context.Background(), t.TempDir(), "example.com", "k1", secret)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(k.Close)
		checkAddDelete(t, &dnsupdate.Client{Server: k.Addr, Key: dnsupdate.Key{Name: "k1", Secret: secret}})
	})
}

func checkAddDelete(t *testing.T, c *dnsupdate.Client) {
	t.Helper()
	ctx := context.Background()
	const zone, name = "example.com.", "_acme-challenge.example.com."
	txt := func(v string) dnsupdate.RRset {
		return dnsupdate.RRset{Name: name, Type: dns.TypeTXT, TTL: 60, Values: []string{v}}
	}
	values := func() []string {
		t.Helper()
		set, err := c.Query(ctx, name, dns.TypeTXT)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(set.Values)
		return set.Values
	}
	for _, v := range []string{"token-apex", "token-wildcard", "token-apex"} {
		if err := c.Add(ctx, zone, txt(v)); err != nil {
			t.Fatal(err)
		}
	}
	if got := values(); !slices.Equal(got, []string{"token-apex", "token-wildcard"}) {
		t.Fatalf("after three adds (one twice): %q; want both tokens once", got)
	}
	if err := c.Delete(ctx, zone, txt("token-apex")); err != nil {
		t.Fatal(err)
	}
	if got := values(); !slices.Equal(got, []string{"token-wildcard"}) {
		t.Fatalf("after deleting one: %q; want the other kept", got)
	}
	for _, v := range []string{"token-wildcard", "never-added"} {
		if err := c.Delete(ctx, zone, txt(v)); err != nil {
			t.Fatalf("delete %s: %v", v, err)
		}
	}
	if got := values(); len(got) != 0 {
		t.Fatalf("after deleting both: %q; want none", got)
	}
	if err := c.Add(ctx, "example.org.", txt("x")); err == nil {
		t.Error("an add to a zone the server does not hold succeeded")
	}
}
