package waf

import (
	"testing"
)

// TestOrdinaryTrafficPasses is the false-positive side: a single-page
// site's everyday requests must pass every rule set in block mode.
func TestOrdinaryTrafficPasses(t *testing.T) {
	f := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core", "bad-bots", "scanners"}})
	asset := with(chromeHeaders, "Accept", "*/*", "Sec-Fetch-Dest", "script", "Sec-Fetch-Mode", "cors", "Referer", "https://shop.example.com/")
	fetchJSON := with(firefoxHeaders, "Accept", "application/json", "Content-Type", "application/json",
		"Origin", "https://shop.example.com", "Authorization", "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJ1c2VyLTQyIn0.c2ln")
	cases := []struct {
		name, method, target string
		headers              map[string]string
		body                 string
	}{
		{"home chrome", "GET", "/", chromeHeaders, ""},
		{"home firefox", "GET", "/", firefoxHeaders, ""},
		{"hashed asset", "GET", "/assets/app.3f9a.js", asset, ""},
		{"stylesheet", "GET", "/assets/index-4b1d2c.css", with(asset, "Accept", "text/css,*/*;q=0.1"), ""},
		{"font", "GET", "/assets/inter-var.woff2", with(asset, "Accept", "*/*", "Sec-Fetch-Dest", "font"), ""},
		{"image", "GET", "/images/hero@2x.webp", with(asset, "Accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"), ""},
		{"favicon", "GET", "/favicon.ico", asset, ""},
		{"search query", "GET", "/search?q=shoes&page=2", firefoxHeaders, ""},
		{"deep link", "GET", "/products/42/reviews", chromeHeaders, ""},
		{"utm campaign", "GET", "/?utm_source=newsletter&utm_medium=email&utm_campaign=black-friday-2026", chromeHeaders, ""},
		{"oauth callback", "GET", "/.auth/login/aad/callback?code=0.AXkA3f9a-Zk&state=eyJyIjoiLyJ9&session_state=4b1d", chromeHeaders, ""},
		{"conditional get", "GET", "/assets/app.3f9a.js", with(asset, "If-None-Match", `"sha256-3f9a"`, "If-Modified-Since", "Wed, 25 Nov 2026 10:00:00 GMT"), ""},
		{"range", "GET", "/video/intro.mp4", with(asset, "Range", "bytes=0-1048575"), ""},
		{"head", "HEAD", "/", chromeHeaders, ""},
		{"json post", "POST", "/api/cart", fetchJSON, `{"items":[{"sku":"SHOE-42","qty":2,"note":"gift wrap, please"}],"coupon":null}`},
		{"form post", "POST", "/newsletter", with(chromeHeaders, "Content-Type", "application/x-www-form-urlencoded"), "email=ana%40example.com&consent=yes"},
		{"cors preflight", "OPTIONS", "/api/cart", with(firefoxHeaders, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type"), ""},
		{"monitor probe", "GET", "/", map[string]string{"User-Agent": "phoenix-monitor/1", "Accept-Encoding": "gzip"}, ""},
		{"go client", "GET", "/", map[string]string{"User-Agent": "Go-http-client/1.1", "Accept-Encoding": "gzip"}, ""},
		{"json cookie", "GET", "/", with(firefoxHeaders, "Cookie", `prefs={"theme":"dark","lang":"en"}; cart=[{"sku":"A1","qty":2}]`), ""},
		{"curl", "GET", "/index.html", map[string]string{"User-Agent": "curl/8.11.0", "Accept": "*/*"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := request(t, c.method, c.target, c.headers, c.body)
			if rule, block := f.Inspect(r, publicClient); rule != "" || block {
				t.Errorf("%s: Inspect = %q, %v; want a pass", describe(r), rule, block)
			}
		})
	}
}
