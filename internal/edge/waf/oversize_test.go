package waf

import (
	"strings"
	"testing"
)

// TestOversizeIsNotInspected: a request target or headers past the limits
// are reported as waf-oversize without running the CRS (refused in block
// mode, so size is no way around the rules); up to the limits they are
// inspected as usual.
func TestOversizeIsNotInspected(t *testing.T) {
	t.Parallel()
	block := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}})
	detect := mustNew(t, Config{Mode: "detect", Rules: []string{"owasp-core"}})
	long := func(prefix string, n int) string { return prefix + strings.Repeat("a", n-len(prefix)) }
	cookie := func(n int) map[string]string {
		h := with(firefoxHeaders, "Cookie", "")
		size := len("shop.example.com")
		for k, v := range h {
			size += len(k) + len(v)
		}
		h["Cookie"] = long("c=", n-size)
		return h
	}
	cases := []struct {
		name, target string
		headers      map[string]string
		rule         string
	}{
		{"target at the limit", long("/search?q=", MaxTargetInspect), firefoxHeaders, ""},
		{"target past the limit", long("/search?q=", MaxTargetInspect+1), firefoxHeaders, RuleOversize},
		{"attack past the target limit", long("/?id=1'%20OR%201=1--&pad=", MaxTargetInspect+1), firefoxHeaders, RuleOversize},
		{"headers at the limit", "/", cookie(MaxHeaderInspect), ""},
		{"headers past the limit", "/", cookie(MaxHeaderInspect + 1), RuleOversize},
	}
	// The cases at the limits run the whole CRS over 8 and 32 KiB, seconds
	// each under -race: they run at once (TestConcurrentInspect shows a
	// Firewall answers alike so).
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for f, wantBlock := range map[*Firewall]bool{block: c.rule != "", detect: false} {
				rule, b := f.Inspect(request(t, "GET", c.target, c.headers, ""), publicClient)
				if rule != c.rule || b != wantBlock {
					t.Errorf("%s (block mode %v): Inspect = %q, %v; want %q, %v", c.name, f.block, rule, b, c.rule, wantBlock)
				}
			}
		})
	}
}
