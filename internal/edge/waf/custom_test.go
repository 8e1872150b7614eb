package waf

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

func cond(variable, op string, values ...string) Condition {
	return Condition{Variable: variable, Operator: op, Values: values}
}

// TestCustomRules runs each request through a firewall of custom rules
// alone, in block mode.
func TestCustomRules(t *testing.T) {
	office := netip.MustParseAddr("198.51.100.23")
	rules := []CustomRule{
		{Name: "office", Priority: 1, Action: ActionAllow, Match: []Condition{cond("remote_addr", "ip_match", "198.51.100.0/24", "2001:db8::/32")}},
		{Name: "admin", Priority: 10, Action: ActionBlock, Match: []Condition{
			{Variable: "path", Operator: "begins_with", Values: []string{"/admin"}, Transforms: []string{"lowercase"}}}},
		{Name: "bad-header", Priority: 20, Action: ActionBlock, Match: []Condition{cond("header:X-Debug", "equals", "on", "1")}},
		{Name: "api-no-token", Priority: 30, Action: ActionBlock, Match: []Condition{
			cond("path", "begins_with", "/api/"),
			{Variable: "header:Authorization", Operator: "any", Negate: true}}},
		{Name: "old-ua", Priority: 40, Action: ActionBlock, Match: []Condition{cond("user_agent", "regex", `MSIE [5-8]\.`)}},
		{Name: "utm", Priority: 50, Action: ActionLog, Match: []Condition{cond("query_string", "contains", "utm_source=")}},
		{Name: "beta-cookie", Priority: 60, Action: ActionBlock, Match: []Condition{
			{Variable: "cookie:beta", Operator: "equals", Values: []string{"yes"}, Transforms: []string{"url_decode", "trim", "lowercase"}}}},
		{Name: "post-only", Priority: 70, Action: ActionBlock, Match: []Condition{
			cond("request_method", "equals", "DELETE"), cond("request_uri", "ends_with", "?force=1")}},
	}
	f := mustNew(t, Config{Mode: "block", CustomRules: rules})
	if f.Costly() {
		t.Error("custom rules alone are Costly; they must stay on the event loop")
	}
	auth := with(firefoxHeaders, "Authorization", "Bearer x")
	cases := []struct {
		name, method, target string
		headers              map[string]string
		client               netip.Addr
		rule                 string
		block                bool
	}{
		{"page", "GET", "/", firefoxHeaders, publicClient, "", false},
		{"admin", "GET", "/Admin/users", firefoxHeaders, publicClient, "custom-admin", true},
		{"admin from the office", "GET", "/admin/users", firefoxHeaders, office, "custom-office", false},
		{"header", "GET", "/", with(firefoxHeaders, "X-Debug", "1"), publicClient, "custom-bad-header", true},
		{"header other value", "GET", "/", with(firefoxHeaders, "X-Debug", "off"), publicClient, "", false},
		{"api without a token", "GET", "/api/cart", firefoxHeaders, publicClient, "custom-api-no-token", true},
		{"api with a token", "GET", "/api/cart", auth, publicClient, "", false},
		{"regex", "GET", "/", with(firefoxHeaders, "User-Agent", "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)"), publicClient, "custom-old-ua", true},
		{"log only", "GET", "/?utm_source=mail", firefoxHeaders, publicClient, "custom-utm", false},
		{"log then block: the block is reported", "GET", "/admin?utm_source=mail", firefoxHeaders, publicClient, "custom-admin", true},
		{"cookie transforms", "GET", "/", with(firefoxHeaders, "Cookie", "a=1; beta=%20YES%20"), publicClient, "custom-beta-cookie", true},
		{"all conditions", "DELETE", "/x?force=1", firefoxHeaders, publicClient, "custom-post-only", true},
		{"one condition only", "DELETE", "/x", firefoxHeaders, publicClient, "", false},
	}
	for _, c := range cases {
		r := request(t, c.method, c.target, c.headers, "")
		rule, block := f.Inspect(r, c.client)
		if rule != c.rule || block != c.block {
			t.Errorf("%s: Inspect = %q, %v; want %q, %v", c.name, rule, block, c.rule, c.block)
		}
	}
	for rule, want := range map[string]bool{"custom-office": true, "custom-admin": false, "custom-utm": false, "office": false, "": false} {
		if got := f.Allows(rule); got != want {
			t.Errorf("Allows(%q) = %v; want %v", rule, got, want)
		}
	}
	if (*Firewall)(nil).Allows("custom-office") {
		t.Error("a nil Firewall allows")
	}
}

// TestCustomRulesPriority: the rule of lowest priority decides, whatever
// the written order; allow before the managed rules skips them.
func TestCustomRulesPriority(t *testing.T) {
	block := CustomRule{Name: "block-all", Priority: 5, Action: ActionBlock, Match: []Condition{cond("path", "begins_with", "/")}}
	allow := CustomRule{Name: "allow-health", Priority: 2, Action: ActionAllow, Match: []Condition{cond("path", "equals", "/healthz")}}
	f := mustNew(t, Config{Mode: "block", Rules: []string{"bad-bots", "scanners"}, CustomRules: []CustomRule{block, allow}})
	if rule, b := f.Inspect(request(t, "GET", "/healthz", nil, ""), publicClient); rule != "custom-allow-health" || b {
		t.Errorf("allow at priority 2: Inspect = %q, %v; want the allow rule, served (bad-bots skipped too)", rule, b)
	}
	if rule, b := f.Inspect(request(t, "GET", "/other", firefoxHeaders, ""), publicClient); rule != "custom-block-all" || !b {
		t.Errorf("block at priority 5: Inspect = %q, %v", rule, b)
	}
	logged := CustomRule{Name: "log-all", Priority: 1, Action: ActionLog, Match: []Condition{cond("request_method", "equals", "GET")}}
	f = mustNew(t, Config{Mode: "block", CustomRules: []CustomRule{block, allow, logged}})
	if rule, b := f.Inspect(request(t, "GET", "/healthz", nil, ""), publicClient); rule != "custom-log-all" || b {
		t.Errorf("log at 1, allow at 2: Inspect = %q, %v; want the log match reported, served", rule, b)
	}
	allow.Priority = 9
	f = mustNew(t, Config{Mode: "block", CustomRules: []CustomRule{block, allow}})
	if rule, _ := f.Inspect(request(t, "GET", "/healthz", nil, ""), publicClient); rule != "custom-block-all" {
		t.Errorf("block at 5 before allow at 9: Inspect = %q", rule)
	}
}

// TestCustomRulesDetect: detect mode reports the rule and serves.
func TestCustomRulesDetect(t *testing.T) {
	rules := []CustomRule{{Name: "admin", Priority: 1, Action: ActionBlock, Match: []Condition{cond("path", "begins_with", "/admin")}}}
	f := mustNew(t, Config{Mode: "detect", CustomRules: rules})
	if rule, block := f.Inspect(request(t, "GET", "/admin", firefoxHeaders, ""), publicClient); rule != "custom-admin" || block {
		t.Errorf("detect: Inspect = %q, %v; want custom-admin, false", rule, block)
	}
}

// TestCustomAllowSkipsTheCRS: an office range allowed before owasp-core
// may send what the CRS refuses.
func TestCustomAllowSkipsTheCRS(t *testing.T) {
	rules := []CustomRule{{Name: "office", Priority: 1, Action: ActionAllow, Match: []Condition{cond("remote_addr", "ip_match", "198.51.100.0/24")}}}
	f := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}, CustomRules: rules})
	if !f.Costly() {
		t.Error("owasp-core on: Costly = false")
	}
	sqli := "/products?id=1'%20OR%201=1--"
	if rule, b := f.Inspect(request(t, "GET", sqli, firefoxHeaders, ""), netip.MustParseAddr("::ffff:198.51.100.9")); rule != "custom-office" || b {
		t.Errorf("from the office: Inspect = %q, %v; want the allow rule, served", rule, b)
	}
	if rule, block := f.Inspect(request(t, "GET", sqli, firefoxHeaders, ""), publicClient); !strings.HasPrefix(rule, "crs-942") || !block {
		t.Errorf("from elsewhere: Inspect = %q, %v; want a crs-942 block", rule, block)
	}
}

func TestCustomRuleErrorsNameTheField(t *testing.T) {
	ok := cond("path", "equals", "/")
	rule := func(name string, prio int, action string, m ...Condition) CustomRule {
		return CustomRule{Name: name, Priority: prio, Action: action, Match: m}
	}
	cases := []struct {
		rules     []CustomRule
		msg, hint string
	}{
		{[]CustomRule{rule("a", 1, "block", ok), rule("b", 2, "block", ok), rule("c", 3, "block", cond("path", "like", "x"))},
			`edge.waf.custom_rules[2].match[0].operator: "like" is not an operator`, "use equals, contains, begins_with"},
		{[]CustomRule{rule("Block Admin", 1, "block", ok)}, `edge.waf.custom_rules[0].name: "Block Admin" is not a rule name`, "lowercase"},
		{[]CustomRule{rule("a", 1, "block", ok), rule("a", 2, "block", ok)}, `edge.waf.custom_rules[1].name: duplicate name "a" (also custom_rules[0])`, "unique"},
		{[]CustomRule{rule("a", 1, "block", ok), rule("b", 1, "block", ok)}, `edge.waf.custom_rules[1].priority: 1 is also custom_rules[0]'s priority`, "own priority"},
		{[]CustomRule{rule("a", 1, "deny", ok)}, `edge.waf.custom_rules[0].action: "deny" is not an action`, "block, allow or log"},
		{[]CustomRule{rule("a", 1, "block")}, `edge.waf.custom_rules[0].match: has 0 conditions`, "all must hold"},
		{[]CustomRule{rule("a", 1, "block", cond("body", "equals", "x"))}, `edge.waf.custom_rules[0].match[0].variable: "body" is not a variable`, "header:NAME"},
		{[]CustomRule{rule("a", 1, "block", cond("header:", "equals", "x"))}, `edge.waf.custom_rules[0].match[0].variable: "header:" is not a variable`, ""},
		{[]CustomRule{rule("a", 1, "block", cond("path", "regex", "(a"))}, `edge.waf.custom_rules[0].match[0].values[0]: "(a" is not a regular expression`, "RE2"},
		{[]CustomRule{rule("a", 1, "block", cond("path", "regex", "a(?=b)"))}, `edge.waf.custom_rules[0].match[0].values[0]: "a(?=b)" is not a regular expression`, "lookarounds"},
		{[]CustomRule{rule("a", 1, "block", cond("path", "regex", strings.Repeat("a", MaxRegexLen+1)))}, `edge.waf.custom_rules[0].match[0].values[0]: the regex is 513 bytes; at most 512`, ""},
		{[]CustomRule{rule("a", 1, "block", cond("remote_addr", "ip_match", "10.0.0.0/33"))}, `edge.waf.custom_rules[0].match[0].values[0]: "10.0.0.0/33" is not an IP address or range`, "198.51.100.0/24"},
		{[]CustomRule{rule("a", 1, "block", cond("path", "ip_match", "10.0.0.0/8"))}, `edge.waf.custom_rules[0].match[0].operator: ip_match does not apply to path`, "remote_addr"},
		{[]CustomRule{rule("a", 1, "block", cond("path", "equals"))}, `edge.waf.custom_rules[0].match[0].values: has 0 values`, "any of them"},
		{[]CustomRule{rule("a", 1, "block", cond("header:X-A", "any", "x"))}, `edge.waf.custom_rules[0].match[0].values: any takes no values`, "exists"},
		{[]CustomRule{rule("a", 1, "block", Condition{Variable: "path", Operator: "equals", Values: []string{"/"}, Transforms: []string{"lower"}})},
			`edge.waf.custom_rules[0].match[0].transforms[0]: "lower" is not a transform`, "lowercase, trim, url_decode"},
	}
	for _, c := range cases {
		f, err := New(Config{Mode: "block", CustomRules: c.rules})
		if f != nil || err == nil || !strings.HasPrefix(err.Error(), c.msg) {
			t.Errorf("New(%s) = %v, %v; want error %q", c.msg, f, err, c.msg)
			continue
		}
		if usererr.KindOf(err) != usererr.Usage || !strings.Contains(usererr.HintOf(err), c.hint) {
			t.Errorf("%q: kind %v, hint %q; want Usage and a hint with %q", c.msg, usererr.KindOf(err), usererr.HintOf(err), c.hint)
		}
	}
	if errs := CheckRules([]int{1}, []CustomRule{rule("a", 1, "x", ok)}); len(errs) != 2 {
		t.Errorf("CheckRules: %v; want both problems", errs)
	}
}

func TestURLDecode(t *testing.T) {
	for in, want := range map[string]string{"": "", "a+b": "a b", "%41%2f%zz%": "A/%zz%", "%4": "%4", "%e2%82%ac": "€", "plain": "plain"} {
		if got := urlDecode(in); got != want {
			t.Errorf("urlDecode(%q) = %q; want %q", in, got, want)
		}
	}
}
