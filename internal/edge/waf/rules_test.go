package waf

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

func TestOffOrEmptyIsNil(t *testing.T) {
	for _, c := range []Config{{}, {Mode: "off", Rules: []string{"owasp-core"}}, {Mode: "block"}, {Mode: "detect", Rules: []string{}}} {
		f, err := New(c)
		if f != nil || err != nil {
			t.Errorf("New(%+v) = %v, %v; want nil, nil", c, f, err)
		}
		if rule, block := f.Inspect(request(t, "GET", "/?id=1'%20OR%201=1--", nil, ""), publicClient); rule != "" || block {
			t.Errorf("nil Firewall: Inspect = %q, %v", rule, block)
		}
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	cases := []struct {
		c         Config
		msg, hint string
	}{
		{Config{Mode: "enforce"}, `edge.waf.mode: "enforce" is not a mode`, "off, detect or block"},
		{Config{Mode: "block", Rules: []string{"owasp-core", "foo"}},
			`edge.waf.rules[1]: "foo" is not a rule set; use owasp-core, bad-bots or scanners`, ""},
		{Config{Mode: "block", GeoAllow: []string{"ZA", "za"}, Geo: &GeoDB{}}, `edge.waf.geo_allow[1]: "za" is not a country code`, "ISO 3166"},
		{Config{Mode: "block", GeoDeny: []string{"KPX"}, Geo: &GeoDB{}}, `edge.waf.geo_deny[0]: "KPX" is not a country code`, "ISO 3166"},
		{Config{Mode: "block", GeoAllow: []string{"ZA"}, GeoDeny: []string{"KP"}, Geo: &GeoDB{}}, "edge.waf: geo_allow and geo_deny exclude each other", "either"},
		{Config{Mode: "block", GeoDeny: []string{"KP"}}, "edge.waf.geo_deny needs a GeoIP database", "--geoip-db"},
	}
	for _, c := range cases {
		f, err := New(c.c)
		if f != nil || err == nil || err.Error() != c.msg {
			t.Errorf("New(%+v) = %v, %v; want error %q", c.c, f, err, c.msg)
			continue
		}
		if usererr.KindOf(err) != usererr.Usage || !strings.Contains(usererr.HintOf(err), c.hint) {
			t.Errorf("%q: kind %v, hint %q; want Usage and a hint with %q", c.msg, usererr.KindOf(err), usererr.HintOf(err), c.hint)
		}
	}
}

// TestEveryScannerOfTheCRSListIsCaught builds a User-Agent around each
// phrase of CRS 913100's data file, in another case than the file's.
func TestEveryScannerOfTheCRSListIsCaught(t *testing.T) {
	data, err := coreruleset.FS.(interface{ ReadFile(string) ([]byte, error) }).ReadFile(scannerData)
	if err != nil {
		t.Fatal(err)
	}
	f := mustNew(t, Config{Mode: "block", Rules: []string{"scanners"}})
	n := 0
	for s := bufio.NewScanner(bytes.NewReader(data)); s.Scan(); {
		p := strings.TrimSpace(s.Text())
		if p == "" || p[0] == '#' {
			continue
		}
		n++
		ua := "Mozilla/5.0 (compatible; " + strings.ToUpper(p) + "/2.1)"
		if rule, block := f.Inspect(request(t, "GET", "/", with(firefoxHeaders, "User-Agent", ua), ""), publicClient); rule != RuleScanner || !block {
			t.Errorf("User-Agent %q: Inspect = %q, %v; want scanner, true", ua, rule, block)
		}
	}
	if n < 50 {
		t.Fatalf("only %d phrases in %s", n, scannerData)
	}
}

func TestRuleSetsAreIndependent(t *testing.T) {
	sqlmap := with(chromeHeaders, "User-Agent", "sqlmap/1.8.11#stable (https://sqlmap.org)")
	emptyUA := with(chromeHeaders, "User-Agent", "")
	cases := []struct {
		rules   []string
		headers map[string]string
		target  string
		want    string
	}{
		{[]string{"scanners"}, sqlmap, "/", RuleScanner},
		{[]string{"scanners"}, chromeHeaders, "/", ""},
		{[]string{"scanners"}, emptyUA, "/", ""},
		{[]string{"scanners"}, chromeHeaders, "/?id=1'%20OR%201=1--", ""},
		{[]string{"bad-bots"}, emptyUA, "/", RuleBadBot},
		{[]string{"bad-bots"}, with(chromeHeaders, "User-Agent", " "), "/", ""},
		{[]string{"bad-bots"}, sqlmap, "/", ""},
		{[]string{"owasp-core"}, sqlmap, "/", ""},  // CRS 913 belongs to scanners
		{[]string{"owasp-core"}, emptyUA, "/", ""}, // 920330 (empty) alone scores below the threshold
		{[]string{"bad-bots", "scanners"}, sqlmap, "/", RuleScanner},
	}
	for _, c := range cases {
		f := mustNew(t, Config{Mode: "block", Rules: c.rules})
		r := request(t, "GET", c.target, c.headers, "")
		if rule, _ := f.Inspect(r, publicClient); rule != c.want {
			t.Errorf("rules %v, User-Agent %q, %s: Inspect = %q; want %q", c.rules, r.Header.Values("User-Agent"), c.target, rule, c.want)
		}
	}
}

func TestMissingUserAgentIsABadBot(t *testing.T) {
	f := mustNew(t, Config{Mode: "block", Rules: []string{"bad-bots"}})
	r := request(t, "GET", "/", map[string]string{"Accept": "*/*"}, "")
	if rule, block := f.Inspect(r, publicClient); rule != RuleBadBot || !block {
		t.Errorf("no User-Agent: Inspect = %q, %v; want bad-bot, true", rule, block)
	}
}

// TestRuleNeverHoldsRequestData sends secrets in cookies, Authorization and
// the attack itself: the rule is one of the fixed id shapes, never data.
func TestRuleNeverHoldsRequestData(t *testing.T) {
	const secret = "s3cr3t-T0KEN-value"
	f := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core", "bad-bots", "scanners"}})
	hs := []map[string]string{
		with(chromeHeaders, "Cookie", "session="+secret+"' OR '1'='1"),
		with(chromeHeaders, "Authorization", "Bearer "+secret+"<script>alert(1)</script>"),
		with(chromeHeaders, "User-Agent", "nikto "+secret),
	}
	for _, h := range hs {
		r := request(t, "GET", "/?token="+secret, h, "")
		rule, _ := f.Inspect(r, publicClient)
		if !ruleShape.MatchString(rule) || rule == "" || strings.Contains(rule, secret) {
			t.Errorf("Inspect = %q; want a rule id of a fixed shape", rule)
		}
	}
}

// ruleShape is every rule id Inspect may return.
var ruleShape = regexp.MustCompile(`^(|crs-9\d{5}|waf-\d{1,9}|geo-[A-Z]{2}|custom-[a-z0-9-]{1,40}|scanner|bad-bot|waf-error|waf-oversize)$`)

func TestCompiledRulesAreShared(t *testing.T) {
	a := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core"}})
	b := mustNew(t, Config{Mode: "detect", Rules: []string{"owasp-core", "scanners"}})
	if a.crs == nil || a.crs != b.crs {
		t.Fatalf("two Firewalls compiled the CRS twice: %p, %p", a.crs, b.crs)
	}
}

// TestConcurrentInspect: one Firewall inspects from several goroutines at
// once with the answers it gives alone, and (under -race) without a data
// race. Twice as many goroutines as can run at once, at most 8: more only
// queue behind them, and every inspection of the CRS costs a third of a
// second under -race.
func TestConcurrentInspect(t *testing.T) {
	t.Parallel()
	f := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core", "bad-bots", "scanners"}})
	as := attacks()
	n := min(8, 2*runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	errs := make(chan error, 2*n*len(as))
	for g := range n {
		wg.Go(func() {
			for i, a := range as {
				a = as[(i+g)%len(as)]
				if rule, _ := f.Inspect(a.request(t), publicClient); rule != a.rule {
					errs <- fmt.Errorf("%s: %q, want %q", a.name, rule, a.rule)
				}
				if rule, _ := f.Inspect(request(t, "GET", "/assets/app.3f9a.js", chromeHeaders, ""), publicClient); rule != "" {
					errs <- fmt.Errorf("clean request: %q", rule)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestCostlyOnlyWithTheCRS: the edge moves an environment off its event
// loop only for owasp-core; the cheap sets stay on it.
func TestCostlyOnlyWithTheCRS(t *testing.T) {
	for _, c := range []struct {
		rules  []string
		costly bool
	}{{[]string{"scanners", "bad-bots"}, false}, {[]string{"owasp-core"}, true}, {[]string{"bad-bots", "owasp-core"}, true}} {
		f, err := New(Config{Mode: "detect", Rules: c.rules})
		if err != nil {
			t.Fatal(err)
		}
		if f.Costly() != c.costly {
			t.Errorf("%q: Costly = %v", c.rules, f.Costly())
		}
	}
	var none *Firewall
	if none.Costly() {
		t.Error("a nil Firewall is costly")
	}
}
