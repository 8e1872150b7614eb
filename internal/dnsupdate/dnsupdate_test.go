package dnsupdate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/phoenixvc/phoenix/internal/dnsupdate"
	"github.com/phoenixvc/phoenix/internal/dnsupdate/dnsupdatetest"
)

const secret = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5YWJjZGVm"

func start(t *testing.T) (*dnsupdatetest.Server, *dnsupdate.Client) {
	t.Helper()
	srv, err := dnsupdatetest.Start("example.com", "k1", secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, &dnsupdate.Client{Server: srv.Addr, Key: dnsupdate.Key{Name: "k1", Secret: secret}}
}

func TestReplaceQueryAndSerial(t *testing.T) {
	srv, c := start(t)
	ctx := context.Background()
	long := strings.Repeat("x", 600)
	for _, set := range []dnsupdate.RRset{
		{Name: "v6.example.com.", Type: dns.TypeAAAA, TTL: 30, Values: []string{"2001:db8::1", "2001:db8::2"}},
		{Name: "txt.example.com.", Type: dns.TypeTXT, TTL: 60, Values: []string{long, "v=spf1 -all"}},
		{Name: "alias.example.com.", Type: dns.TypeCNAME, TTL: 60, Values: []string{"target.example.net."}},
	} {
		s0, err := c.Serial(ctx, "example.com.")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Replace(ctx, "example.com.", set); err != nil {
			t.Fatal(err)
		}
		got, err := c.Query(ctx, set.Name, set.Type)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(set) {
			t.Errorf("read back %+v, want %+v", got, set)
		}
		if s1, _ := c.Serial(ctx, "example.com."); s1 != s0+1 {
			t.Errorf("serial %d -> %d", s0, s1)
		}
	}
	if srv.Updates() != 3 {
		t.Errorf("updates = %d", srv.Updates())
	}
	absent, err := c.Query(ctx, "nothing.example.com.", dns.TypeA)
	if err != nil || len(absent.Values) != 0 {
		t.Errorf("absent name: %+v, %v", absent, err)
	}
}

func TestServerRefusals(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	set := dnsupdate.RRset{Name: "www.example.org.", Type: dns.TypeA, TTL: 60, Values: []string{"192.0.2.1"}}
	var re *dnsupdate.RcodeError
	err := c.Replace(ctx, "example.org.", set)
	if !errors.As(err, &re) || re.Rcode != dns.RcodeNotAuth || !strings.Contains(err.Error(), "NOTAUTH: the server is not authoritative") {
		t.Errorf("other zone: %v", err)
	}
	set.Name = "www.example.org."
	if err := c.Replace(ctx, "example.com.", set); err == nil || !strings.Contains(err.Error(), "NOTZONE") {
		t.Errorf("name outside zone: %v", err)
	}
	unsigned := &dnsupdate.Client{Server: c.Server}
	set.Name = "www.example.com."
	if err := unsigned.Replace(ctx, "example.com.", set); err == nil || !strings.Contains(err.Error(), "REFUSED: the server refuses this change") {
		t.Errorf("unsigned: %v", err)
	}
	bad := &dnsupdate.Client{Server: c.Server, Key: dnsupdate.Key{Name: "k1", Secret: secret, Algorithm: "hmac-sha512"}}
	if err := bad.Replace(ctx, "example.com.", set); err == nil || !strings.Contains(err.Error(), "BADSIG") && !strings.Contains(err.Error(), "BADKEY") {
		t.Errorf("wrong algorithm: %v", err)
	}
	if err := (&dnsupdate.Client{Server: c.Server, Key: dnsupdate.Key{Name: "k1", Secret: "**"}}).Replace(ctx, "example.com.", set); err == nil ||
		strings.Contains(err.Error(), "**") {
		t.Errorf("bad base64: %v", err)
	}
}

func TestRecordsRefuseTwoCNAMETargets(t *testing.T) {
	_, err := dnsupdate.Records(dnsupdate.RRset{Name: "a.example.com.", Type: dns.TypeCNAME, Values: []string{"b.", "c."}})
	if err == nil || !strings.Contains(err.Error(), "exactly one target") {
		t.Fatal(err)
	}
}

func FuzzNameAndCanonical(f *testing.F) {
	for _, s := range []string{"www", "@", "", "WWW.Example.COM.", "a..b", "example.org.", "192.0.2.1", "::ffff:1.2.3.4", "fe80::1%eth0", "x.", "\\000"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(2))
	}
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeTXT}
	f.Fuzz(func(t *testing.T, s string, ti uint8) {
		if n, err := dnsupdate.Name("example.com.", s); err == nil {
			if !dns.IsSubDomain("example.com.", n) || n != strings.ToLower(n) {
				t.Fatalf("Name(%q) = %q", s, n)
			}
			if again, err := dnsupdate.Name("example.com.", n); err != nil || again != n {
				t.Fatalf("Name not stable: %q -> %q, %v", n, again, err)
			}
		}
		typ := types[int(ti)%len(types)]
		v, err := dnsupdate.Canonical("example.com.", typ, s)
		if err != nil {
			return
		}
		rrs, err := dnsupdate.Records(dnsupdate.RRset{Name: "x.example.com.", Type: typ, TTL: 60, Values: []string{v}})
		if err != nil {
			t.Fatalf("Records(%q): %v", v, err)
		}
		buf := make([]byte, dns.MaxMsgSize)
		if _, err := dns.PackRR(rrs[0], buf, 0, nil, false); err != nil && typ != dns.TypeTXT {
			t.Fatalf("%q does not pack: %v", v, err)
		}
		if got := dnsupdate.Value(rrs[0]); got != v {
			t.Fatalf("Value(Records(%q)) = %q", v, got)
		}
	})
}
