package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// hostGet gets / from a's edge with Host host and returns the status.
func hostGet(t *testing.T, a *App, host string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+a.EdgeAddr().String()+"/", nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestSitesDomainAndEnvironmentChanges: with SitesDomain every environment
// answers at <env>.<project>.<domain> and its URL says so; an
// environment's new domains and allow-list apply on the edge as soon as
// they are saved, without a deployment, and a domain taken off stops
// being served.
func TestSitesDomainAndEnvironmentChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := startOpts(t, Options{DataDir: t.TempDir(), VerifySoak: -1, SitesDomain: "apps.example.net"})
	deployPage(t, a, "production", "<title>one</title>")
	_, port, _ := net.SplitHostPort(a.EdgeAddr().String())
	if got, want := a.EdgeURL("shop", "production"), "http://production.shop.apps.example.net:"+port+"/"; got != want {
		t.Fatalf("EdgeURL %q, want %q", got, want)
	}
	for _, host := range []string{"production.shop.apps.example.net", "PRODUCTION.shop.apps.example.net.", "production.shop.localhost"} {
		if code := hostGet(t, a, host); code != 200 {
			t.Fatalf("%s: %d", host, code)
		}
	}

	spec := deploy.EnvSpec{Name: "production", Domains: []string{"www.shop.test"}, IPAllow: []string{"192.0.2.0/24"}}
	if err := a.Deploy.EnsureEnvironment(ctx, "shop", spec); err != nil {
		t.Fatal(err)
	}
	if code := hostGet(t, a, "www.shop.test"); code != http.StatusForbidden {
		t.Fatalf("new domain, loopback outside the new allow-list: %d, want 403", code)
	}
	spec.IPAllow = []string{"127.0.0.0/8"}
	if err := a.Deploy.EnsureEnvironment(ctx, "shop", spec); err != nil {
		t.Fatal(err)
	}
	if code := hostGet(t, a, "www.shop.test"); code != 200 {
		t.Fatalf("new domain, loopback allowed: %d", code)
	}
	spec.Domains = nil
	if err := a.Deploy.EnsureEnvironment(ctx, "shop", spec); err != nil {
		t.Fatal(err)
	}
	if code := hostGet(t, a, "www.shop.test"); code == 200 {
		t.Fatalf("a domain taken off the environment is still served")
	}
	if code := hostGet(t, a, "production.shop.apps.example.net"); code != 200 {
		t.Fatalf("the environment's own names after the change: %d", code)
	}
	if err := a.Deploy.EnsureEnvironment(ctx, "other", deploy.EnvSpec{Name: "production", Domains: []string{"production.shop.apps.example.net"}}); err == nil {
		t.Fatal("another project claimed an environment's name under the sites domain")
	}
}

// TestACMESitesDomain: with --acme an environment's name under the sites
// domain gets its certificate at its first HTTPS request, its URL is
// https without a port only when the port is 443, and a name under the
// sites domain that is no environment's orders nothing.
func TestACMESitesDomain(t *testing.T) {
	ca := testkit.StartACMECA(t)
	var logs testkit.LogBuffer
	a := startACME(t, ca, Options{DataDir: t.TempDir(), MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF,
		SitesDomain: "apps.test"}, &logs)
	deployPage(t, a, "staging", "<h1>staging</h1>")
	resp, body, _, err := getTLS(t, a, "staging.shop.apps.test", ca.Roots())
	if err != nil || resp.StatusCode != 200 || body != "<h1>staging</h1>" || ca.Orders() != 1 {
		t.Fatalf("https://staging.shop.apps.test/: %v %q after %d orders\n%s", err, body, ca.Orders(), logs.String())
	}
	if got, want := a.EdgeURL("shop", "staging"), "https://staging.shop.apps.test:"+strconv.Itoa(port(t, a.EdgeTLSAddr()))+"/"; got != want {
		t.Errorf("EdgeURL %q, want %q", got, want)
	}
	if _, _, _, err := getTLS(t, a, "production.shop.apps.test", nil); err == nil || ca.Orders() != 1 {
		t.Errorf("an environment that does not exist: %v after %d orders; want a failed handshake and no order", err, ca.Orders())
	}
}

// TestSitesDomainWildcardsThroughDNS01: with --sites-domain and DNS-01,
// each project's environments share one wildcard certificate, managed up
// front: a deployment to a new project adds *.<project>.<domain>, and its
// environments (previews included) are served by it with one order for
// all of them.
func TestSitesDomainWildcardsThroughDNS01(t *testing.T) {
	ca := testkit.StartACMECA(t)
	z := dnsZone(t, ca)
	var logs testkit.LogBuffer
	opts := dnsOptions(t, ca, z, t.TempDir(), tsigSecret, &logs)
	opts.ACME.Domains, opts.SitesDomain = nil, "apps.shop.test"
	a := startOpts(t, opts)
	deployPage(t, a, "staging", "<h1>staging</h1>")
	deployPage(t, a, "preview-login", "<h1>preview</h1>")
	for host, want := range map[string]string{"staging.shop.apps.shop.test": "<h1>staging</h1>", "preview-login.shop.apps.shop.test": "<h1>preview</h1>"} {
		_, body, leaf, err := getTLS(t, a, host, ca.Roots())
		if err != nil || body != want || !slices.Equal(leaf.DNSNames, []string{"*.shop.apps.shop.test"}) {
			t.Fatalf("%s: %v %q served by %v; want the project's wildcard\n%s", host, err, body, leaf, logs.String())
		}
	}
	if ca.Orders() != 1 {
		t.Errorf("%d orders for two environments; want the one wildcard", ca.Orders())
	}
	if logs.Contains(tsigSecret) {
		t.Error("the server log holds the TSIG secret")
	}
}

// TestReplicaSitesWildcards: a replica learns of a new project from the
// database (syncEdge), not from its own activation, and manages the
// project's sites wildcard too (so it renews it when it is left alone):
// the environment another replica deployed is served over TLS by
// *.<project>.<domain> on both, obtained once.
func TestReplicaSitesWildcards(t *testing.T) {
	ca := testkit.StartACMECA(t)
	z := dnsZone(t, ca)
	rs := newReplicaSet(t)
	seed := rs.start(t) // the TSIG secret goes into the shared vault first
	if _, err := seed.Vault.Set(context.Background(), acmeSubject, "ACME_TSIG", vault.SecretString(tsigSecret), vault.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := seed.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	replica := func() *App {
		o := rs.options(t, t.TempDir())
		d := dnsOptions(t, ca, z, o.DataDir, "", &rs.log)
		o.EdgeTLSListen, o.ACME, o.SitesDomain = d.EdgeTLSListen, d.ACME, "apps.shop.test"
		o.ACME.Domains = nil
		return startOpts(t, o)
	}
	a, b := replica(), replica()
	leader := leaderOf(t, a, b)
	follower := map[*App]*App{a: b, b: a}[leader]
	deployPage(t, leader, "staging", "<h1>staging</h1>")
	for _, r := range []*App{leader, follower} {
		eventually(t, "the project's wildcard on both replicas", func() bool {
			_, body, leaf, err := getTLS(t, r, "staging.shop.apps.shop.test", ca.Roots())
			return err == nil && body == "<h1>staging</h1>" && slices.Equal(leaf.DNSNames, []string{"*.shop.apps.shop.test"})
		})
	}
	for _, r := range []*App{leader, follower} { // each renews it, also when it is the only replica left
		eventually(t, "the wildcard managed by each replica", func() bool {
			n := &r.certs.managed
			n.mu.Lock()
			defer n.mu.Unlock()
			return slices.Equal(n.app, []string{"*.shop.apps.shop.test"})
		})
	}
	if n := ca.Orders(); n != 1 {
		t.Errorf("%d orders; want the one wildcard, shared through the database", n)
	}
	if rs.log.Contains(tsigSecret) {
		t.Error("the replicas' log holds the TSIG secret")
	}
}
