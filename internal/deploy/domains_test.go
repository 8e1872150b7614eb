package deploy

import (
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// A domain routes traffic to one environment: a second claim, from the
// same project or another, is refused, and the names Phoenix gives
// environments itself cannot be claimed at all.
func TestDomainsBelongToOneEnvironment(t *testing.T) {
	f := newFixture(t)
	f.svc.opts.SitesDomain = "sites.example.net"
	if err := f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: "production", Domains: []string{"WWW.Example.com.", "example.com", "www.example.com"}}); err != nil {
		t.Fatal(err)
	}
	env, err := f.svc.Environment(ctx, "site", "production")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"www.example.com", "example.com"}; !slices.Equal(env.Domains, want) {
		t.Fatalf("stored domains %q, want %q (normalized, once each)", env.Domains, want)
	}
	// Saving the owner again keeps its domains.
	if err := f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: "production", Domains: []string{"www.example.com"}}); err != nil {
		t.Fatalf("owner saved again: %v", err)
	}
	cases := []struct {
		project, env, domain string
		kind                 usererr.Kind
		msg                  string
	}{
		{"site", "staging", "www.example.com", usererr.Conflict, "already a domain of environment production"},
		{"other", "production", "WWW.EXAMPLE.COM", usererr.Conflict, "already belongs to an environment of another project"},
		{"other", "production", "production.site.localhost", usererr.Invalid, "under localhost"},
		{"other", "production", "production.site.sites.example.net", usererr.Invalid, "under sites.example.net"},
		{"other", "production", "sites.example.net", usererr.Invalid, "under sites.example.net"},
	}
	for _, c := range cases {
		err := f.svc.EnsureEnvironment(ctx, c.project, EnvSpec{Name: c.env, Domains: []string{c.domain}})
		if usererr.KindOf(err) != c.kind || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s/%s claiming %s: %v, want %v containing %q", c.project, c.env, c.domain, err, c.kind, c.msg)
		}
		if err != nil && strings.Contains(err.Error(), "another project") && strings.Contains(err.Error(), "site") {
			t.Errorf("the refusal names the other project: %v", err)
		}
	}
	// Once the owner lets go, another environment may have it.
	if err := f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: "production"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.EnsureEnvironment(ctx, "other", EnvSpec{Name: "production", Domains: []string{"www.example.com"}}); err != nil {
		t.Fatalf("a released domain: %v", err)
	}
	// A name merely ending like the sites domain is not under it.
	if err := f.svc.EnsureEnvironment(ctx, "other", EnvSpec{Name: "staging", Domains: []string{"mysites.example.net"}}); err != nil {
		t.Fatalf("mysites.example.net: %v", err)
	}
}

// ParseRange reads what an allow-list or --trusted-proxies holds as the
// edge matches clients: masked, IPv4-mapped ranges as IPv4.
func TestParseRange(t *testing.T) {
	for in, want := range map[string]string{
		" 10.1.2.3/8 ":           "10.0.0.0/8",
		"203.0.113.9":            "203.0.113.9/32",
		"2001:db8::1":            "2001:db8::1/128",
		"2001:db8::/32":          "2001:db8::/32",
		"::ffff:203.0.113.0/120": "203.0.113.0/24",
		"::ffff:203.0.113.9":     "203.0.113.9/32",
	} {
		if got, ok := ParseRange(in); !ok || got.String() != want {
			t.Errorf("ParseRange(%q) = %v %v, want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "lb.internal", "10.0.0.0/33", "fe80::1%eth0", "::ffff:0:0/95", "10.0.0.0/8/8"} {
		if p, ok := ParseRange(in); ok {
			t.Errorf("ParseRange(%q) = %v, want refused", in, p)
		}
	}
	if _, err := ParseAllowList([]string{"10.0.0.0/8", "nope"}); err == nil || !strings.Contains(err.Error(), `ip_allow[1]: "nope"`) {
		t.Errorf("ParseAllowList: %v", err)
	}
}

// FuzzParseRange: whatever it accepts is a valid masked range that is
// never an IPv4-mapped one, and reading its text back gives it again.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "::ffff:1.2.3.4/128", "2001:db8::/32", "1.2.3.4", "::/0", "fe80::1%lo"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := ParseRange(s)
		if !ok {
			return
		}
		if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() {
			t.Fatalf("ParseRange(%q) = %v", s, p)
		}
		if again, ok := ParseRange(p.String()); !ok || again != p {
			t.Fatalf("ParseRange(%q) = %v, but its text reads back as %v %v", s, p, again, ok)
		}
	})
}
