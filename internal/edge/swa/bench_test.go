package swa

import (
	"net/http"
	"net/netip"
	"testing"
)

// BenchmarkDecide measures the hot path on the first user's SPA config and
// on the example config: an asset, a deep link (fallback) and a protected
// route.
func BenchmarkDecide(b *testing.B) {
	for _, bc := range []struct{ site, path string }{
		{"vite-spa", "/assets/index-4f2a9c.js"},
		{"vite-spa", "/"},
		{"vite-spa", "/dashboard/settings"},
		{"example", "/images/logo.png"},
		{"example", "/profile/index.html"},
		{"legacy-rewrites", "/blog/2020/01/hello"},
	} {
		cfg, files := loadSite(b, bc.site)
		r := &Request{Method: "GET", Path: bc.path, Header: http.Header{}, Roles: []string{"anonymous"}, ClientIP: netip.MustParseAddr("10.0.0.1")}
		b.Run(bc.site+bc.path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = cfg.Decide(r, files)
			}
		})
	}
}
