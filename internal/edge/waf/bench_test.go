package waf

import (
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// BenchmarkInspect measures one inspection in block mode with every rule
// set on (owasp-core, bad-bots, scanners) unless the case says otherwise.
// bench/waf/run.sh runs it; bench/waf/RESULTS.md has the figures.
func BenchmarkInspect(b *testing.B) {
	all := []string{"owasp-core", "bad-bots", "scanners"}
	json := with(firefoxHeaders, "Content-Type", "application/json", "Accept", "application/json")
	cases := []struct {
		name, method, target string
		headers              map[string]string
		body                 string
		rules                []string
	}{
		{"clean-chrome", "GET", "/assets/app.3f9a.js", chromeHeaders, "", all},
		{"clean-firefox", "GET", "/search?q=shoes&page=2", firefoxHeaders, "", all},
		{"clean-curl", "GET", "/", map[string]string{"User-Agent": "curl/8.11.0", "Accept": "*/*"}, "", all},
		{"json-post", "POST", "/api/cart", json, `{"items":[{"sku":"SHOE-42","qty":2,"note":"gift wrap, please"}],"coupon":null}`, all},
		{"attack-sqli", "GET", "/products?id=1'%20OR%201=1--", chromeHeaders, "", all},
		{"attack-xss", "GET", "/?q=<script>alert(document.cookie)</script>", chromeHeaders, "", all},
		{"clean-chrome-no-crs", "GET", "/assets/app.3f9a.js", chromeHeaders, "", []string{"bad-bots", "scanners"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := mustNew(b, Config{Mode: "block", Rules: c.rules})
			r := request(b, c.method, c.target, c.headers, c.body)
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if c.body != "" {
					r.Body = io.NopCloser(strings.NewReader(c.body))
				}
				f.Inspect(r, publicClient)
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkInspectGeo is a geo_deny lookup in a GeoLite2-shaped database.
func BenchmarkInspectGeo(b *testing.B) {
	f := mustNew(b, Config{Mode: "block", GeoDeny: []string{"KP"}, Geo: fixtureGeoDB(b)})
	r := request(b, "GET", "/assets/app.3f9a.js", chromeHeaders, "")
	client := netip.MustParseAddr("203.0.113.7")
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		f.Inspect(r, client)
	}
	reportCPU(b, cpu)
}

// reportCPU adds cpu-ns/op: the process's CPU time over the loop per
// iteration, which a busy shared machine inflates less than ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	if used := processCPU() - start; used > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
