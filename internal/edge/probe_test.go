package edge

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The server's own probe, marked with the token, passes every gate on who
// may reach a site (the environment's allow-list, the edge's and the
// project's rate limits, the site's allowedIpRanges and required
// forwarding headers); without the token, with a wrong one or with two
// values it is an ordinary client.
func TestProbePassesTheGates(t *testing.T) {
	const token = "probe-token-of-this-process"
	now := time.Now()
	site := mustSite(t, map[string]string{"index.html": "<h1>home</h1>", "staticwebapp.config.json": `{
		"networking": {"allowedIpRanges": ["192.0.2.0/24"]},
		"forwardingGateway": {"requiredHeaders": {"X-Azure-FDID": "0f0e"}}}`})
	e := newTestEdge(t, site, Options{ProbeToken: token, RateLimit: 1, RateBurst: 1, Now: func() time.Time { return now }})
	probe := map[string]string{ProbeHeader: token}
	if r := e.get(t, "/", nil); r.status != 403 {
		t.Fatalf("a client outside allowedIpRanges: %d, want 403", r.status)
	}
	for i := range 5 { // far past the rate limit of 1
		if r := e.get(t, "/", probe); r.status != 200 || r.body != "<h1>home</h1>" {
			t.Fatalf("probe %d through the site's gates and the rate limit: %d %q", i, r.status, r.body)
		}
	}

	plain := newTestEdge(t, mustSite(t, basicSite), Options{ProbeToken: token})
	if err := plain.hosts.SetAllowedIPs("prod", []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}); err != nil {
		t.Fatal(err)
	}
	if err := plain.hosts.SetPolicy("prod", &Policy{RateLimit: &RateLimit{Requests: 1, Per: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if r := plain.get(t, "/", probe); r.status != 200 {
			t.Fatalf("probe %d through ip_allow and the project's rate limit: %d", i, r.status)
		}
	}
	for name, hdr := range map[string]map[string]string{
		"no token":    nil,
		"wrong token": {ProbeHeader: token + "x"},
		"a prefix":    {ProbeHeader: token[:10]},
		"empty":       {ProbeHeader: ""},
	} {
		if r := plain.get(t, "/", hdr); r.status != 403 {
			t.Errorf("%s: %d, want 403 from the allow-list", name, r.status)
		}
	}

	off := newTestEdge(t, mustSite(t, basicSite), Options{}) // no token configured: nothing is a probe
	if err := off.hosts.SetAllowedIPs("prod", []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}); err != nil {
		t.Fatal(err)
	}
	if r := off.get(t, "/", map[string]string{ProbeHeader: ""}); r.status != 403 {
		t.Errorf("an empty marker on an edge without a token: %d, want 403", r.status)
	}
}

// The server's own probes are counted apart: the environment's request,
// status and latency figures describe visitors (what SLOs and the
// verification's "real traffic" read), and probes only raise Probes.
func TestProbesLeftOutOfTheVisitorsFigures(t *testing.T) {
	const token = "probe-token"
	e := newTestEdge(t, mustSite(t, basicSite), Options{ProbeToken: token})
	for range 3 {
		if r := e.get(t, "/", map[string]string{ProbeHeader: token}); r.status != 200 {
			t.Fatalf("probe: %d", r.status)
		}
	}
	if r := e.get(t, "/", map[string]string{ProbeHeader: "not-the-token"}); r.status != 200 {
		t.Fatalf("visitor: %d", r.status)
	}
	e.get(t, "/no/such/page", nil)
	var prod EnvStats
	for _, s := range e.h.Snapshot() {
		if s.Env == "prod" {
			prod = s
		}
	}
	var latency uint64
	for _, c := range prod.Latency {
		latency += c
	}
	if prod.Requests != 2 || prod.ByClass[2] != 1 || prod.ByClass[4] != 1 || latency != 2 || prod.Probes != 3 {
		t.Fatalf("requests %d (2xx %d, 4xx %d), latency samples %d, probes %d; want 2 visitors and 3 probes",
			prod.Requests, prod.ByClass[2], prod.ByClass[4], latency, prod.Probes)
	}
	if body := e.get(t, "/metrics", map[string]string{"Host": "edge.phoenix.localhost"}).body; !strings.Contains(body, `phoenix_edge_probe_requests_total{env="prod"} 3`) {
		t.Errorf("/metrics lacks the probe counter:\n%s", body)
	}
}
