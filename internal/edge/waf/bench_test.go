package waf

import (
	"testing"
)

// BenchmarkInspect measures one inspection with owasp-core, scanners and
// bad-bots in block mode: a clean page load with Chrome's headers and
// cookies, and a SQL injection in the query.
func BenchmarkInspect(b *testing.B) {
	f := mustNew(b, Config{Mode: "block", Rules: []string{"owasp-core", "bad-bots", "scanners"}})
	cases := []struct{ name, target string }{
		{"clean", "/assets/app.3f9a.js"},
		{"attack", "/products?id=1'%20OR%201=1--"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := request(b, "GET", c.target, chromeHeaders, "")
			b.ReportAllocs()
			for b.Loop() {
				f.Inspect(r, publicClient)
			}
		})
	}
}
