package waf

import (
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestExclusionsLetDocumentedFalsePositivesPass: with 911100 and 920420
// excluded, the refusals TestDocumentedRefusals pins pass, and attacks are
// still refused.
func TestExclusionsLetDocumentedFalsePositivesPass(t *testing.T) {
	f := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}, Exclude: []int{920420, 911100, 920420}})
	json := with(firefoxHeaders, "Content-Type", "application/json")
	beacon := with(firefoxHeaders, "Content-Type", "text/plain;charset=UTF-8")
	pass := []struct {
		name, method, target, body string
		h                          map[string]string
	}{
		{"put", "PUT", "/api/cart/1", `{"qty":3}`, json},
		{"delete", "DELETE", "/api/cart/1", "", firefoxHeaders},
		{"beacon", "POST", "/api/collect", `{"event":"pageview"}`, beacon},
	}
	for _, c := range pass {
		if rule, block := f.Inspect(request(t, c.method, c.target, c.h, c.body), publicClient); rule != "" || block {
			t.Errorf("%s with exclusions: Inspect = %q, %v; want it served", c.name, rule, block)
		}
	}
	for _, a := range attacks() {
		if rule, block := f.Inspect(request(t, a.method, a.target, a.headers, a.body), publicClient); rule == "" || !block {
			t.Errorf("%s with exclusions: Inspect = %q, %v; want it blocked", a.name, rule, block)
		}
	}
	// A SQL injection in a PUT body is still found.
	if rule, _ := f.Inspect(request(t, "PUT", "/api/cart/1", json, `{"id":"1' UNION SELECT password FROM users--"}`), publicClient); !strings.HasPrefix(rule, "crs-942") {
		t.Errorf("SQL injection in a PUT: Inspect = %q; want crs-942…", rule)
	}
	// The shared engine without exclusions still refuses them.
	plain := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}})
	if rule, _ := plain.Inspect(request(t, "DELETE", "/api/cart/1", firefoxHeaders, ""), publicClient); rule != "crs-911100" {
		t.Errorf("no exclusions: DELETE = %q; want crs-911100", rule)
	}
}

func TestExcludeErrorsNameTheField(t *testing.T) {
	cases := []struct {
		ids       []int
		msg, hint string
	}{
		{[]int{920420, 12}, "edge.waf.exclude[1]: 12 is not a rule of the OWASP Core Rule Set v4.25.0's owasp-core", "crs-NNNNNN"},
		{[]int{920999}, "edge.waf.exclude[0]: 920999 is not a rule", "e.g. 920420"},
		{[]int{913100}, "edge.waf.exclude[0]: 913100 is not a rule", "scanners"},
		{[]int{949110}, "edge.waf.exclude[0]: 949110 is not a rule", "remove owasp-core"},
		{[]int{911011}, "edge.waf.exclude[0]: 911011 is not a rule", ""}, // a paranoia-level marker
		{make([]int, MaxExclusions+1), "edge.waf.exclude: 201 rules; at most 200", "remove owasp-core"},
	}
	for _, c := range cases {
		f, err := New(Config{Mode: "block", Rules: []string{"owasp-core"}, Exclude: c.ids})
		if f != nil || err == nil || !strings.HasPrefix(err.Error(), c.msg) {
			t.Errorf("exclude %v: New = %v, %v; want %q", c.ids[:min(len(c.ids), 3)], f, err, c.msg)
			continue
		}
		if usererr.KindOf(err) != usererr.Usage || !strings.Contains(usererr.HintOf(err), c.hint) {
			t.Errorf("%q: hint %q; want %q", c.msg, usererr.HintOf(err), c.hint)
		}
	}
	// Every id of the CRS's method, protocol and injection groups the docs name is excludable.
	for _, id := range []int{911100, 920420, 920350, 930100, 932160, 941100, 942100, 943100, 944150} {
		if !excludable()[id] {
			t.Errorf("%d is not excludable", id)
		}
	}
	if n := len(excludable()); n < 150 || n > 400 {
		t.Errorf("%d excludable rules; the CRS v4 request groups hold about 250", n)
	}
}

// TestEnginesPerExclusionSet: the same set in any order shares one
// compiled CRS; the cache stays bounded.
func TestEnginesPerExclusionSet(t *testing.T) {
	a := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}, Exclude: []int{911100, 920420}})
	b := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}, Exclude: []int{920420, 911100}})
	c := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}})
	if a.crs != b.crs || a.crs == c.crs {
		t.Errorf("engines: same set shared %v, different sets distinct %v", a.crs == b.crs, a.crs != c.crs)
	}
	engines.Lock()
	n := len(engines.m)
	engines.Unlock()
	if n > maxEngines {
		t.Errorf("%d engines cached; at most %d", n, maxEngines)
	}
}

// TestEngineCacheIsBounded: past maxEngines exclusion sets the oldest
// leaves the cache; a Firewall built on it still inspects with it.
func TestEngineCacheIsBounded(t *testing.T) {
	var ids []int
	for id := range excludable() {
		if id/1000 == 920 && len(ids) < maxEngines+2 {
			ids = append(ids, id)
		}
	}
	if len(ids) <= maxEngines {
		t.Fatalf("%d ids; need more than %d", len(ids), maxEngines)
	}
	first := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}, Exclude: []int{911100, ids[0]}})
	for _, id := range ids[1:] {
		mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}, Exclude: []int{911100, id}})
	}
	engines.Lock()
	n := len(engines.m)
	engines.Unlock()
	if n != maxEngines {
		t.Errorf("%d engines cached; want %d", n, maxEngines)
	}
	if rule, _ := first.Inspect(request(t, "DELETE", "/api/cart/1?id=1'%20OR%201=1--", firefoxHeaders, ""), publicClient); rule != "crs-942100" {
		t.Errorf("a Firewall whose engine left the cache: Inspect = %q; want crs-942100 (911100 excluded)", rule)
	}
}
