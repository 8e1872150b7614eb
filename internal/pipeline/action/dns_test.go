package action

import (
	"context"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/dnsupdate/dnsupdatetest"
)

const (
	dnsKey    = "phoenix-dr"
	dnsSecret = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5YWJjZGVm"
	badSecret = "d3Jvbmcta2V5LXRoYXQtbXVzdC1uZXZlci1iZS1zaG93bi0wMTIzNDU="
)

// dnsStep returns a dns/update step against a fresh test primary for
// example.com whose www is 192.0.2.10 (ttl 300), the action and its deps
// (the vault holds DNS_KEY=secret).
func dnsStep(t *testing.T, secret string) (*dnsupdatetest.Server, *Context, *strings.Builder, map[string]string, Action) {
	t.Helper()
	srv, err := dnsupdatetest.Start("example.com", dnsKey, dnsSecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.Add("www 300 IN A 192.0.2.10"); err != nil {
		t.Fatal(err)
	}
	sc, _, outs := newContext(t, t.TempDir(), nil, nil)
	var log strings.Builder
	sc.Log = &log
	sc.With = map[string]any{"server": srv.Addr, "zone": "example.com", "name": "www", "type": "A",
		"values": "198.51.100.7", "tsig_key": dnsKey, "tsig_secret": "DNS_KEY"}
	a, _ := Builtins(Deps{Secrets: mapSecrets{"DNS_KEY": secret}}).Lookup("dns/update")
	return srv, sc, &log, outs, a
}

type mapSecrets map[string]string

func (m mapSecrets) Secret(_ context.Context, name string) (string, error) {
	if v, ok := m[name]; ok {
		return v, nil
	}
	return "", ErrNoSecret
}

func TestDNSUpdateSwitchesARecordAndVerifies(t *testing.T) {
	srv, sc, log, outs, a := dnsStep(t, dnsSecret)
	serial := srv.Serial()
	if err := a.Run(context.Background(), sc); err != nil {
		t.Fatal(err, log)
	}
	if outs["previous"] != "192.0.2.10" {
		t.Errorf("previous = %q, want 192.0.2.10", outs["previous"])
	}
	if srv.Updates() != 1 || srv.Serial() != serial+1 {
		t.Errorf("updates %d serial %d (was %d), want one update moving the serial", srv.Updates(), srv.Serial(), serial)
	}
	want := "www.example.com A on " + srv.Addr + ": 192.0.2.10 (ttl 300) -> 198.51.100.7 (ttl 60)"
	if !strings.Contains(log.String(), want) {
		t.Errorf("log %q lacks %q", log, want)
	}

	// Rerun: the RRset holds exactly the values and TTL, so nothing is sent.
	log.Reset()
	if err := a.Run(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	if srv.Updates() != 1 || !strings.Contains(log.String(), "nothing to send") {
		t.Errorf("rerun sent %d updates in all, log %q", srv.Updates(), log)
	}
	if outs["previous"] != "198.51.100.7" {
		t.Errorf("previous on rerun = %q", outs["previous"])
	}

	// Switch back with the previous value, several values and a new TTL.
	sc.With["values"] = []any{"192.0.2.10", "192.0.2.11"}
	sc.With["ttl"] = "5m"
	if err := a.Run(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	if srv.Updates() != 2 || !strings.Contains(log.String(), "-> 192.0.2.10, 192.0.2.11 (ttl 300)") {
		t.Errorf("updates %d, log %q", srv.Updates(), log)
	}
}

func TestDNSUpdateAddsANewNameAndCNAME(t *testing.T) {
	srv, sc, log, outs, a := dnsStep(t, dnsSecret)
	sc.With["name"] = "shop.example.com."
	sc.With["type"] = "cname"
	sc.With["values"] = "dr-site"
	if err := a.Run(context.Background(), sc); err != nil {
		t.Fatal(err, log)
	}
	if outs["previous"] != "" || !strings.Contains(log.String(), "(none) (ttl 0) -> dr-site.example.com. (ttl 60)") {
		t.Errorf("previous %q, log %q", outs["previous"], log)
	}
	if srv.Updates() != 1 {
		t.Errorf("updates %d", srv.Updates())
	}
}

func TestDNSUpdateWrongSecretIsRefusedWithoutShowingIt(t *testing.T) {
	srv, sc, log, _, a := dnsStep(t, badSecret)
	err := a.Run(context.Background(), sc)
	if err == nil {
		t.Fatal("a wrong TSIG secret was accepted")
	}
	for _, want := range []string{"dns/update:", "BADSIG", "check tsig_key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	for _, s := range []string{err.Error(), log.String()} {
		if strings.Contains(s, badSecret) || strings.Contains(s, dnsSecret) {
			t.Errorf("the secret leaked: %q", s)
		}
	}
	if srv.Updates() != 0 {
		t.Errorf("the server applied %d updates", srv.Updates())
	}
}

func TestDNSUpdateUnknownKeyIsBADKEY(t *testing.T) {
	_, sc, _, _, a := dnsStep(t, dnsSecret)
	sc.With["tsig_key"] = "someone-else"
	err := a.Run(context.Background(), sc)
	if err == nil || !strings.Contains(err.Error(), "BADKEY") {
		t.Fatalf("err = %v, want BADKEY", err)
	}
}

func TestDNSUpdateRejectsBadInputsNamingThem(t *testing.T) {
	for _, c := range []struct {
		with map[string]any
		want string
	}{
		{map[string]any{"type": "MX"}, `dns/update: with.type: "MX" is not supported; use A, AAAA, CNAME or TXT`},
		{map[string]any{"type": "CNAME", "values": []any{"a.example.net.", "b.example.net."}}, "with.values: a CNAME holds exactly one target, not 2"},
		{map[string]any{"values": "2001:db8::1"}, "with.values: \"2001:db8::1\" is not an IPv4 address"},
		{map[string]any{"values": ""}, "with.values: give one or more values"},
		{map[string]any{"name": "www.example.org."}, "with.name: \"www.example.org.\" is not in zone example.com"},
		{map[string]any{"zone": ""}, "with.zone:"},
		{map[string]any{"server": ""}, "with.server:"},
		{map[string]any{"server": "ns1:99999"}, "with.server:"},
		{map[string]any{"ttl": "soon"}, "with.ttl:"},
		{map[string]any{"ttl": "0"}, "with.ttl:"},
		{map[string]any{"timeout": "-1s"}, "with.timeout:"},
		{map[string]any{"tsig_algorithm": "hmac-md4"}, "with.tsig_algorithm:"},
		{map[string]any{"tsig_key": ""}, "with.tsig_key:"},
		{map[string]any{"tsig_secret": "MISSING"}, "with.tsig_secret:"},
		{map[string]any{"tsig_secret": badSecret}, "with.tsig_secret must name a vault secret"},
	} {
		srv, sc, _, _, a := dnsStep(t, dnsSecret)
		for k, v := range c.with {
			sc.With[k] = v
		}
		err := a.Run(context.Background(), sc)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("with %v: err = %v, want %q", c.with, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), dnsSecret) || strings.Contains(err.Error(), badSecret)) {
			t.Errorf("with %v: the secret is in the error %q", c.with, err)
		}
		if srv.Updates() != 0 {
			t.Errorf("with %v: %d updates sent", c.with, srv.Updates())
		}
	}
}

func TestDNSUpdateSecretNotBase64(t *testing.T) {
	_, sc, _, _, a := dnsStep(t, "not base64 at all!")
	err := a.Run(context.Background(), sc)
	if err == nil || !strings.Contains(err.Error(), "DNS_KEY is not base64") || strings.Contains(err.Error(), "at all") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzDNSInputs(f *testing.F) {
	for _, s := range []string{"www", "@", "", "a.example.com.", "x..y", "192.0.2.1, 192.0.2.2", "::1", "dr-site", "\x00", strings.Repeat("a", 300)} {
		f.Add(s, s, "A")
		f.Add(s, s, "CNAME")
	}
	f.Fuzz(func(t *testing.T, name, values, typ string) {
		sc := &Context{With: map[string]any{"server": "127.0.0.1", "zone": "example.com", "name": name, "type": typ,
			"values": values, "tsig_key": "k", "tsig_secret": "S"}}
		q, err := parseDNSRequest(sc)
		if err != nil {
			return
		}
		if _, err := parseDNSRequest(&Context{With: map[string]any{"server": "127.0.0.1", "zone": "example.com",
			"name": q.set.Name, "type": typ, "values": q.set.Values, "tsig_key": "k", "tsig_secret": "S"}}); err != nil && q.typ != "TXT" {
			t.Fatalf("canonical inputs %q %q refused: %v", q.set.Name, q.set.Values, err)
		}
		if !strings.HasSuffix(q.set.Name, "example.com.") || len(q.set.Values) == 0 {
			t.Fatalf("parsed %+v", q.set)
		}
	})
}
