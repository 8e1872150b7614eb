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

// BenchmarkCustomRules is a firewall of custom rules alone (the cost the
// edge's event loop pays): ten rules of every kind, none matching a
// Chrome page load, so each is evaluated; "match" blocks at the last rule.
func BenchmarkCustomRules(b *testing.B) {
	rules := []CustomRule{
		{Name: "office", Priority: 1, Action: ActionAllow, Match: []Condition{cond("remote_addr", "ip_match", "198.51.100.0/24", "2001:db8::/32")}},
		{Name: "admin", Priority: 2, Action: ActionBlock, Match: []Condition{{Variable: "path", Operator: "begins_with", Values: []string{"/admin", "/wp-admin"}, Transforms: []string{"lowercase"}}}},
		{Name: "env-files", Priority: 3, Action: ActionBlock, Match: []Condition{{Variable: "path", Operator: "ends_with", Values: []string{".env", ".git/config", ".php"}, Transforms: []string{"url_decode", "lowercase"}}}},
		{Name: "debug", Priority: 4, Action: ActionBlock, Match: []Condition{cond("header:X-Debug", "any")}},
		{Name: "old-ua", Priority: 5, Action: ActionBlock, Match: []Condition{cond("user_agent", "regex", `MSIE [5-8]\.`)}},
		{Name: "api-no-token", Priority: 6, Action: ActionBlock, Match: []Condition{cond("path", "begins_with", "/api/"), {Variable: "header:Authorization", Operator: "any", Negate: true}}},
		{Name: "utm", Priority: 7, Action: ActionLog, Match: []Condition{cond("query_string", "contains", "utm_source=")}},
		{Name: "beta", Priority: 8, Action: ActionBlock, Match: []Condition{cond("cookie:beta", "equals", "blocked")}},
		{Name: "methods", Priority: 9, Action: ActionBlock, Match: []Condition{{Variable: "request_method", Operator: "equals", Values: []string{"GET", "HEAD", "POST", "OPTIONS"}, Negate: true}}},
		{Name: "assets", Priority: 10, Action: ActionBlock, Match: []Condition{cond("request_uri", "regex", `^/assets/[a-z]+\.[0-9a-f]{4}\.(js|css)\?evil`)}},
	}
	f := mustNew(b, Config{Mode: "block", CustomRules: rules})
	for _, c := range []struct{ name, target string }{{"none", "/assets/app.3f9a.js"}, {"match", "/assets/app.3f9a.js?evil"}} {
		b.Run(c.name, func(b *testing.B) {
			r := request(b, "GET", c.target, chromeHeaders, "")
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				f.Inspect(r, publicClient)
			}
			reportCPU(b, cpu)
		})
	}
}
