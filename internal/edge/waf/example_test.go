package waf_test

import (
	"fmt"
	"net/http/httptest"
	"net/netip"

	"github.com/phoenixvc/phoenix/internal/edge/waf"
)

// The edge builds one Firewall per environment from phoenix.yaml's
// edge.waf and asks it about every request before serving it.
func ExampleFirewall_Inspect() {
	f, err := waf.New(waf.Config{Mode: "block", Rules: []string{"owasp-core", "scanners", "bad-bots"}})
	if err != nil {
		panic(err)
	}
	client := netip.MustParseAddr("203.0.113.7")
	for _, target := range []string{"/assets/app.3f9a.js", "/search?q=shoes&page=2", "/products?id=1'%20OR%201=1--"} {
		r := httptest.NewRequest("GET", target, nil)
		r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
		r.Header.Set("Accept", "*/*")
		rule, block := f.Inspect(r, client)
		fmt.Printf("%s: %q block=%v\n", target, rule, block)
	}
	// Output:
	// /assets/app.3f9a.js: "" block=false
	// /search?q=shoes&page=2: "" block=false
	// /products?id=1'%20OR%201=1--: "crs-942100" block=true
}
