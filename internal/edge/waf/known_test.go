package waf

import (
	"testing"
)

// TestDocumentedRefusals pins what docs/waf.md tells operators to expect
// from the CRS defaults, so the guide stays true.
func TestDocumentedRefusals(t *testing.T) {
	f := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}})
	json := with(firefoxHeaders, "Content-Type", "application/json")
	cases := []struct {
		name, method, target string
		headers              map[string]string
		body, rule           string
	}{
		// CRS allows GET HEAD POST OPTIONS (tx.allowed_methods): an API behind the edge
		// that takes PUT, PATCH or DELETE is refused by 911100.
		{"put", "PUT", "/api/cart/1", json, `{"qty":3}`, "crs-911100"},
		{"delete", "DELETE", "/api/cart/1", firefoxHeaders, "", "crs-911100"},
		// A request body that does not parse as its Content-Type cannot be inspected.
		{"broken json", "POST", "/api/cart", json, `{"qty":`, "waf-200002"},
		// text/plain is not an allowed request content type (tx.allowed_request_content_type):
		// navigator.sendBeacon with a string sends exactly that.
		{"beacon", "POST", "/api/collect", with(firefoxHeaders, "Content-Type", "text/plain;charset=UTF-8"), `{"event":"pageview"}`, "crs-920420"},
		// SQL-like text in a cookie is SQL injection to the CRS.
		{"sql-like cookie", "GET", "/", with(firefoxHeaders, "Cookie", "q='select * from shoes'"), "", "crs-942100"},
		// A numeric Host is what scanners send (920350, warning) and scores below 5 alone.
		{"ip host", "GET", "/", firefoxHeaders, "", ""},
	}
	for _, c := range cases {
		r := request(t, c.method, c.target, c.headers, c.body)
		if c.name == "ip host" {
			r.Host = "203.0.113.10"
		}
		if rule, _ := f.Inspect(r, publicClient); rule != c.rule {
			t.Errorf("%s: Inspect = %q; want %q", c.name, rule, c.rule)
		}
	}
}
