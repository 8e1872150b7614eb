package waf

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzCustomRules builds a custom rule from arbitrary variable, operator,
// value and transform strings and runs it over an arbitrary request. New
// either refuses the rule with an error naming an edge.waf.custom_rules
// field or builds a Firewall whose Inspect never panics, reports only
// custom-<name> and blocks exactly when the block rule matched.
func FuzzCustomRules(f *testing.F) {
	f.Add("path", "begins_with", "/admin", "lowercase", false, "GET", "/Admin/x", "q=1", "X-A", "v", "a=b", "203.0.113.7")
	f.Add("remote_addr", "ip_match", "198.51.100.0/24", "", true, "POST", "/", "", "", "", "", "198.51.100.1")
	f.Add("header:X-Debug", "regex", `^(on|1)$`, "trim", false, "GET", "/", "", "X-Debug", " on ", "", "::1")
	f.Add("cookie:beta", "equals", "yes", "url_decode", false, "GET", "/", "", "", "", "beta=%79es", "10.0.0.1")
	f.Add("query_string", "contains", "%00", "url_decode", false, "GET", "/%zz", "a=%%%", "", "", ";;=", "bad")
	f.Add("header:X-A", "any", "", "", true, "DELETE", "", "", "X-A", "", "", "")
	f.Fuzz(func(t *testing.T, variable, op, value, transform string, negate bool, method, path, query, name, hval, cookie, client string) {
		c := Condition{Variable: variable, Operator: op, Negate: negate}
		if op != "any" {
			c.Values = []string{value}
		}
		if transform != "" {
			c.Transforms = []string{transform}
		}
		rules := []CustomRule{{Name: "fuzz", Priority: 1, Action: ActionBlock, Match: []Condition{c}}}
		fw, err := New(Config{Mode: "block", CustomRules: rules})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "edge.waf.custom_rules[0].match[0].") {
				t.Fatalf("New: %v; want an error naming the condition's field", err)
			}
			return
		}
		addr, _ := netip.ParseAddr(client)
		r := fuzzRequest(method, path, query, name, hval, cookie, "", "")
		rule, block := fw.Inspect(r, addr)
		if (rule != "" && rule != "custom-fuzz") || block != (rule != "") {
			t.Fatalf("Inspect = %q, %v", rule, block)
		}
	})
}
